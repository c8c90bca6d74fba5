"""Lineage by batch through the wheel: a client's loads become its stores'
inputs, chains a -> b -> c, a rollback's affected batches, stale batches,
and refused inputs. Every test runs embedded and through a real server."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pandas as pd
import pytest

import batchmeta as bm
from catalogs import Server, fresh_postgres_database, running_server
from conftest import Env

P = "2016-10-31"


def frame(tag: str, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"id": list(range(n)), "tag": [tag] * n})


def store(env: Env, table: str, tag: str, **kw: object) -> str:
    return env.client.store_dataframe(frame(tag), env.ns, table, partitions=[{"day": P}], **kw).batch_id


def load(env: Env, table: str, **kw: object) -> pd.DataFrame:
    return env.client.load_dataframe(env.ns, table, partitions=[P], **kw)


def inputs(env: Env, table: str, batch_id: str) -> list[str]:
    up = env.client.lineage(env.ns, table, P, batch_id=batch_id, depth=1)
    return sorted(n["batch_id"] for n in up)


def seed(env: Env, *tables: str) -> dict[str, str]:
    """A fresh client (so a run of its own) stores one batch into each table."""
    writer = bm.Client(env.client.url, direct_data=env.mode != "remote_upload")
    return {t: writer.store_dataframe(frame(t), env.ns, t, partitions=[{"day": P}]).batch_id for t in tables}


def test_a_store_records_exactly_the_batches_loaded_since_the_last_store(env: Env) -> None:
    first = seed(env, "a", "x")
    load(env, "a")
    load(env, "x")
    b1 = store(env, "b", "b1")
    assert inputs(env, "b", b1) == sorted([first["a"], first["x"]])
    # A second store in the same run without new loads: the same inputs.
    b2 = store(env, "b", "b2")
    assert inputs(env, "b", b2) == sorted([first["a"], first["x"]])
    # The run id is on the publish event.
    moves = env.client.history(env.ns, "b", P)
    assert [e.metadata.get("run_id") for e in moves] == [env.client.run_id] * 2, moves
    # Explicit inputs add; track_reads=False records only them.
    load(env, "a")
    b3 = store(env, "b", "b3", inputs=[first["x"]])
    assert inputs(env, "b", b3) == sorted([first["a"], first["x"]])
    b4 = store(env, "b", "b4", inputs=[first["x"]], track_reads=False)
    assert inputs(env, "b", b4) == [first["x"]]


def test_a_load_of_a_pinned_or_as_of_version_records_the_batch_it_read(env: Env) -> None:
    old = seed(env, "a")["a"]
    env.client.pin(env.ns, "a", "keep", P)
    t_old = dt.datetime.now(dt.timezone.utc)
    seed(env, "a")
    load(env, "a", pin="keep")
    assert inputs(env, "b", store(env, "b", "from-pin")) == [old]
    load(env, "a", as_of=t_old)
    assert inputs(env, "b", store(env, "b", "from-as-of")) == [old]
    load(env, "a", batch_id=old)
    assert inputs(env, "b", store(env, "b", "from-batch")) == [old]


def test_rolling_back_a_names_b_and_c_until_they_are_rebuilt(env: Env) -> None:
    a0 = seed(env, "a")["a"]
    a1 = seed(env, "a")["a"]
    load(env, "a")
    b = store(env, "b", "b")
    load(env, "b")
    c = store(env, "c", "c")
    down = env.client.lineage(env.ns, "a", P, direction="down")
    assert [(n["table"], n["batch_id"], n["depth"], n["current"]) for n in down] == [
        (f"{env.ns}.b", b, 1, True),
        (f"{env.ns}.c", c, 2, True),
    ]
    dry = env.client.rollback_impact(env.ns, "a", P)
    assert [n["batch_id"] for n in dry["affected"]] == [b, c]
    assert [r["batch_id"] for r in dry["retired"]] == [a1]
    [event] = env.client.rollback(env.ns, "a", partitions=[P])
    assert event.to_batch == a0
    assert [n["batch_id"] for n in event.affected] == [b, c]
    assert [s["batch_id"] for s in env.client.stale(env.ns)] == [b]
    # Rebuilt from the rolled-back a: nothing current is built from a1.
    load(env, "a")
    store(env, "b", "b-again")
    load(env, "b")
    store(env, "c", "c-again")
    after = env.client.lineage(env.ns, "a", P, batch_id=a1, direction="down")
    assert after and not any(n["current"] for n in after)
    assert env.client.stale(env.ns) == []
    assert env.client.rollback_impact(env.ns, "b", P)["affected"] != []  # c' was built from b'


@pytest.mark.parametrize(
    "given, code",
    [
        (["20000101000000000001"], "input_batch_not_found"),
        ([f"2000010100000{i:07d}" for i in range(1001)], "too_many_inputs"),
        (["yesterday"], "invalid_batch_id"),
    ],
)
def test_bad_inputs_are_refused_and_record_nothing(env: Env, given: list[str], code: str) -> None:
    seed(env, "b")
    before = env.snapshot()
    with pytest.raises(bm.errors.InvalidInputError) as e:
        store(env, "b", "bad", inputs=given)
    assert e.value.code == code
    assert env.snapshot() == before


def test_a_staged_input_is_refused_and_records_nothing(env: Env) -> None:
    seed(env, "b")
    staged = store(env, "b", "staged", publish=False)
    before = env.snapshot()
    with pytest.raises(bm.errors.InvalidInputError) as e:
        store(env, "b", "bad", inputs=[staged])
    assert e.value.code == "input_not_committed"
    assert env.snapshot() == before


def test_a_batch_as_its_own_input_is_a_400_over_http(server: Server) -> None:
    """The one cycle a request can name: a staged batch published with
    itself as an input (HTTP; the clients' stores cannot name their own
    batch)."""
    ns = "t" + uuid.uuid4().hex[:12]
    client = bm.Client(server.url, direct_data=False)
    client.create_namespace(ns)
    staged = client.store_dataframe(frame("s"), ns, "b", partitions=[{"day": P}], publish=False).batch_id
    events = len(client.events(ns))
    body = {"items": [{"partition": f"day={P}", "batch_id": staged}], "inputs": [staged]}
    req = urllib.request.Request(
        f"{server.url}/v1/namespaces/{ns}/tables/b/publish",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
    assert json.loads(e.value.read())["error"]["code"] == "lineage_cycle"
    assert len(client.events(ns)) == events
    # Nothing was recorded: published without inputs, it has none.
    client.publish(ns, "b", {P: staged})
    assert client.lineage(ns, "b", P) == []


def test_a_bad_lineage_query_is_a_typed_error(env: Env) -> None:
    seed(env, "a")
    with pytest.raises(bm.errors.InvalidInputError) as e:
        env.client.lineage(env.ns, "a", P, depth=0)
    assert e.value.code == "invalid_limit"
    with pytest.raises(bm.errors.InvalidInputError):
        env.client.lineage(env.ns, "a", P, direction="sideways")
    with pytest.raises(bm.errors.NotFoundError):
        env.client.lineage(env.ns, "nope", P)


# ---- the same chain on a server backed by PostgreSQL and S3 (moto)
PG = os.environ.get("BATCHMETA_TEST_POSTGRES_URL", "")
S3 = os.environ.get("BATCHMETA_TEST_S3_URL", "")


@pytest.mark.skipif(not (PG and S3), reason="BATCHMETA_TEST_POSTGRES_URL / _S3_URL not set: run via scripts/with-services")
def test_lineage_on_postgres_and_s3(tmp_path: Path) -> None:
    warehouse = f"{S3.rstrip('/')}/lin-{uuid.uuid4().hex[:12]}"
    with running_server(tmp_path, database_url=fresh_postgres_database(PG), warehouse=warehouse, ready="/readyz") as srv:
        ns = "l" + uuid.uuid4().hex[:10]
        first = bm.Client(srv.url, direct_data=False)
        first.create_namespace(ns)
        a0 = first.store_dataframe(frame("a0"), ns, "a", partitions=[{"day": P}]).batch_id
        a1 = first.store_dataframe(frame("a1"), ns, "a", partitions=[{"day": P}]).batch_id
        job = bm.Client(srv.url, direct_data=False, run_id="pg-run", job="daily")
        job.load_dataframe(ns, "a", partitions=[P])
        b = job.store_dataframe(frame("b"), ns, "b", partitions=[{"day": P}]).batch_id
        job.load_dataframe(ns, "b", partitions=[P])
        c = job.store_dataframe(frame("c"), ns, "c", partitions=[{"day": P}]).batch_id
        assert [n["batch_id"] for n in job.lineage(ns, "c", P)] == [b, a1]
        [event] = first.rollback(ns, "a", [P])
        assert event.to_batch == a0
        assert [n["batch_id"] for n in event.affected] == [b, c]
        assert [e.metadata.get("job") for e in job.history(ns, "c", P)] == ["daily"]
