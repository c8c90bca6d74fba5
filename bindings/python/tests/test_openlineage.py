"""OpenLineage from `meta serve --openlineage-url`: every publish arrives at
a real HTTP receiver (on loopback, in the test) as a RunEvent that the
official client's event model accepts, at least once: while the receiver
is down the events wait in the event log, and a server SIGKILLed before it
delivered sends them after its restart.

Validation: the `openlineage-python` wheel ships no JSON schema file, so
each received event is parsed strictly into its typed (attrs) event model,
whose validators check the spec's types (UUID run id, date-time with a
time, URI producer), and serialized back with its `Serde`: the result must
equal what was received. The `batchmeta` run facet is checked against its
JSON schema (docs/openlineage/BatchmetaRunFacet.json) with jsonschema."""

from __future__ import annotations

import copy
import http.server
import json
import os
import re
import socket
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.base import RunFacet
from openlineage.client.serde import Serde

import batchmeta as bm
from catalogs import REPO, Server, free_port, fresh_postgres_database, meta, running_server

P = "2016-10-31"
FACET_SCHEMA = json.loads((REPO / "docs" / "openlineage" / "BatchmetaRunFacet.json").read_text())


# ---- the receiver


class Receiver:
    """An OpenLineage HTTP endpoint on a fixed loopback port that can be
    down (nothing listens) or refuse (answers 503) for a while."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1/lineage"
        self.events: list[dict[str, Any]] = []
        self.refusals = 0
        self.refused = 0
        self.auth: list[str | None] = []
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    def start(self, refuse_first: int = 0) -> None:
        receiver = self
        self.refusals = refuse_first

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    if receiver.refusals > 0:
                        receiver.refusals -= 1
                        receiver.refused += 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    receiver.events.append(json.loads(body))
                    receiver.auth.append(self.headers.get("Authorization"))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def batch_ids(self) -> list[str]:
        return [o["batchId"] for e in self.received() for o in e["run"]["facets"]["batchmeta"]["outputs"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


def wait_until(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    """Polls `check` until it holds; the timeout only bounds a hang."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def metric(srv: Server, name: str) -> float:
    with urllib.request.urlopen(f"{srv.url}/metrics", timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


# ---- validation


def without_empty_maps(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: without_empty_maps(x) for k, x in v.items() if x != {}}
    if isinstance(v, list):
        return [without_empty_maps(x) for x in v]
    return v


def validate(event: dict[str, Any]) -> RunEvent:
    """Parses `event` strictly into openlineage-python's RunEvent (unknown
    or missing fields raise TypeError, bad values ValueError) and checks
    that it serializes back to exactly `event`; checks the batchmeta facet
    against its JSON schema."""
    d = copy.deepcopy(event)
    if d.pop("schemaURL") != RunEvent._get_schema():
        raise ValueError(f"schemaURL is not {RunEvent._get_schema()}")
    run = d.pop("run")
    facets: dict[str, Any] = run.pop("facets", {})
    parsed_facets = {}
    for name, f in facets.items():
        f = dict(f)
        # A custom facet must carry _producer and _schemaURL (BaseFacet).
        producer, schema_url = f.pop("_producer"), f.pop("_schemaURL")
        if not (isinstance(schema_url, str) and schema_url.startswith(("http://", "https://"))):
            raise ValueError(f"facet {name}: _schemaURL {schema_url!r} is not a URL")
        parsed_facets[name] = RunFacet(producer=producer).with_additional_properties(**f)
    parsed = RunEvent(
        eventType=RunState(d.pop("eventType")),
        eventTime=d.pop("eventTime"),
        producer=d.pop("producer"),
        run=Run(runId=run.pop("runId"), facets=parsed_facets, **run),
        job=Job(**d.pop("job")),
        inputs=[InputDataset(**x) for x in d.pop("inputs")],
        outputs=[OutputDataset(**x) for x in d.pop("outputs")],
        **d,
    )
    # The model adds empty facet maps the event may leave out.
    back = without_empty_maps(Serde.to_dict(parsed))
    back["run"].pop("facets", None)
    sent = without_empty_maps(copy.deepcopy(event))
    sent["run"].pop("facets", None)
    if back != sent:
        raise ValueError(f"the event does not survive the client's model: {back} != {sent}")
    jsonschema.validate(
        facets["batchmeta"], {"$ref": "#/$defs/BatchmetaRunFacet", "$defs": FACET_SCHEMA["$defs"]}
    )
    return parsed


# ---- helpers


def frame(tag: str) -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "tag": [tag] * 3})


def put(client: bm.Client, ns: str, table: str, tag: str) -> str:
    return client.store_dataframe(frame(tag), ns, table, partitions=[{"day": P}]).batch_id


def facet(e: dict[str, Any]) -> dict[str, Any]:
    return dict(e["run"]["facets"]["batchmeta"])


def serving(root: Path, receiver: Receiver, *extra: str, lease: int = 1, **kw: Any) -> Any:
    """A `meta serve` delivering to `receiver`; a short lease lets a
    restarted server take over from a killed one quickly."""
    return running_server(
        root,
        "--openlineage-url",
        receiver.url,
        "--openlineage-lease-secs",
        str(lease),
        "--openlineage-max-backoff-secs",
        "1",
        *extra,
        **kw,
    )


# ---- the tests


def test_each_publish_arrives_as_a_valid_run_event(tmp_path: Path, receiver: Receiver) -> None:
    receiver.start()
    with serving(tmp_path, receiver) as srv:
        ns = "ol" + uuid.uuid4().hex[:8]
        seed = bm.Client(srv.url, direct_data=False)
        seed.create_namespace(ns)
        a = put(seed, ns, "a", "a")
        job = bm.Client(srv.url, direct_data=False, run_id="nightly-1", job="daily")
        job.load_dataframe(ns, "a", partitions=[P])
        b = put(job, ns, "b", "b")
        b2 = put(job, ns, "b", "b2")  # the same run, the same inputs
        run = str(uuid.uuid4())
        other = bm.Client(srv.url, direct_data=False, run_id=run)
        other.load_dataframe(ns, "b", partitions=[P])
        c = put(other, ns, "c", "c")
        wait_until("four events arrived", lambda: len(receiver.received()) >= 4)
        assert metric(srv, "batchmeta_openlineage_delivered_total") >= 4
    events = receiver.received()
    assert [facet(e)["outputs"][0]["batchId"] for e in events] == [a, b, b2, c]
    for e in events:
        validate(e)
        assert e["eventType"] == "COMPLETE"
    dataset_ns = f"batchmeta://{socket.gethostname()}"
    _, eb, eb2, ec = events
    assert eb["inputs"] == [{"namespace": dataset_ns, "name": f"{ns}.a"}]
    assert eb["outputs"] == [{"namespace": dataset_ns, "name": f"{ns}.b"}]
    assert eb["job"] == {"namespace": "batchmeta", "name": "daily"}
    fb = facet(eb)
    assert fb["runId"] == "nightly-1"
    assert [i["batchId"] for i in fb["inputs"]] == [a]
    assert fb["inputs"][0] == {"table": f"{ns}.a", "partition": f"day={P}", "batchId": a}
    assert fb["outputs"][0]["partition"] == f"day={P}"
    # A run id that is no UUID becomes one, the same for each of its publishes.
    assert uuid.UUID(eb["run"]["runId"]) and eb["run"]["runId"] != "nightly-1"
    assert eb2["run"]["runId"] == eb["run"]["runId"]
    assert [i["batchId"] for i in facet(eb2)["inputs"]] == [a]
    assert facet(eb2)["outputs"][0]["previousBatchId"] == b
    # A UUID run id is the run id.
    assert ec["run"]["runId"] == run
    assert [i["batchId"] for i in facet(ec)["inputs"]] == [b2]
    assert receiver.auth == [None] * len(events)


def test_validation_catches_a_broken_event(tmp_path: Path, receiver: Receiver) -> None:
    """The negative control: a real event passes; each break fails."""
    receiver.start()
    with serving(tmp_path, receiver) as srv:
        ns = "ol" + uuid.uuid4().hex[:8]
        client = bm.Client(srv.url, direct_data=False)
        client.create_namespace(ns)
        put(client, ns, "a", "a")
        wait_until("the event arrived", lambda: len(receiver.received()) >= 1)
    good = receiver.received()[0]
    validate(good)

    def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        e = copy.deepcopy(good)
        change(e)
        return e

    breaks: list[Callable[[dict[str, Any]], None]] = [
        lambda e: e.pop("job"),
        lambda e: e.pop("eventTime"),
        lambda e: e.pop("producer"),
        lambda e: e.pop("schemaURL"),
        lambda e: e["run"].pop("runId"),
        lambda e: e["run"].update(runId="nightly-1"),
        lambda e: e.update(eventType="DONE"),
        lambda e: e.update(eventTime="2016-10-31"),
        lambda e: e["job"].pop("name"),
        lambda e: e["outputs"][0].pop("namespace"),
        lambda e: e.update(bogus=1),
        lambda e: e["run"]["facets"]["batchmeta"].pop("_producer"),
        lambda e: e["run"]["facets"]["batchmeta"].pop("_schemaURL"),
        lambda e: e["run"]["facets"]["batchmeta"]["outputs"][0].pop("batchId"),
    ]
    for i, change in enumerate(breaks):
        with pytest.raises((TypeError, ValueError, KeyError, jsonschema.ValidationError)):
            validate(broken(change))
            pytest.fail(f"break {i} passed validation")


def test_events_wait_while_the_receiver_is_down(tmp_path: Path, receiver: Receiver) -> None:
    with serving(tmp_path, receiver) as srv:
        ns = "ol" + uuid.uuid4().hex[:8]
        client = bm.Client(srv.url, direct_data=False)
        client.create_namespace(ns)
        published = [put(client, ns, "a", f"a{i}") for i in range(5)]
        wait_until("a delivery failed", lambda: metric(srv, "batchmeta_openlineage_failed_total") >= 2)
        assert metric(srv, "batchmeta_openlineage_backlog") >= 1
        # Up, but refusing (503) its first two requests: still retried.
        receiver.start(refuse_first=2)
        published += [put(client, ns, "a", "after")]
        wait_until("every publish arrived", lambda: set(published) <= set(receiver.batch_ids()))
        wait_until("the backlog is empty", lambda: metric(srv, "batchmeta_openlineage_backlog") == 0)
    assert receiver.refused == 2
    got = list(dict.fromkeys(receiver.batch_ids()))
    assert [b for b in got if b in published] == published, "in publish order, none lost"
    for e in receiver.received():
        validate(e)


def kill_before_delivery_then_restart(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, fault: str | None = None
) -> tuple[list[str], list[str]]:
    """Publishes while the receiver is down, SIGKILLs the server once a
    delivery has been tried (with `fault` on in it), restarts it (without
    faults) with the receiver up, publishes a marker and waits for it
    (events go out in order, so whatever was to come before it has come).
    Returns the batches published and the batches received."""
    db = f"sqlite://{tmp_path / 'catalog.db'}"
    warehouse = str(tmp_path / "warehouse")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    if fault:
        monkeypatch.setenv("BATCHMETA_FAULTS", fault)
    with serving(tmp_path / "one", receiver, database_url=db, warehouse=warehouse) as srv:
        ns = "ol" + uuid.uuid4().hex[:8]
        client = bm.Client(srv.url, direct_data=False)
        client.create_namespace(ns)
        published = [put(client, ns, "a", f"a{i}") for i in range(4)]
        if fault:
            wait_until("all were 'sent'", lambda: metric(srv, "batchmeta_openlineage_delivered_total") >= 4)
        else:
            wait_until("a delivery failed", lambda: metric(srv, "batchmeta_openlineage_failed_total") >= 1)
        assert srv.proc is not None
        srv.proc.kill()  # SIGKILL: nothing runs after it
        srv.proc.wait()
    monkeypatch.delenv("BATCHMETA_FAULTS", raising=False)
    assert receiver.received() == []
    receiver.start()
    with serving(tmp_path / "two", receiver, database_url=db, warehouse=warehouse) as srv:
        client = bm.Client(srv.url, direct_data=False)
        marker = put(client, ns, "a", "after restart")
        wait_until("the marker arrived", lambda: marker in receiver.batch_ids())
    for e in receiver.received():
        validate(e)
    return [*published, marker], receiver.batch_ids()


def test_a_server_killed_before_delivery_delivers_after_its_restart(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    published, got = kill_before_delivery_then_restart(tmp_path, receiver, monkeypatch)
    assert [b for b in dict.fromkeys(got) if b in published] == published, "in order, none lost"


def test_negative_control_fire_and_forget_loses_the_events(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the test-only fault `openlineage_fire_and_forget` (a failed POST
    counts as sent), the publishes made while the receiver was down are
    missing: the check above must fail."""
    published, got = kill_before_delivery_then_restart(tmp_path, receiver, monkeypatch, "openlineage_fire_and_forget")
    assert got == [published[-1]], "only the marker arrived"
    assert not set(published) <= set(got)


PG = os.environ.get("BATCHMETA_TEST_POSTGRES_URL", "")


@pytest.mark.skipif(not PG, reason="BATCHMETA_TEST_POSTGRES_URL not set: run via scripts/with-services")
def test_two_replicas_on_postgres_deliver_through_one(tmp_path: Path, receiver: Receiver) -> None:
    """Two servers on one PostgreSQL: the first holds the delivery, the
    second delivers nothing while it lives and takes over once it is
    killed."""
    db = fresh_postgres_database(PG)
    warehouse = str(tmp_path / "warehouse")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    receiver.start()
    # A lease long enough that the first server, renewing it every poll,
    # never loses it while it lives.
    lease = 20
    with serving(tmp_path / "one", receiver, database_url=db, warehouse=warehouse, lease=lease) as one:
        ns = "ol" + uuid.uuid4().hex[:8]
        bm.Client(one.url, direct_data=False).create_namespace(ns)
        first = put(bm.Client(one.url, direct_data=False), ns, "a", "first")
        wait_until("the first publish arrived", lambda: first in receiver.batch_ids())
        with serving(tmp_path / "two", receiver, database_url=db, warehouse=warehouse, lease=lease) as two:
            published = [first]
            for i in range(3):
                published.append(put(bm.Client(two.url, direct_data=False), ns, "a", f"two{i}"))
                published.append(put(bm.Client(one.url, direct_data=False), ns, "a", f"one{i}"))
            wait_until("every publish arrived", lambda: set(published) <= set(receiver.batch_ids()))
            assert metric(two, "batchmeta_openlineage_delivered_total") == 0
            assert one.proc is not None
            one.proc.kill()
            one.proc.wait()
            published.append(put(bm.Client(two.url, direct_data=False), ns, "a", "after"))
            wait_until("the second server took over", lambda: published[-1] in receiver.batch_ids())
            assert metric(two, "batchmeta_openlineage_delivered_total") >= 1
    got = receiver.batch_ids()
    assert [b for b in dict.fromkeys(got) if b in published] == published
    for e in receiver.received():
        validate(e)


def test_the_receivers_key_is_sent_and_never_logged(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "olk-" + uuid.uuid4().hex
    monkeypatch.setenv("BATCHMETA_OPENLINEAGE_API_KEY", key)
    receiver.start(refuse_first=1)  # one failure, so that it is logged
    with serving(tmp_path, receiver, database_url=None) as srv:
        ns = "ol" + uuid.uuid4().hex[:8]
        client = bm.Client(srv.url, direct_data=False)
        client.create_namespace(ns)
        put(client, ns, "a", "a")
        wait_until("the event arrived", lambda: len(receiver.received()) >= 1)
        with urllib.request.urlopen(f"{srv.url}/metrics", timeout=5) as r:
            assert key not in r.read().decode()
    assert receiver.auth == [f"Bearer {key}"]
    log = (tmp_path / "server.log").read_text()
    assert "OpenLineage" in log and key not in log


@pytest.mark.parametrize("url", ["ftp://example.com/lineage", "not a url", "http://"])
def test_a_bad_receiver_url_is_refused_at_start(tmp_path: Path, url: str) -> None:
    r = meta(
        "serve",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "--database-url",
        f"sqlite://{tmp_path / 'catalog.db'}",
        "--warehouse",
        str(tmp_path / "warehouse"),
        "--openlineage-url",
        url,
    )
    assert r.returncode == 1, r
    assert "--openlineage-url" in r.stderr and "hint:" in r.stderr, r.stderr
