"""A client generated from docs/openapi.json with openapi-python-client
(installed by scripts/python-build --test) must generate without a single
warning and carry a whole workflow against a real `meta serve` through the
generated code alone: a document that loses a response, a binary body, a
model or a type fails here."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from catalogs import REPO, Server

DOC = REPO / "docs" / "openapi.json"
CONFIG = REPO / "docs" / "openapi-python-client.yaml"
PACKAGE = "batchmeta_client"


def generate(doc: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Runs the generator from the venv pytest runs in."""
    exe = Path(sys.executable).parent / "openapi-python-client"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run scripts/python-build --test")
    return subprocess.run(
        [
            str(exe),
            "generate",
            "--path",
            str(doc),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        cwd=out,
        # Its post-generation hooks run the venv's ruff.
        env={**os.environ, "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=300,
    )


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"openapi-python-client failed:\n{output}"
    assert "warning" not in output.lower(), f"openapi-python-client warned:\n{output}"
    assert "error" not in output.lower(), f"openapi-python-client reported errors:\n{output}"


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported."""
    out = tmp_path_factory.mktemp("openapi-client")
    assert_clean(generate(DOC, out))
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def api(gen: ModuleType, tag: str, operation: str) -> Any:
    """The generated module of one operation (`api/<tag>/<operation_id>.py`)."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")


def ok(response: Any, status: int) -> Any:
    """The parsed body of a response that must have `status`."""
    assert response.status_code == status, (response.status_code, response.content)
    return response.parsed


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_a_broken_document_fails_generation(tmp_path: Path) -> None:
    """The check above can fail: a response without its description (what
    the document had before) makes the generator refuse it."""
    import json

    doc = json.loads(DOC.read_text())
    op = doc["paths"]["/v1/namespaces"]["get"]
    del op["responses"]["200"]["description"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    result = generate(broken, tmp_path)
    with pytest.raises(AssertionError):
        assert_clean(result)


def test_generated_client_workflow(gen: ModuleType, server: Server) -> None:
    m = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    client = gen.Client(base_url=server.url, raise_on_unexpected_status=True)
    ns, part = "oa" + uuid.uuid4().hex[:10], "date=2016-10-31"

    # Create a namespace and a table; the table's Arrow schema comes back typed.
    created = ok(
        api(gen, "namespaces", "create_namespace").sync_detailed(
            client=client, body=m.CreateNamespace(name=ns)
        ),
        201,
    )
    assert created.name == ns
    table = ok(
        api(gen, "tables", "create_table").sync_detailed(
            ns,
            client=client,
            body=m.CreateTable(
                name="sold",
                columns=[
                    m.ColumnDef(name="id", type_="int64"),
                    m.ColumnDef(name="item", type_="string"),
                ],
                partition_keys=[m.KeyDef(name="date")],
            ),
        ),
        201,
    )
    assert isinstance(table.schema, m.ArrowSchema)
    assert [f.name for f in table.schema.fields] == ["id", "item"]
    assert table.schema.fields[0].data_type == "Int64"

    # Stage, upload a Parquet file, publish.
    (staged,) = ok(
        api(gen, "batches", "stage").sync_detailed(
            ns, "sold", client=client, body=m.StageBody(partitions=[part])
        ),
        201,
    )
    first = pa.table({"id": pa.array([1, 2], pa.int64()), "item": ["apple", "pear"]})
    uploaded = ok(
        api(gen, "batches", "upload_data").sync_detailed(
            ns,
            "sold",
            staged.id,
            client=client,
            body=types.File(payload=io.BytesIO(parquet_bytes(first))),
        ),
        200,
    )
    assert len(uploaded.files) == 1
    assert isinstance(uploaded.schema, m.ArrowSchema)
    commit = ok(
        api(gen, "batches", "publish").sync_detailed(
            ns,
            "sold",
            client=client,
            body=m.PublishBody(
                items=[m.PublishItemBody(partition=part, batch_id=staged.id, expected_batch="none")]
            ),
        ),
        200,
    )
    assert len(commit.events) == 1

    # A second version in one call. (The operation also takes an Arrow IPC
    # stream, but the generator keeps one binary body per operation and sends
    # it as the last media type, Parquet.)
    second = pa.table({"id": pa.array([3], pa.int64()), "item": ["plum"]})
    stored = ok(
        api(gen, "batches", "store").sync_detailed(
            ns,
            "sold",
            client=client,
            body=types.File(payload=io.BytesIO(parquet_bytes(second))),
            partition=part,
            expected_batch=staged.id,
        ),
        201,
    )

    # Resolve, then read through the server: Arrow IPC bytes into pyarrow.
    (resolved,) = ok(
        api(gen, "partitions", "resolve").sync_detailed(
            ns, "sold", client=client, body=m.ResolveBody(partitions=[part])
        ),
        200,
    )
    assert resolved.batch.id == stored.batch.id
    read = api(gen, "partitions", "read").sync_detailed(
        ns,
        "sold",
        client=client,
        body=m.ReadBody(
            partitions=[part],
            batch_id=staged.id,
            filters=[m.Filter(column="id", op=m.FilterOp("="), value=2)],
        ),
    )
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/vnd.apache.arrow.stream"
    rows = ipc.open_stream(read.content).read_all()
    assert rows.column("item").to_pylist() == ["pear"]
    assert rows.column("date").to_pylist() == ["2016-10-31"]

    # Roll back to the first batch.
    event = ok(
        api(gen, "batches", "rollback").sync_detailed(
            ns, "sold", client=client, body=m.RollbackBody(partition=part)
        ),
        200,
    )
    assert event.to_batch == staged.id

    # A pin on that batch comes back as its own variant of PinTarget.
    pin = ok(
        api(gen, "pins", "create_pin").sync_detailed(
            ns,
            "sold",
            client=client,
            body=m.CreatePinBody(name="audit", partition=part, batch_id=staged.id),
        ),
        201,
    )
    assert isinstance(pin.target, m.PinTargetBatch)
    assert pin.target.batch.batch == staged.id
    as_of = ok(
        api(gen, "pins", "create_pin").sync_detailed(
            ns,
            "sold",
            client=client,
            body=m.CreatePinBody(name="monthly", as_of=commit.events[0].at.isoformat()),
        ),
        201,
    )
    assert isinstance(as_of.target, m.PinTargetAsOf)
    assert as_of.target.as_of.at == commit.events[0].at
    listed = ok(api(gen, "pins", "list_pins").sync_detailed(ns, "sold", client=client), 200)
    assert {p.name: type(p.target) for p in listed} == {
        "audit": m.PinTargetBatch,
        "monthly": m.PinTargetAsOf,
    }
    # Resolving through the pin gives the pinned batch.
    (pinned,) = ok(
        api(gen, "partitions", "resolve").sync_detailed(
            ns, "sold", client=client, body=m.ResolveBody(partitions=[part], pin="audit")
        ),
        200,
    )
    assert pinned.batch.id == staged.id

    # The change feed: every event of the namespace, then only the newer ones.
    feed = ok(api(gen, "events", "list_events").sync_detailed(client=client, namespace=ns, after=0), 200)
    actions = [str(e.action) for e in feed.items]
    assert actions[:3] == ["create_namespace", "create_table", "publish"], actions
    assert "rollback" in actions and "create_pin" in actions, actions
    newer = ok(
        api(gen, "events", "list_events").sync_detailed(
            client=client, namespace=ns, after=feed.items[2].id
        ),
        200,
    )
    assert [e.id for e in newer.items] == [e.id for e in feed.items[3:]]
