"""Overwrite, rollback, reading old versions (batch_id, as_of, pin), CAS."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import batchmeta as bm
from conftest import Env

P = [{"date": "2016-10-31"}]


def frame(v: int) -> pd.DataFrame:
    return pd.DataFrame({"item": ["a", "b", "c"], "price": [v * 1.0, v * 2.0, v * 3.0]})


def load(env: Env, **kw: object) -> pd.DataFrame:
    return env.client.load_dataframe(env.ns, "t", partitions=["2016-10-31"], **kw).drop(columns="date")  # type: ignore[call-overload,no-any-return]


def test_overwrite_then_rollback_returns_the_old_frame(env: Env) -> None:
    r1 = env.client.store_dataframe(frame(1), env.ns, "t", P)
    r2 = env.client.store_dataframe(frame(2), env.ns, "t", ["2016-10-31"])
    assert r2.batch_id > r1.batch_id
    pd.testing.assert_frame_equal(load(env), frame(2))

    events = env.client.rollback(env.ns, "t", ["2016-10-31"], message="bad prices")
    assert events[0].action == "rollback" and events[0].to_batch == r1.batch_id
    pd.testing.assert_frame_equal(load(env), frame(1))

    h = env.client.history(env.ns, "t", "2016-10-31")
    assert [e.action for e in h] == ["rollback", "publish", "publish"]
    assert [p.current_batch for p in env.client.partitions(env.ns, "t")] == [r1.batch_id]
    # Nothing was deleted: the rolled-back batch is still readable.
    pd.testing.assert_frame_equal(load(env, batch_id=r2.batch_id), frame(2))


def test_batch_id_as_of_and_pin_reads(env: Env) -> None:
    r1 = env.client.store_dataframe(frame(1), env.ns, "t", P)
    first_publish = env.client.history(env.ns, "t", "2016-10-31")[0].at
    assert first_publish is not None and first_publish.utcoffset() == dt.timedelta(0)
    env.client.store_dataframe(frame(2), env.ns, "t", P)

    pd.testing.assert_frame_equal(load(env, batch_id=r1.batch_id), frame(1))
    pd.testing.assert_frame_equal(load(env, as_of=first_publish), frame(1))
    pd.testing.assert_frame_equal(load(env, as_of=first_publish.isoformat()), frame(1))

    pin = env.client.pin(env.ns, "t", "weekly_report", "2016-10-31", batch_id=r1.batch_id, reason="audit")
    assert pin.batch_id == r1.batch_id and pin.reason == "audit"
    pd.testing.assert_frame_equal(load(env, pin="weekly_report"), frame(1))
    assert [p.name for p in env.client.pins(env.ns, "t")] == ["weekly_report"]
    env.client.unpin(env.ns, "t", "weekly_report")
    assert env.client.pins(env.ns, "t") == []
    with pytest.raises(bm.NotFoundError):
        load(env, pin="weekly_report")


def test_conflict_names_the_current_batch(env: Env) -> None:
    r1 = env.client.store_dataframe(frame(1), env.ns, "t", P, expected_batch=bm.NO_BATCH)
    r2 = env.client.store_dataframe(frame(2), env.ns, "t", P, expected_batch=r1.batch_id)
    before = env.snapshot()
    with pytest.raises(bm.ConflictError) as e:
        env.client.store_dataframe(frame(3), env.ns, "t", P, expected_batch=r1.batch_id)
    assert e.value.current_batch == r2.batch_id
    assert e.value.code == "conflict"
    assert env.snapshot() == before
    pd.testing.assert_frame_equal(load(env), frame(2))
    with pytest.raises(bm.ConflictError) as e2:
        env.client.store_dataframe(frame(3), env.ns, "t", P, expected_batch=bm.NO_BATCH)
    assert e2.value.current_batch == r2.batch_id


def test_stage_then_publish(env: Env) -> None:
    r = env.client.store_dataframe(frame(1), env.ns, "t", P, publish=False)
    assert not r.published and r.batches[0].state == "staged" and r.event_id is None
    assert env.client.partitions(env.ns, "t") == []
    commit = env.client.publish(env.ns, "t", {"2016-10-31": r.batch_id}, message="audited")
    assert [e.to_batch for e in commit.events] == [r.batch_id]
    pd.testing.assert_frame_equal(load(env), frame(1))
    got = env.client.wait(env.ns, "t", "2016-10-31", timeout=1)
    assert got is not None and got.batch_id == r.batch_id
    assert env.client.wait(env.ns, "t", "2016-10-31", after=r.batch_id, timeout=0.2) is None


def test_listings_and_events(env: Env) -> None:
    env.client.store_dataframe(frame(1), env.ns, "t", P, message="first", metadata={"job": "nightly"})
    assert [t.name for t in env.client.tables(env.ns)] == ["t"]
    ev = env.client.events(env.ns)
    assert isinstance(ev, pd.DataFrame)
    assert "publish" in set(ev["action"]) and "create_table" in set(ev["action"])
    assert str(ev["at"].dtype).startswith("datetime64")
    files = env.client.files(env.ns, "t", ["2016-10-31"])
    assert len(files) == 1 and files[0].endswith(".parquet")
    b = env.client.batches(env.ns, "t", "2016-10-31")
    assert b[0].message == "first"


def test_create_table_explicit(env: Env) -> None:
    df = pd.DataFrame({"day": ["2016-10-31"], "n": [1]})
    info = env.client.create_table(env.ns, "c", df, {"day": "date"}, description="counts")
    assert info.partition_keys == [("day", "date")]
    assert [c for c, _ in info.columns] == ["n"]
    with pytest.raises(bm.AlreadyExistsError):
        env.client.create_table(env.ns, "c", df, {"day": "date"})
    env.client.create_table(env.ns, "c", df, {"day": "date"}, exist_ok=True)
    env.client.store_dataframe(df, env.ns, "c", ["2016-10-31"])
    out = env.client.load_dataframe(env.ns, "c")
    assert out["n"].tolist() == [1]


def test_partitions_lists_every_partition_past_one_page(env: Env) -> None:
    """More partitions than one page (1,000) of the catalog: all come back,
    in key order, unless a limit is given."""
    if env.mode != "embedded":
        pytest.skip("one mode is enough for 1,200 partitions")
    df = pd.DataFrame({"n": range(1200), "v": [1.0] * 1200})
    env.client.store_dataframe(df, env.ns, "many", partition_by=["n"])
    parts = env.client.partitions(env.ns, "many")
    assert [p.partition for p in parts] == [f"n={i}" for i in range(1200)]
    assert len(env.client.partitions(env.ns, "many", limit=1100)) == 1100
