"""The read-only Iceberg REST catalog of `meta serve` (`/iceberg`), read by
the real clients: DuckDB 1.5.5 with its iceberg, avro and httpfs
extensions (loaded offline) and pyiceberg 0.12. Every read is compared
with batchmeta's own read of the same version (load_dataframe)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

import batchmeta as bm

from catalogs import local_catalog, meta, running_server

# Installed by scripts/python-build --test: a missing client is a failure,
# never a skip.
import duckdb
import duckdb_extensions
import pyiceberg.catalog as pyiceberg_catalog
from pyiceberg.exceptions import ForbiddenError, NoSuchTableError


@dataclass
class IceServer:
    url: str
    root: Path
    tokens: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def endpoint(self) -> str:
        return f"{self.url}/iceberg"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def meta(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _meta(self.root, *args)


def _meta(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return meta(*local_catalog(root), *args)


@pytest.fixture(scope="module")
def ice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IceServer]:
    root = tmp_path_factory.mktemp("iceberg")
    (root / "warehouse").mkdir()
    with running_server(root) as s:
        yield IceServer(url=s.url, root=root)


@pytest.fixture(scope="module")
def ice_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IceServer]:
    root = tmp_path_factory.mktemp("iceberg_auth")
    (root / "warehouse").mkdir()
    tokens = {}
    for name, role in [("root", "admin"), ("a_reader", "reader:alpha"), ("a_writer", "writer:alpha")]:
        out = _meta(root, "token", "create", name, "--role", role)
        assert out.returncode == 0, out.stderr
        tokens[name] = out.stdout.strip()
    with running_server(root, "--auth", "tokens") as s:
        srv = IceServer(url=s.url, root=root, tokens=tokens)
        c = bm.Client(srv.url, token=tokens["root"], direct_data=False)
        for ns in ["alpha", "beta"]:
            c.create_namespace(ns)
            c.store_dataframe(_frame(0), ns, "t", partitions=[{"day": dt.date(2016, 10, 31)}])
        yield srv


def _frame(seed: int, rows: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [seed * 100 + i for i in range(rows)],
            "x": [seed + i / 4 for i in range(rows)],
            "name": [f"n{seed}_{i}" for i in range(rows)],
        }
    )


def _norm(frame: pd.DataFrame | pa.Table) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples of text, columns by name (types differ between
    readers: date vs datetime64, large vs plain strings)."""
    df = frame.to_pandas() if isinstance(frame, pa.Table) else frame
    cols = sorted(df.columns)
    rows = [tuple(str(v)[:10] if isinstance(v, (dt.date, pd.Timestamp)) else str(v) for v in r) for r in df[cols].itertuples(index=False)]
    return sorted(rows)


def _duck(endpoint: str, token: str | None = None) -> Any:
    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    for ext in ["httpfs", "avro", "iceberg"]:
        duckdb_extensions.import_extension(ext, con=con)
        con.execute(f"LOAD {ext}")
    if token is None:
        con.execute(f"ATTACH 'bm' AS ice (TYPE iceberg, ENDPOINT '{endpoint}', AUTHORIZATION_TYPE 'none')")
    else:
        con.execute(f"CREATE SECRET bm_token (TYPE iceberg, TOKEN '{token}')")
        con.execute(f"ATTACH 'bm' AS ice (TYPE iceberg, ENDPOINT '{endpoint}', SECRET bm_token)")
    return con


def _pyice(endpoint: str, token: str | None = None) -> Any:
    props = {"type": "rest", "uri": endpoint}
    if token is not None:
        props["token"] = token
    return pyiceberg_catalog.load_catalog("bm" + uuid.uuid4().hex[:6], **props)


def _http(method: str, url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, method=method, data=body)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read()
            return r.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, json.loads(text) if text else {}


def _is_iceberg_error(body: dict[str, Any], code: int) -> bool:
    err = body.get("error", {})
    return (
        isinstance(err.get("message"), str)
        and len(err["message"]) > 0
        and isinstance(err.get("type"), str)
        and err.get("code") == code
    )


@dataclass
class Tables:
    ns: str
    client: bm.Client


@pytest.fixture(scope="module")
def tables(ice: IceServer) -> Tables:
    """One, two and no partition keys, each with two published partitions."""
    ns = "ice" + uuid.uuid4().hex[:8]
    c = bm.Client(ice.url)
    c.create_namespace(ns)
    for day in [dt.date(2016, 10, 31), dt.date(2016, 11, 1)]:
        c.store_dataframe(_frame(day.day), ns, "one", partitions=[{"day": day}])
        for region in ["eu", "us"]:
            c.store_dataframe(_frame(day.day + len(region)), ns, "two", partitions=[{"day": day, "region": region}])
    c.store_dataframe(_frame(7), ns, "flat")
    return Tables(ns, c)


def test_config_namespaces_and_tables_are_listed(ice: IceServer, tables: Tables) -> None:
    status, body = _http("GET", f"{ice.endpoint}/v1/config?warehouse=bm")
    assert status == 200 and body["defaults"] == {} and body["overrides"] == {}
    cat = _pyice(ice.endpoint)
    assert (tables.ns,) in cat.list_namespaces()
    assert sorted(cat.list_tables(tables.ns)) == [(tables.ns, "flat"), (tables.ns, "one"), (tables.ns, "two")]
    assert cat.table_exists((tables.ns, "one"))
    assert not cat.table_exists((tables.ns, "missing"))
    status, _ = _http("HEAD", f"{ice.endpoint}/v1/namespaces/{tables.ns}")
    assert status == 200
    status, _ = _http("HEAD", f"{ice.endpoint}/v1/namespaces/nosuchns{uuid.uuid4().hex[:6]}")
    assert status == 404


@pytest.mark.parametrize("table", ["one", "two", "flat"])
def test_duckdb_and_pyiceberg_read_what_load_dataframe_reads(ice: IceServer, tables: Tables, table: str) -> None:
    expected = _norm(tables.client.load_dataframe(tables.ns, table))
    assert len(expected) == {"one": 8, "two": 16, "flat": 4}[table]
    got = _pyice(ice.endpoint).load_table((tables.ns, table)).scan().to_arrow()
    assert _norm(got) == expected
    con = _duck(ice.endpoint)
    assert _norm(con.execute(f"SELECT * FROM ice.{tables.ns}.{table}").df()) == expected
    # A partition filter reads the same rows as batchmeta's.
    if table != "flat":
        one_day = _norm(tables.client.load_dataframe(tables.ns, table, filters=[("day", "=", dt.date(2016, 11, 1))]))
        got_day = con.execute(f"SELECT * FROM ice.{tables.ns}.{table} WHERE day = DATE '2016-11-01'").df()
        assert _norm(got_day) == one_day and len(one_day) < len(expected)


def test_rollback_and_new_publish_are_seen_on_the_next_load(ice: IceServer, tables: Tables) -> None:
    c, ns = tables.client, tables.ns
    c.store_dataframe(_frame(1), ns, "roll", partitions=[{"day": dt.date(2016, 10, 31)}])
    cat = _pyice(ice.endpoint)
    con = _duck(ice.endpoint)

    def both() -> tuple[list[Any], list[Any]]:
        return (
            _norm(cat.load_table((ns, "roll")).scan().to_arrow()),
            _norm(con.execute(f"SELECT * FROM ice.{ns}.roll").df()),
        )

    first = _norm(c.load_dataframe(ns, "roll"))
    assert both() == (first, first)
    c.store_dataframe(_frame(2), ns, "roll", partitions=[{"day": dt.date(2016, 10, 31)}])
    second = _norm(c.load_dataframe(ns, "roll"))
    assert second != first
    assert both() == (second, second)
    c.rollback(ns, "roll", partitions=[{"day": dt.date(2016, 10, 31)}])
    assert _norm(c.load_dataframe(ns, "roll")) == first
    assert both() == (first, first)


def test_pins_are_tags_and_time_travel_reads_the_as_of_state(ice: IceServer, tables: Tables) -> None:
    c, ns = tables.client, tables.ns
    day = dt.date(2016, 10, 31)
    first = c.store_dataframe(_frame(1), ns, "tt", partitions=[{"day": day}])
    c.store_dataframe(_frame(5), ns, "tt", partitions=[{"day": dt.date(2016, 11, 1)}])
    time.sleep(0.05)
    between = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.05)
    c.store_dataframe(_frame(2), ns, "tt", partitions=[{"day": day}])
    c.store_dataframe(_frame(3), ns, "tt", partitions=[{"day": dt.date(2016, 11, 2)}])
    c.pin(ns, "tt", "weekly_report", {"day": day}, batch_id=first.batch_id)
    c.pin(ns, "tt", "as_of_report", as_of=between)

    current = _norm(c.load_dataframe(ns, "tt"))
    pinned = _norm(c.load_dataframe(ns, "tt", pin="weekly_report"))
    as_of = _norm(c.load_dataframe(ns, "tt", as_of=between))
    # Negative control: the three versions differ, so equality below means something.
    assert len({tuple(current), tuple(pinned), tuple(as_of)}) == 3

    table = _pyice(ice.endpoint).load_table((ns, "tt"))
    refs = table.metadata.refs
    assert refs["weekly_report"].snapshot_ref_type == "tag"
    assert refs["main"].snapshot_id == table.metadata.current_snapshot_id
    assert _norm(table.scan(snapshot_id=refs["weekly_report"].snapshot_id).to_arrow()) == pinned
    assert _norm(table.scan(snapshot_id=refs["as_of_report"].snapshot_id).to_arrow()) == as_of
    snap = table.snapshot_as_of_timestamp(int(between.timestamp() * 1000))
    assert snap is not None
    assert _norm(table.scan(snapshot_id=snap.snapshot_id).to_arrow()) == as_of
    assert _norm(table.scan().to_arrow()) == current

    con = _duck(ice.endpoint)
    ts = between.strftime("%Y-%m-%d %H:%M:%S.%f")
    got = con.execute(f"SELECT * FROM ice.{ns}.tt AT (TIMESTAMP => TIMESTAMPTZ '{ts}+00')").df()
    assert _norm(got) == as_of
    assert _norm(con.execute(f'SELECT * FROM ice.{ns}."tt@weekly_report"').df()) == pinned
    iso = between.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert _norm(con.execute(f'SELECT * FROM ice.{ns}."tt@{iso}"').df()) == as_of
    # pyiceberg reads the virtual tables too.
    assert _norm(_pyice(ice.endpoint).load_table((ns, "tt@weekly_report")).scan().to_arrow()) == pinned
    # Virtual tables are never listed.
    assert (ns, "tt@weekly_report") not in _pyice(ice.endpoint).list_tables(ns)


def test_generated_files_parse_with_pyicebergs_own_readers(ice: IceServer, tables: Tables) -> None:
    from pyiceberg.io.pyarrow import PyArrowFileIO
    from pyiceberg.manifest import read_manifest_list
    from pyiceberg.table.metadata import TableMetadataUtil

    ns = tables.ns
    status, body = _http("GET", f"{ice.endpoint}/v1/namespaces/{ns}/tables/two")
    assert status == 200
    io = PyArrowFileIO()
    location = body["metadata-location"]
    with io.new_input(location).open() as f:
        stored = TableMetadataUtil.parse_raw(f.read())
    served = TableMetadataUtil.parse_obj(body["metadata"])
    assert stored == served
    assert served.format_version == 2
    assert served.snapshot_log[-1].snapshot_id == served.current_snapshot_id
    assert "schema.name-mapping.default" in served.properties
    assert [f.name for f in served.schema().fields][:2] == ["day", "region"]
    assert [(f.name, str(f.transform)) for f in served.spec().fields] == [("day", "identity"), ("region", "identity")]

    current = served.snapshot_by_id(served.current_snapshot_id)
    assert current is not None
    manifests = list(read_manifest_list(io.new_input(current.manifest_list)))
    batches = {(r["day"], r["region"]): r for r in _partitions(tables.client, ns, "two")}
    assert len(manifests) == len(batches) == 4
    warehouse = str(ice.warehouse.resolve())
    for m in manifests:
        assert "/_iceberg/manifests/" in m.manifest_path
        assert m.manifest_length == Path(m.manifest_path.removeprefix("file://")).stat().st_size
        entries = m.fetch_manifest_entry(io)
        assert len(entries) == 1
        e = entries[0]
        assert e.snapshot_id == m.added_snapshot_id and e.sequence_number == m.sequence_number
        day, region = e.data_file.partition[0], e.data_file.partition[1]
        assert isinstance(day, int)  # days since the epoch
        key = ((dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat(), region)
        b = batches[key]
        assert e.data_file.file_path.startswith(f"file://{warehouse}/")
        assert b["batch"] in e.data_file.file_path and e.data_file.record_count == b["rows"]
    # Everything generated lies under _iceberg/, outside every batch prefix.
    generated = [p for p in (ice.warehouse / ns / "two").rglob("*") if p.is_file() and p.suffix != ".parquet"]
    assert generated and all("_iceberg" in p.relative_to(ice.warehouse).parts for p in generated)
    # A second load writes nothing and rewrites nothing.
    before = {p: p.stat().st_mtime_ns for p in generated}
    _http("GET", f"{ice.endpoint}/v1/namespaces/{ns}/tables/two")
    after = {p: p.stat().st_mtime_ns for p in (ice.warehouse / ns / "two").rglob("*") if p.is_file() and p.suffix != ".parquet"}
    assert after == before


def _partitions(c: bm.Client, ns: str, table: str) -> list[dict[str, Any]]:
    """Each published partition's key values, current batch and its rows."""
    out = []
    for p in c.partitions(ns, table):
        keys = dict(kv.split("=", 1) for kv in p.partition.split("/"))
        rows = sum(b.rows for b in c.batches(ns, table, keys) if b.batch_id == p.current_batch)
        out.append({**keys, "batch": p.current_batch, "rows": rows})
    return out


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("namespaces/nosuchns", 404, "NoSuchNamespaceException"),
        ("namespaces/nosuchns/tables", 404, "NoSuchNamespaceException"),
        ("namespaces/{ns}/tables/nosuchtable", 404, "NoSuchTableException"),
        ("namespaces/Bad-Name", 400, "BadRequestException"),
        ("namespaces/a%1Fb/tables", 400, "BadRequestException"),
        ("namespaces/{ns}/tables/Bad-Table", 400, "BadRequestException"),
        ("namespaces/{ns}/tables/one@nosuchpin", 404, "NoSuchTableException"),
        ("namespaces/{ns}/tables/one@2016-13-45T99:00:00Z", 400, "BadRequestException"),
        ("namespaces/{ns}/tables/one@Bad", 400, "BadRequestException"),
        ("namespaces/{ns}/tables/one@", 400, "BadRequestException"),
        ("nosuchroute", 404, "NotFoundException"),
    ],
)
def test_bad_input_gets_an_iceberg_error_body(ice: IceServer, tables: Tables, path: str, status: int, kind: str) -> None:
    got, body = _http("GET", f"{ice.endpoint}/v1/{path.format(ns=tables.ns)}")
    assert (got, body.get("error", {}).get("type")) == (status, kind), body
    assert _is_iceberg_error(body, status), body


def test_a_reader_token_reads_its_namespace_only(ice_auth: IceServer) -> None:
    reader = _pyice(ice_auth.endpoint, ice_auth.tokens["a_reader"])
    assert reader.list_namespaces() == [("alpha",)]
    assert len(reader.load_table(("alpha", "t")).scan().to_arrow()) == 4
    with pytest.raises(ForbiddenError):
        reader.load_table(("beta", "t"))
    # Negative control: an admin lists and reads both.
    admin = _pyice(ice_auth.endpoint, ice_auth.tokens["root"])
    assert sorted(admin.list_namespaces()) == [("alpha",), ("beta",)]
    assert len(admin.load_table(("beta", "t")).scan().to_arrow()) == 4
    # DuckDB with the reader's token.
    con = _duck(ice_auth.endpoint, ice_auth.tokens["a_reader"])
    assert len(con.execute("SELECT * FROM ice.alpha.t").df()) == 4
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM ice.beta.t").df()


@pytest.mark.parametrize("token", [None, "None", "bm_not_a_real_token"])
def test_no_or_bad_token_gets_401(ice_auth: IceServer, token: str | None) -> None:
    for path in ["config", "namespaces", "namespaces/alpha/tables/t"]:
        status, body = _http("GET", f"{ice_auth.endpoint}/v1/{path}", token)
        assert status == 401 and _is_iceberg_error(body, 401), body
    # Negative control: a valid token passes.
    assert _http("GET", f"{ice_auth.endpoint}/v1/config", ice_auth.tokens["a_reader"])[0] == 200


def test_writes_from_duckdb_and_pyiceberg_are_refused_and_change_nothing(ice_auth: IceServer) -> None:
    def state() -> tuple[str, str]:
        audit = ice_auth.meta("--output", "json", "audit", "--limit", "100000")
        assert audit.returncode == 0, audit.stderr
        files = ice_auth.meta("--output", "json", "files", "alpha.t")
        assert files.returncode == 0, files.stderr
        return audit.stdout, files.stdout

    before = state()
    data_before = {p: p.stat().st_size for p in ice_auth.warehouse.rglob("*.parquet")}
    assert data_before
    writer = _pyice(ice_auth.endpoint, ice_auth.tokens["a_writer"])
    table = writer.load_table(("alpha", "t"))
    frame = table.scan().to_arrow()
    with pytest.raises(ForbiddenError, match="read-only"):
        table.append(frame)
    with pytest.raises(ForbiddenError, match="store_dataframe"):
        writer.create_table(("alpha", "new_table"), schema=frame.schema)
    with pytest.raises(ForbiddenError):
        writer.drop_table(("alpha", "t"))
    with pytest.raises(ForbiddenError):
        writer.create_namespace("gamma")
    con = _duck(ice_auth.endpoint, ice_auth.tokens["a_writer"])
    # DuckDB 1.5.5 fails on a local warehouse before it commits (it cannot
    # create its metadata/ directory); on object stores it gets the 403.
    with pytest.raises(duckdb.Error):
        con.execute("INSERT INTO ice.alpha.t SELECT * FROM ice.alpha.t")
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE ice.alpha.other (id BIGINT)")
    for method, path in [
        ("POST", "namespaces"),
        ("POST", "namespaces/alpha/tables/t"),
        ("DELETE", "namespaces/alpha/tables/t"),
        ("POST", "tables/rename"),
        ("POST", "namespaces/alpha/register"),
        ("POST", "transactions/commit"),
    ]:
        status, body = _http(method, f"{ice_auth.endpoint}/v1/{path}", ice_auth.tokens["root"], b"{}")
        assert status == 403 and _is_iceberg_error(body, 403), (method, path, body)
    assert state() == before
    # Both clients write their data files before they commit: those files
    # are referenced by nothing; every batch file is as it was.
    assert {p: p.stat().st_size for p in data_before} == data_before
    verify = ice_auth.meta("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # The table still reads as before.
    assert _norm(writer.load_table(("alpha", "t")).scan().to_arrow()) == _norm(frame)
    with pytest.raises(NoSuchTableError):
        writer.load_table(("alpha", "new_table"))
