"""The Hive Metastore Thrift edge over a generic Thrift client (thriftpy2
with the vendored Hive 2.3 IDL): every implemented method, framed and
unframed, field by field; refused writes; unknown methods; and bad input
on the port (garbage, huge frames, truncated messages, idle floods)."""

from __future__ import annotations

import datetime as dt
import socket
import struct
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Installed by scripts/python-build --test: missing is a failure, not a skip.
from thriftpy2.thrift import TApplicationException

from catalogs import meta
from conftest import HmsServer
from hive_metastore import connect as thrift_client
from hive_metastore import thrift as hms

SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
DATES = [dt.date(2016, 10, 29), dt.date(2016, 10, 30), dt.date(2016, 10, 31)]


@pytest.fixture(scope="module")
def ns(hms_server: HmsServer) -> str:
    import pandas as pd

    c = hms_server.client
    name = "thr_" + uuid.uuid4().hex[:8]
    c.create_namespace(name)
    df = pd.DataFrame({"item": ["a", "b"], "Price": [1.5, 2.5]})
    for d in DATES:
        c.store_dataframe(df, name, "one", partitions=[{"date": d}])
    for region in ["eu", "us"]:
        for n in [1, 2, 10]:
            c.store_dataframe(df, name, "two", partitions=[{"region": region, "n": n}])
    c.store_dataframe(df, name, "flat")
    return name


@pytest.fixture(params=["unframed", "framed"], scope="module")
def client(request: pytest.FixtureRequest, hms_server: HmsServer) -> Iterator[Any]:
    c = thrift_client(hms_server.thrift_port, framed=request.param == "framed", timeout_ms=10000)
    yield c
    c.close()


def test_databases(client: Any, ns: str, hms_server: HmsServer) -> None:
    assert client.set_ugi("root", ["root", "staff"]) == ["root", "staff"]
    assert client.get_config_value("hive.metastore.try.direct.sql", "true") == "true"
    db = client.get_database(ns)
    assert db.name == ns and db.locationUri == f"file://{hms_server.warehouse}/{ns}".replace("file:///", "file:///")
    assert db.parameters == {}
    default = client.get_database("default")
    assert default.name == "default" and default.locationUri
    with pytest.raises(hms.NoSuchObjectException):
        client.get_database("no_such_db")
    with pytest.raises(hms.NoSuchObjectException):
        client.get_database("Not A Name!")
    assert ns in client.get_databases("*") and "default" in client.get_databases("*")
    assert client.get_databases(ns[:6] + "*") == [ns]
    assert ns in client.get_all_databases()


def test_tables(client: Any, ns: str) -> None:
    assert client.get_tables(ns, "*") == ["flat", "one", "two"]
    assert client.get_tables(ns, "t*") == ["two"]
    assert client.get_tables(ns, "one|flat") == ["flat", "one"]
    assert client.get_all_tables(ns) == ["flat", "one", "two"]
    assert client.get_tables_by_type(ns, "*", "EXTERNAL_TABLE") == ["flat", "one", "two"]
    assert client.get_tables_by_type(ns, "*", "VIRTUAL_VIEW") == []
    metas = client.get_table_meta(ns, "*", [])
    assert [(m.dbName, m.tableName, m.tableType) for m in metas] == [(ns, t, "EXTERNAL_TABLE") for t in ["flat", "one", "two"]]
    assert client.get_tables("default", "*") == []


def check_table(t: Any, ns: str, name: str) -> None:
    assert t.tableName == name and t.dbName == ns
    assert t.tableType == "EXTERNAL_TABLE"
    assert t.parameters is not None and t.parameters.get("EXTERNAL") == "TRUE"
    assert not any(k.startswith("spark.sql.") for k in t.parameters)
    sd = t.sd
    assert sd.serdeInfo.serializationLib == SERDE and sd.serdeInfo.parameters is not None
    assert sd.inputFormat == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd.outputFormat == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert [(c.name, c.type) for c in sd.cols] == [("item", "string"), ("price", "double")]


def test_table_and_fields(client: Any, ns: str, hms_server: HmsServer) -> None:
    t = client.get_table(ns, "one")
    check_table(t, ns, "one")
    assert [(k.name, k.type) for k in t.partitionKeys] == [("date", "date")]
    assert t.sd.location == f"file://{hms_server.warehouse}/{ns}/one"
    t2 = client.get_table(ns, "two")
    assert [(k.name, k.type) for k in t2.partitionKeys] == [("region", "string"), ("n", "bigint")]
    # Unpartitioned: the location is the current batch prefix.
    flat = client.get_table(ns, "flat")
    current = hms_server.client.partitions(ns, "flat")[0].current_batch
    assert flat.sd.location == f"file://{hms_server.warehouse}/{ns}/flat/{current}" and flat.partitionKeys == []
    req = client.get_table_req(hms.GetTableRequest(dbName=ns, tblName="one"))
    assert req.table == t
    objs = client.get_table_objects_by_name(ns, ["one", "nope", "flat"])
    assert [o.tableName for o in objs] == ["one", "flat"]
    res = client.get_table_objects_by_name_req(hms.GetTablesRequest(dbName=ns, tblNames=["two"]))
    assert [o.tableName for o in res.tables] == ["two"]
    assert [(f.name, f.type) for f in client.get_fields(ns, "one")] == [("item", "string"), ("price", "double")]
    assert [(f.name, f.type) for f in client.get_schema(ns, "two")] == [
        ("item", "string"),
        ("price", "double"),
        ("region", "string"),
        ("n", "bigint"),
    ]
    with pytest.raises(hms.NoSuchObjectException):
        client.get_table(ns, "nope")
    with pytest.raises(hms.NoSuchObjectException):
        client.get_table_req(hms.GetTableRequest(dbName=ns, tblName="nope"))
    with pytest.raises(hms.UnknownTableException):
        client.get_fields(ns, "nope")


def test_partitions(client: Any, ns: str, hms_server: HmsServer) -> None:
    parts = client.get_partitions(ns, "one", -1)
    current = {p.partition: p.current_batch for p in hms_server.client.partitions(ns, "one")}
    assert [p.values for p in parts] == [[str(d)] for d in DATES]
    for p in parts:
        assert p.dbName == ns and p.tableName == "one"
        batch = current[f"date={p.values[0]}"]
        assert p.sd.location == f"file://{hms_server.warehouse}/{ns}/one/date={p.values[0]}/{batch}"
        assert p.sd.serdeInfo.serializationLib == SERDE
        assert p.parameters["batchmeta.batch_id"] == batch
        files = list(Path(p.sd.location.removeprefix("file://")).iterdir())
        assert files and all(f.suffix == ".parquet" for f in files)
    assert len(client.get_partitions(ns, "one", 2)) == 2
    assert client.get_partitions_with_auth(ns, "one", -1, "root", []) == parts
    assert client.get_partition_names(ns, "one", -1) == [f"date={d}" for d in DATES]
    assert client.get_partition_names(ns, "two", -1) == [f"region={r}/n={n}" for r in ["eu", "us"] for n in [1, 2, 10]]
    assert client.get_partitions(ns, "flat", -1) == []

    assert [p.values for p in client.get_partitions_ps(ns, "two", ["us"], -1)] == [["us", "1"], ["us", "2"], ["us", "10"]]
    assert [p.values for p in client.get_partitions_ps(ns, "two", ["", "2"], -1)] == [["eu", "2"], ["us", "2"]]
    assert [p.values for p in client.get_partitions_ps_with_auth(ns, "two", ["eu", "10"], -1, "root", [])] == [["eu", "10"]]
    assert client.get_partition_names_ps(ns, "two", ["", "10"], -1) == ["region=eu/n=10", "region=us/n=10"]

    p = client.get_partition(ns, "two", ["us", "10"])
    assert p.values == ["us", "10"]
    assert client.get_partition_with_auth(ns, "two", ["us", "10"], "root", []) == p
    assert client.get_partition_by_name(ns, "two", "region=us/n=10") == p
    with pytest.raises(hms.NoSuchObjectException):
        client.get_partition(ns, "two", ["us", "99"])
    by_names = client.get_partitions_by_names(ns, "two", ["region=us/n=10", "region=eu/n=1", "region=xx/n=1", "garbage"])
    assert [p.values for p in by_names] == [["eu", "1"], ["us", "10"]]
    assert client.partition_name_to_vals("region=us/n=10") == ["us", "10"]
    assert client.partition_name_to_spec("region=us/n=10") == {"region": "us", "n": "10"}


@pytest.mark.parametrize(
    ("table", "flt", "want"),
    [
        ("one", 'date = "2016-10-31"', ["date=2016-10-31"]),
        ("one", '(date) in ("2016-10-29", "2016-10-31")', ["date=2016-10-29", "date=2016-10-31"]),
        ("one", 'date >= "2016-10-30"', ["date=2016-10-30", "date=2016-10-31"]),
        ("one", 'date < "2016-10-30" or date = "2016-10-31"', ["date=2016-10-29", "date=2016-10-31"]),
        ("one", 'date != "2016-10-30"', ["date=2016-10-29", "date=2016-10-31"]),
        ("one", 'date <> "2016-10-30" and (date <= "2016-10-29")', ["date=2016-10-29"]),
        ("one", "", ["date=2016-10-29", "date=2016-10-30", "date=2016-10-31"]),
        ("two", "n > 2", ["region=eu/n=10", "region=us/n=10"]),
        ("two", "n < 10 and region = 'us'", ["region=us/n=1", "region=us/n=2"]),
        ("two", "region like 'e%'", ["region=eu/n=1", "region=eu/n=2", "region=eu/n=10"]),
        ("two", "region = 'us' and n in (1, 10)", ["region=us/n=1", "region=us/n=10"]),
        ("two", "region >= 'f' and n = 2", ["region=us/n=2"]),
    ],
)
def test_partitions_by_filter(client: Any, ns: str, table: str, flt: str, want: list[str]) -> None:
    got = client.get_partitions_by_filter(ns, table, flt, -1)
    names = ["/".join(f"{k}={v}" for k, v in zip(["date"] if table == "one" else ["region", "n"], p.values)) for p in got]
    assert names == want
    assert client.get_num_partitions_by_filter(ns, table, flt) == len(want)


def test_bad_filters_are_meta_exceptions(client: Any, ns: str) -> None:
    for flt in ["date = ", "colour = 'red'", "date = 'x' and", "((date = 'x')"]:
        with pytest.raises(hms.MetaException):
            client.get_partitions_by_filter(ns, "one", flt, -1)


def test_statistics_functions_and_keys_are_empty(client: Any, ns: str) -> None:
    assert client.get_table_statistics_req(hms.TableStatsRequest(dbName=ns, tblName="one", colNames=["item"])).tableStats == []
    got = client.get_partitions_statistics_req(
        hms.PartitionsStatsRequest(dbName=ns, tblName="one", colNames=["item"], partNames=["date=2016-10-31"])
    )
    assert got.partStats == {}
    aggr = client.get_aggr_stats_for(hms.PartitionsStatsRequest(dbName=ns, tblName="one", colNames=["item"], partNames=[]))
    assert aggr.colStats == [] and aggr.partsFound == 0
    assert not client.get_all_functions().functions
    assert client.get_functions(ns, "*") == []
    assert client.get_primary_keys(hms.PrimaryKeysRequest(db_name=ns, tbl_name="one")).primaryKeys == []
    assert client.get_foreign_keys(hms.ForeignKeysRequest(foreign_db_name=ns, foreign_tbl_name="one")).foreignKeys == []


def test_virtual_tables(client: Any, hms_server: HmsServer) -> None:
    import pandas as pd

    c = hms_server.client
    name = "thv_" + uuid.uuid4().hex[:8]
    c.create_namespace(name)
    r1 = c.store_dataframe(pd.DataFrame({"x": [1]}), name, "t", partitions=[{"date": DATES[0]}])
    time.sleep(1.1)
    between = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(1.1)
    r2 = c.store_dataframe(pd.DataFrame({"x": [2]}), name, "t", partitions=[{"date": DATES[0]}])
    c.store_dataframe(pd.DataFrame({"x": [3]}), name, "t", partitions=[{"date": DATES[1]}])
    c.pin(name, "t", "report", {"date": DATES[0]}, batch_id=r1.batch_id)

    pinned = client.get_partitions(name, "t@report", -1)
    assert [(p.values, p.parameters["batchmeta.batch_id"]) for p in pinned] == [(["2016-10-29"], r1.batch_id)]
    assert pinned[0].tableName == "t@report"
    stamp = between.strftime("%Y-%m-%dt%H:%M:%Sz")  # as Spark lowercases it
    as_of = client.get_partitions(name, f"t@{stamp}", -1)
    assert [(p.values, p.parameters["batchmeta.batch_id"]) for p in as_of] == [(["2016-10-29"], r1.batch_id)]
    assert client.get_table(name, "t@report").tableName == "t@report"
    current = client.get_partitions_by_filter(name, "t", 'date = "2016-10-29"', -1)
    assert [p.parameters["batchmeta.batch_id"] for p in current] == [r2.batch_id]
    assert client.get_tables(name, "*") == ["t"]
    for bad in ["t@no_such_pin", "t@", "t@x@y", "nope@report"]:
        with pytest.raises(hms.NoSuchObjectException):
            client.get_table(name, bad)


def test_writes_are_refused_and_change_nothing(client: Any, ns: str, hms_server: HmsServer) -> None:
    c = hms_server.client
    before = (len(c.events(ns)), [(p.partition, p.current_batch) for p in c.partitions(ns, "one")])
    t = client.get_table(ns, "one")
    part = client.get_partition(ns, "one", ["2016-10-31"])
    calls = [
        lambda: client.create_table(t),
        lambda: client.create_database(hms.Database(name="newdb")),
        lambda: client.drop_table(ns, "one", True),
        lambda: client.alter_table(ns, "one", t),
        lambda: client.add_partition(part),
        lambda: client.add_partitions_req(hms.AddPartitionsRequest(dbName=ns, tblName="one", parts=[part], ifNotExists=True)),
        lambda: client.drop_partition(ns, "one", ["2016-10-31"], True),
        lambda: client.drop_partition_with_environment_context(ns, "one", ["2016-10-31"], True, hms.EnvironmentContext(properties={})),
        lambda: client.alter_partition(ns, "one", part),
        lambda: client.append_partition(ns, "one", ["2016-11-01"]),
    ]
    for call in calls:
        with pytest.raises(hms.MetaException) as e:
            call()
        assert "read-only" in e.value.message and "store_dataframe" in e.value.message
    after = (len(c.events(ns)), [(p.partition, p.current_batch) for p in c.partitions(ns, "one")])
    assert after == before


def test_unknown_method_is_a_thrift_unknown_method(client: Any, ns: str) -> None:
    with pytest.raises(TApplicationException) as e:
        client.get_index_names(ns, "one", -1)
    assert e.value.type == TApplicationException.UNKNOWN_METHOD
    # The connection is still usable.
    assert client.get_all_tables(ns) == ["flat", "one", "two"]


# ---- bad input on the port ----------------------------------------------------


def raw_message(name: str, seq: int = 1, body: bytes = b"\x00") -> bytes:
    n = name.encode()
    return struct.pack(">I", 0x80010001) + struct.pack(">i", len(n)) + n + struct.pack(">i", seq) + body


def read_all(s: socket.socket, timeout: float = 10) -> bytes:
    """Reads until the server closes the connection (fails on timeout)."""
    s.settimeout(timeout)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def still_serving(hms_server: HmsServer, ns: str) -> None:
    c = thrift_client(hms_server.thrift_port, timeout_ms=10000)
    try:
        assert c.get_all_tables(ns) == ["flat", "one", "two"]
    finally:
        c.close()


def connect(hms_server: HmsServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", hms_server.thrift_port), timeout=10)


def test_bad_input_gets_an_error_or_a_close(hms_server: HmsServer, ns: str) -> None:
    before = len(hms_server.client.events(ns))
    cases = {
        "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "garbage": bytes(range(256)) * 4,
        "huge frame": b"\x7f\xff\xff\xff" + b"\x80\x01",
        "huge unframed string": struct.pack(">I", 0x80010001) + b"\x7f\xff\xff\xff",
        "truncated in frame": struct.pack(">I", 12) + raw_message("get_all_tables")[:12],
        "negative length": struct.pack(">I", 0x80010001) + struct.pack(">i", -4),
        "not a call": struct.pack(">I", 0x80010002) + raw_message("x")[4:],
        "bad type id": raw_message("get_all_tables", body=b"\x63\x00\x01\x00"),
    }
    for what, payload in cases.items():
        with connect(hms_server) as s:
            s.sendall(payload)
            if what == "huge unframed string":
                s.shutdown(socket.SHUT_WR)
            got = read_all(s)
            # Either nothing or a TApplicationException message (0x80010003).
            assert got == b"" or b"\x80\x01\x00\x03" in got[:8], what
        still_serving(hms_server, ns)
    # Truncated unframed message, then the client hangs up.
    with connect(hms_server) as s:
        s.sendall(raw_message("get_all_tables", body=b"\x0b\x00\x01\x00\x00\x00\x10ab"))
        s.shutdown(socket.SHUT_WR)
        assert read_all(s) == b""
    # An unknown method by raw bytes: a TApplicationException, then the
    # connection keeps working.
    with connect(hms_server) as s:
        s.sendall(raw_message("no_such_method", seq=5))
        s.settimeout(10)
        reply = s.recv(65536)
        assert reply[:4] == b"\x80\x01\x00\x03" and b"no_such_method" in reply
        s.sendall(raw_message("get_all_databases", seq=6))
        assert s.recv(65536)[:4] == b"\x80\x01\x00\x02"
    still_serving(hms_server, ns)
    assert len(hms_server.client.events(ns)) == before
    metrics = hms_server.metrics()
    assert 'batchmeta_hms_calls_total{method="unknown",outcome="unknown_method"}' in metrics
    assert 'event="protocol_error"' in metrics


def test_200_idle_connections_are_closed_and_the_server_keeps_serving(hms_server: HmsServer, ns: str) -> None:
    socks = [connect(hms_server) for _ in range(200)]
    try:
        # HTTP is unaffected while the Thrift slots (64 here) are taken.
        with urllib.request.urlopen(f"{hms_server.url}/healthz", timeout=5) as r:
            assert r.status == 200
        # Beyond the limit: closed at once; the rest after the idle timeout (5 s).
        start = time.monotonic()
        for s in socks:
            assert read_all(s, timeout=30) == b""
        assert time.monotonic() - start < 30
    finally:
        for s in socks:
            s.close()
    still_serving(hms_server, ns)
    assert "connection_refused" in hms_server.metrics()


def test_a_non_loopback_thrift_bind_needs_insecure(hms_server: HmsServer, tmp_path: Path) -> None:
    r = meta(
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        f"sqlite://{tmp_path / 'c.db'}",
        "--warehouse",
        str(tmp_path / "wh"),
        "--hms-bind",
        "0.0.0.0:0",
    )
    assert r.returncode == 1
    assert "no authentication" in r.stderr and "--insecure" in r.stderr
