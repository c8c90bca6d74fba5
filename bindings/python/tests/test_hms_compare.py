"""batchmeta's Hive Metastore Thrift answers, field by field, against a
real Hive Metastore 2.3.10 (from pyspark's jars) holding the same
databases, tables and partitions.

The real metastore is filled through its own write API the way a Hive user
would declare the same tables (``CREATE EXTERNAL TABLE ... STORED AS
PARQUET LOCATION ...``, then ``ALTER TABLE ... ADD PARTITION ... LOCATION``
with each partition's current batch prefix): the declarations below are
written from the tables' definitions, not copied from batchmeta's answers.
Then every read method batchmeta serves is called on both servers and the
answers must be equal, except for the few fields in ``ALLOWED`` (each with
its reason). docs/engines.md describes the comparison."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from thriftpy2.thrift import TApplicationException, TException

from conftest import HmsPair
from hive_metastore import connect
from hive_metastore import thrift as hms

NS = "cmp"
DATES = [dt.date(2016, 10, 29), dt.date(2016, 10, 30), dt.date(2016, 10, 31)]
SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

# ---- what may differ, and why ---------------------------------------------

#: (struct, field) pairs whose values are not compared.
ALLOWED: dict[tuple[str, str], str] = {
    # Each server stamps its own clock: Hive when the object was created in
    # it, batchmeta when the table was created / the partition's pointer last
    # moved (so that engines see a rollback as a change).
    ("Table", "createTime"): "each server's own clock",
    ("Partition", "createTime"): "each server's own clock",
}
#: Parameters (of Table and Partition) that are not compared.
ALLOWED_PARAMETERS: dict[str, str] = {
    # Hive adds it on every create/alter, with its own clock; batchmeta has
    # no DDL time to report.
    "transient_lastDdlTime": "Hive's own clock at create time",
}
#: Exceptions are compared by their type; the texts are each server's own
#: (batchmeta's say what to do instead).
EXCEPTION_TEXT = "each server's own words"


def location(value: str) -> str:
    """Hive stores every location through Hadoop's ``Path``, which writes a
    local ``file:///x`` as ``file:/x``; both name the same directory for
    every Hadoop, Spark and Trino file system."""
    return "file:/" + value.removeprefix("file:///") if value.startswith("file:///") else value


LOCATION_FIELDS = {("StorageDescriptor", "location"), ("Database", "locationUri")}


def plain(value: Any, struct: str = "") -> Any:
    """A Thrift value as plain data, with the allowed differences masked."""
    spec = getattr(value, "thrift_spec", None)
    if spec is not None:
        name = type(value).__name__
        out: dict[str, Any] = {"__struct__": name}
        for field in spec.values():
            key = field[1]
            item = getattr(value, key)
            if (name, key) in ALLOWED:
                item = f"<allowed: {ALLOWED[(name, key)]}>"
            elif isinstance(value, TException) and key == "message":
                item = f"<allowed: {EXCEPTION_TEXT}>"
            elif (name, key) in LOCATION_FIELDS and isinstance(item, str):
                item = location(item)
            elif name in ("Table", "Partition") and key == "parameters" and item is not None:
                item = {k: v for k, v in item.items() if k not in ALLOWED_PARAMETERS}
            out[key] = plain(item, name)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(v, struct) for v in value]
    if isinstance(value, dict):
        return {plain(k, struct) if not isinstance(k, list) else tuple(k): plain(v, struct) for k, v in value.items()}
    return value


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    """Every path where ``got`` differs from ``want``."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(want) | set(got), key=str):
            if k not in got or k not in want:
                out.append(f"{path}.{k}: {want.get(k, '<absent>')!r} != {got.get(k, '<absent>')!r}")
            else:
                out += differences(want[k], got[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: {len(want)} items != {len(got)} items: {want!r} != {got!r}"]
        return [d for i, (w, g) in enumerate(zip(want, got)) for d in differences(w, g, f"{path}[{i}]")]
    return [] if want == got and type(want) is type(got) else [f"{path}: {want!r} != {got!r}"]


#: Methods whose lists a Hive metastore leaves in its database's order (its
#: query has no ORDER BY): compared as sets.
UNORDERED = {"get_table_meta", "get_table_objects_by_name", "get_table_objects_by_name_req"}
#: Methods that list partitions (or their names). Hive orders them by the
#: text of the partition name, so an int key comes as n=1, n=10, n=2;
#: batchmeta by value (n=1, n=2, n=10), the order of its index. No engine
#: relies on either. On tables with an int key these lists are compared as
#: sets (and so no call with a limit is made on them: the first N differ).
PARTITION_LISTS = {
    "get_partitions",
    "get_partitions_with_auth",
    "get_partitions_ps",
    "get_partitions_ps_with_auth",
    "get_partition_names",
    "get_partition_names_ps",
    "get_partitions_by_filter",
    "get_partitions_by_names",
}


def as_set(result: Any) -> Any:
    if isinstance(result, list):
        return sorted(result, key=repr)
    if isinstance(result, dict) and isinstance(result.get("tables"), list):
        return {**result, "tables": sorted(result["tables"], key=repr)}
    return result


def ask(client: Any, method: str, args: tuple[Any, ...]) -> Any:
    """A call's answer as plain data: its result, or the exception it raised."""
    try:
        result = plain(getattr(client, method)(*args))
        if method in UNORDERED or (method in PARTITION_LISTS and args[1] in INT_KEYED):
            result = as_set(result)
        return {"result": result}
    except TApplicationException as e:
        return {"application_exception": e.type}
    except TException as e:
        return {"raises": plain(e)}


# ---- the same tables in both ----------------------------------------------

ITEM_PRICE = [("item", "string"), ("price", "double")]
#: Arrow types and the Hive types they are declared with (docs/engines.md).
TYPED = [
    ("i8", "int8", "tinyint"),
    ("i16", "int16", "smallint"),
    ("i32", "int32", "int"),
    ("i64", "int64", "bigint"),
    ("f32", "float32", "float"),
    ("f64", "float64", "double"),
    ("ok", "bool_", "boolean"),
    ("amount", "decimal(10,2)", "decimal(10,2)"),
    ("name", "string", "string"),
    ("raw", "binary", "binary"),
    ("day", "date32", "date"),
    ("at", "timestamp(us)", "timestamp"),
    ("tags", "list<int64>", "array<bigint>"),
    ("pair", "struct<A:string,b:float64>", "struct<a:string,b:double>"),
    ("attrs", "map<string,int32>", "map<string,int>"),
]


@dataclass(frozen=True)
class Declared:
    """A table as a Hive user declares it in the real metastore."""

    name: str
    cols: list[tuple[str, str]]
    keys: list[tuple[str, str]]
    owner: str = ""
    parameters: dict[str, str] | None = None


TABLES = [
    Declared("one", ITEM_PRICE, [("date", "date")]),
    Declared("two", ITEM_PRICE, [("region", "string"), ("n", "bigint")], owner="bob", parameters={"team": "data", "comment": "two keys"}),
    Declared("flat", ITEM_PRICE, []),
    Declared("typed", [(n, h) for n, _, h in TYPED], []),
]
INT_KEYED = {t.name for t in TABLES if any(ty == "bigint" for _, ty in t.keys)}


def arrow_type(spec: str) -> Any:
    import pyarrow as pa

    return {
        "int8": pa.int8(),
        "int16": pa.int16(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "float32": pa.float32(),
        "float64": pa.float64(),
        "bool_": pa.bool_(),
        "decimal(10,2)": pa.decimal128(10, 2),
        "string": pa.string(),
        "binary": pa.binary(),
        "date32": pa.date32(),
        "timestamp(us)": pa.timestamp("us"),
        "list<int64>": pa.list_(pa.int64()),
        "struct<A:string,b:float64>": pa.struct([("A", pa.string()), ("b", pa.float64())]),
        "map<string,int32>": pa.map_(pa.string(), pa.int32()),
    }[spec]


def build_batchmeta(c: Any) -> None:
    import pandas as pd
    import pyarrow as pa

    c.create_namespace(NS, description="compared with Hive", owner="ann", properties={"team": "data"})
    df = pd.DataFrame({"item": ["a", "b"], "Price": [1.5, 2.5]})
    for d in DATES:
        c.store_dataframe(df, NS, "one", partitions=[{"date": d}])
    c.create_table(NS, "two", df, [("region", "string"), ("n", "int")], description="two keys", owner="bob", properties={"team": "data"})
    for region in ["eu", "us"]:
        for n in [1, 2, 10]:
            c.store_dataframe(df, NS, "two", partitions=[{"region": region, "n": n}])
    c.store_dataframe(df, NS, "flat")
    schema = pa.schema([(n, arrow_type(a)) for n, a, _ in TYPED])
    c.create_table(NS, "typed", schema, [])


def storage(cols: list[tuple[str, str]], where: str, table: str) -> Any:
    """``STORED AS PARQUET LOCATION where``, as Hive's DDL writes it."""
    return hms.StorageDescriptor(
        cols=[hms.FieldSchema(name=n, type=t) for n, t in cols],
        location=where,
        inputFormat=INPUT_FORMAT,
        outputFormat=OUTPUT_FORMAT,
        compressed=False,
        numBuckets=-1,
        serdeInfo=hms.SerDeInfo(name=table, serializationLib=SERDE, parameters={"serialization.format": "1"}),
        bucketCols=[],
        sortCols=[],
        parameters={},
    )


def build_hive(pair: HmsPair) -> None:
    """The same database, tables and partitions in the real metastore."""
    c = pair.batchmeta.client
    wh = pair.batchmeta.warehouse
    hive = connect(pair.hive.port)
    try:
        hive.create_database(
            hms.Database(
                name=NS,
                description="compared with Hive",
                locationUri=f"file://{wh}/{NS}",
                parameters={"team": "data"},
                ownerName="ann",
                ownerType=hms.PrincipalType.USER,
            )
        )
        for t in TABLES:
            current = {p.partition: p.current_batch for p in c.partitions(NS, t.name)}
            where = f"file://{wh}/{NS}/{t.name}"
            if not t.keys and current:
                # An unpartitioned table is read at its current batch prefix.
                where += "/" + next(iter(current.values()))
            hive.create_table(
                hms.Table(
                    tableName=t.name,
                    dbName=NS,
                    owner=t.owner,
                    sd=storage(t.cols, where, t.name),
                    partitionKeys=[hms.FieldSchema(name=n, type=ty) for n, ty in t.keys],
                    parameters={"EXTERNAL": "TRUE", **(t.parameters or {})},
                    tableType="EXTERNAL_TABLE",
                )
            )
            if not t.keys:
                continue
            parts = []
            for name, batch in sorted(current.items()):
                values = [kv.split("=", 1)[1] for kv in name.split("/")]
                parts.append(
                    hms.Partition(
                        values=values,
                        dbName=NS,
                        tableName=t.name,
                        sd=storage(t.cols, f"{where}/{name}/{batch}", t.name),
                        parameters={"batchmeta.batch_id": batch},
                    )
                )
            hive.add_partitions(parts)
    finally:
        hive.close()


@dataclass
class Both:
    hive: Any
    batchmeta: Any


@pytest.fixture(scope="module")
def both(hms_pair: HmsPair) -> Iterator[Both]:
    build_batchmeta(hms_pair.batchmeta.client)
    build_hive(hms_pair)
    pair = Both(hive=connect(hms_pair.hive.port), batchmeta=connect(hms_pair.batchmeta.thrift_port))
    yield pair
    pair.hive.close()
    pair.batchmeta.close()


# ---- the calls ------------------------------------------------------------


def env() -> Any:
    return hms.EnvironmentContext(properties={})


CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("set_ugi", ("root", ["root", "staff"])),
    ("get_config_value", ("hive.batchmeta.unset", "fallback")),
    ("get_database", (NS,)),
    ("get_database", ("default",)),
    ("get_database", ("no_such_db",)),
    ("get_all_databases", ()),
    ("get_databases", ("*",)),
    ("get_databases", ("cm*",)),
    ("get_databases", ("cmp|default",)),
    ("get_databases", ("CMP",)),
    ("get_databases", ("x*",)),
    ("get_all_tables", (NS,)),
    ("get_all_tables", ("default",)),
    ("get_tables", (NS, "*")),
    ("get_tables", (NS, "t*")),
    ("get_tables", (NS, "one|flat")),
    ("get_tables", (NS, "ONE")),
    ("get_tables_by_type", (NS, "*", "EXTERNAL_TABLE")),
    ("get_tables_by_type", (NS, "*", "VIRTUAL_VIEW")),
    ("get_table_meta", (NS, "*", [])),
    ("get_table_meta", ("c*", "t*", ["EXTERNAL_TABLE"])),
    ("get_table_meta", (NS, "*", ["MANAGED_TABLE"])),
    *(("get_table", (NS, t.name)) for t in TABLES),
    ("get_table", (NS, "nope")),
    ("get_table", ("no_such_db", "one")),
    ("get_table_req", (hms.GetTableRequest(dbName=NS, tblName="two"),)),
    ("get_table_req", (hms.GetTableRequest(dbName=NS, tblName="nope"),)),
    ("get_table_objects_by_name", (NS, ["one", "nope", "flat"])),
    ("get_table_objects_by_name_req", (hms.GetTablesRequest(dbName=NS, tblNames=["two", "typed"]),)),
    *(("get_fields", (NS, t.name)) for t in TABLES),
    ("get_fields", (NS, "nope")),
    ("get_fields_with_environment_context", (NS, "two", env())),
    *(("get_schema", (NS, t.name)) for t in TABLES),
    ("get_schema_with_environment_context", (NS, "one", env())),
    ("get_partitions", (NS, "one", -1)),
    ("get_partitions", (NS, "one", 2)),
    ("get_partitions", (NS, "two", -1)),
    ("get_partitions", (NS, "flat", -1)),
    ("get_partitions", (NS, "nope", -1)),
    ("get_partitions_with_auth", (NS, "one", -1, "root", [])),
    ("get_partition_names", (NS, "one", -1)),
    ("get_partition_names", (NS, "two", -1)),
    ("get_partition_names", (NS, "one", 2)),
    ("get_partitions_ps", (NS, "two", ["us"], -1)),
    ("get_partitions_ps", (NS, "two", ["", "2"], -1)),
    ("get_partitions_ps_with_auth", (NS, "two", ["eu", "10"], -1, "root", [])),
    ("get_partition_names_ps", (NS, "two", ["", "10"], -1)),
    ("get_partition_names_ps", (NS, "two", ["eu"], -1)),
    ("get_partition_names_ps", (NS, "one", ["2016-10-30"], -1)),
    ("get_partition", (NS, "two", ["us", "10"])),
    ("get_partition", (NS, "one", ["2016-10-31"])),
    ("get_partition", (NS, "two", ["us", "99"])),
    ("get_partition_with_auth", (NS, "two", ["eu", "1"], "root", [])),
    ("get_partition_by_name", (NS, "two", "region=us/n=10")),
    ("get_partition_by_name", (NS, "two", "region=us/n=99")),
    ("get_partitions_by_names", (NS, "two", ["region=us/n=10", "region=eu/n=1", "region=xx/n=1"])),
    ("get_partitions_by_names", (NS, "one", ["date=2016-10-31", "date=2016-10-29"])),
    ("partition_name_to_vals", ("region=us/n=10",)),
    ("partition_name_to_spec", ("region=us/n=10",)),
    ("get_table_statistics_req", (hms.TableStatsRequest(dbName=NS, tblName="one", colNames=["item"]),)),
    (
        "get_partitions_statistics_req",
        (hms.PartitionsStatsRequest(dbName=NS, tblName="one", colNames=["item"], partNames=["date=2016-10-31"]),),
    ),
    ("get_aggr_stats_for", (hms.PartitionsStatsRequest(dbName=NS, tblName="one", colNames=["item"], partNames=["date=2016-10-31"]),)),
    ("get_table_column_statistics", (NS, "one", "item")),
    ("get_partition_column_statistics", (NS, "one", "date=2016-10-31", "item")),
    ("get_all_functions", ()),
    ("get_functions", (NS, "*")),
    ("get_primary_keys", (hms.PrimaryKeysRequest(db_name=NS, tbl_name="one"),)),
    ("get_foreign_keys", (hms.ForeignKeysRequest(foreign_db_name=NS, foreign_tbl_name="one"),)),
]

FILTERS: list[tuple[str, str]] = [
    ("one", 'date = "2016-10-31"'),
    ("one", '(date) in ("2016-10-29", "2016-10-31")'),
    ("one", 'date >= "2016-10-30"'),
    ("one", 'date < "2016-10-30" or date = "2016-10-31"'),
    ("one", 'date != "2016-10-30"'),
    ("one", 'date <> "2016-10-30" and (date <= "2016-10-29")'),
    ("one", ""),
    ("two", "n > 2"),
    ("two", "n = 10"),
    ("two", "n < 10 and region = 'us'"),
    # Hive's grammar needs the brackets around the key (Spark sends them);
    # batchmeta also reads `n in (...)`.
    ("two", "region = 'us' and (n) in (1, 10)"),
    ("two", "region >= 'f' and n = 2"),
    ("two", 'region = "eu" or n <= 1'),
    ("two", "region like 'e.*'"),
    ("two", "colour = 'red'"),
]
CALLS += [("get_partitions_by_filter", (NS, t, f, -1)) for t, f in FILTERS]
CALLS += [("get_num_partitions_by_filter", (NS, t, f)) for t, f in FILTERS]


def call_id(call: tuple[str, tuple[Any, ...]]) -> str:
    method, args = call
    shown = [a if isinstance(a, (str, int)) else type(a).__name__ for a in args]
    return f"{method}{tuple(shown)}"


@pytest.mark.parametrize("call", CALLS, ids=[call_id(c) for c in CALLS])
def test_same_answer_as_hive(both: Both, call: tuple[str, tuple[Any, ...]]) -> None:
    method, args = call
    want = ask(both.hive, method, args)
    got = ask(both.batchmeta, method, args)
    found = differences(want, got)
    assert not found, "\n".join(["Hive's answer != batchmeta's:", *found])


def test_every_served_method_is_compared() -> None:
    """The methods src/hms/service/mod.rs answers (besides writes) all appear above."""
    import re
    from pathlib import Path

    source = (Path(__file__).resolve().parents[3] / "src" / "hms" / "service" / "mod.rs").read_text()
    table = source[source.index("let out = match m.name.as_str()") :]
    table = table[: table.index("_ => {")]
    served = set(re.findall(r'"([a-z_]+)"', table))
    assert served, "no methods found in service/mod.rs"
    assert served - {m for m, _ in CALLS} == set()


# ---- the comparator can fail ----------------------------------------------


def perturbed(answer: Any, change: Callable[[Any], None]) -> Any:
    copied = copy.deepcopy(answer)
    change(copied)
    return copied


def test_the_comparison_reports_a_changed_field(both: Both) -> None:
    args = (NS, "two", ["us", "10"])
    want = ask(both.hive, "get_partition", args)
    got = ask(both.batchmeta, "get_partition", args)
    assert differences(want, got) == []

    def input_format(a: Any) -> None:
        a["result"]["sd"]["inputFormat"] = "org.apache.hadoop.mapred.TextInputFormat"

    assert differences(want, perturbed(got, input_format)) == [
        f".result.sd.inputFormat: {INPUT_FORMAT!r} != 'org.apache.hadoop.mapred.TextInputFormat'"
    ]

    def extra_parameter(a: Any) -> None:
        a["result"]["parameters"]["spark.sql.sources.provider"] = "parquet"

    assert differences(want, perturbed(got, extra_parameter)) == [".result.parameters.spark.sql.sources.provider: '<absent>' != 'parquet'"]

    def one_value(a: Any) -> None:
        a["result"]["values"][1] = "1"

    assert differences(want, perturbed(got, one_value)) == [".result.values[1]: '10' != '1'"]


def test_the_comparison_masks_only_the_allowed_fields(both: Both) -> None:
    """An allowed field may differ; the same change on a raw answer, or a
    location that names another directory, is reported."""
    raw = both.batchmeta.get_partition(NS, "two", ["us", "10"])
    changed = copy.deepcopy(raw)
    changed.createTime += 1000
    changed.parameters["transient_lastDdlTime"] = "1"
    assert differences(plain(raw), plain(changed)) == []
    changed.lastAccessTime = 7
    assert differences(plain(raw), plain(changed)) == [".lastAccessTime: 0 != 7"]
    moved = copy.deepcopy(raw)
    moved.sd.location = raw.sd.location.replace("n=10", "n=1")
    assert [d.split(":")[0] for d in differences(plain(raw), plain(moved))] == [".sd.location"]
    # An exception is not an answer.
    assert differences(ask(both.hive, "get_table", (NS, "one")), ask(both.hive, "get_table", (NS, "nope")))
