"""A real, unchanged pyspark reads batchmeta tables through `meta serve
--hms-bind` (the Hive Metastore Thrift edge): listings, DESCRIBE, SHOW
PARTITIONS and SELECTs equal `load_dataframe`; a rollback or a new publish
is seen by the same session's next query; pinned and as-of virtual tables;
writes from Spark are refused and change nothing; store_dataframe of a
pyspark DataFrame publishes what Spark SQL and load_dataframe then read.

One Spark session (module scope) serves every test here: starting one
takes ~20 s. pyspark and Java are installed by scripts/python-build --test
and scripts/java-setup."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from conftest import HmsServer

# Installed by scripts/python-build --test: missing is a failure, not a skip.
import pyspark  # noqa: E402
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("java is missing: scripts/java-setup installs it", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

DATES = [dt.date(2016, 10, 29), dt.date(2016, 10, 30), dt.date(2016, 10, 31)]


def frame(v: int, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": [f"i{v}_{k}" for k in range(n)],
            "price": [v + k / 4 for k in range(n)],
            "qty": [v * 10 + k for k in range(n)],
        }
    )


@pytest.fixture(scope="module")
def data(hms_server: HmsServer) -> dict[str, Any]:
    """A namespace with a date-keyed table, a (string, int)-keyed table and
    an unpartitioned one."""
    c = hms_server.client
    ns = "spark_" + uuid.uuid4().hex[:8]
    c.create_namespace(ns)
    for i, d in enumerate(DATES):
        c.store_dataframe(frame(i + 1), ns, "one", partitions=[{"date": d}])
    for region in ["eu", "us"]:
        for n in [1, 2, 3]:
            c.store_dataframe(frame(n + (10 if region == "us" else 0)), ns, "two", partitions=[{"region": region, "n": n}])
    c.store_dataframe(frame(7), ns, "flat")
    return {"ns": ns}


@pytest.fixture(scope="module")
def spark(hms_server: HmsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    work = tmp_path_factory.mktemp("spark")
    old = os.getcwd()
    os.chdir(work)  # derby.log, spark-warehouse and friends land here
    s = (
        SparkSession.builder.master("local[1]")
        .appName("batchmeta-hms-test")
        .config("spark.sql.catalogImplementation", "hive")
        .config("spark.hadoop.hive.metastore.uris", f"thrift://127.0.0.1:{hms_server.thrift_port}")
        .config("spark.sql.warehouse.dir", str(work / "spark-warehouse"))
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .enableHiveSupport()
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
    os.chdir(old)


def rows(df: Any) -> list[tuple[str, ...]]:
    """Rows of a Spark DataFrame as sorted tuples of text."""
    return sorted(tuple(str(v) for v in r) for r in df.collect())


def loaded(hms_server: HmsServer, ns: str, table: str, cols: list[str], **kw: Any) -> list[tuple[str, ...]]:
    df = hms_server.client.load_dataframe(ns, table, **kw)
    out = []
    for rec in df[cols].itertuples(index=False):
        out.append(tuple(str(v.date() if isinstance(v, pd.Timestamp) else v) for v in rec))
    return sorted(out)


def test_show_databases_tables_describe_partitions(spark: SparkSession, data: dict[str, Any]) -> None:
    ns = data["ns"]
    dbs = [r[0] for r in spark.sql("SHOW DATABASES").collect()]
    assert ns in dbs and "default" in dbs
    tables = sorted(r["tableName"] for r in spark.sql(f"SHOW TABLES IN {ns}").collect())
    assert tables == ["flat", "one", "two"]  # virtual tables are never listed

    desc = {r["col_name"]: r["data_type"] for r in spark.sql(f"DESCRIBE {ns}.one").collect() if r["col_name"] and not r["col_name"].startswith("#")}
    assert desc == {"item": "string", "price": "double", "qty": "bigint", "date": "date"}
    desc2 = {r["col_name"]: r["data_type"] for r in spark.sql(f"DESCRIBE {ns}.two").collect() if r["col_name"] and not r["col_name"].startswith("#")}
    assert desc2["region"] == "string" and desc2["n"] == "bigint"

    parts = [r[0] for r in spark.sql(f"SHOW PARTITIONS {ns}.one").collect()]
    assert parts == [f"date={d}" for d in DATES]
    parts2 = [r[0] for r in spark.sql(f"SHOW PARTITIONS {ns}.two").collect()]
    assert parts2 == [f"region={r}/n={n}" for r in ["eu", "us"] for n in [1, 2, 3]]


COLS1 = ["item", "price", "qty", "date"]
COLS2 = ["item", "price", "qty", "region", "n"]


@pytest.mark.parametrize(
    ("table", "where", "partitions"),
    [
        ("one", "", None),
        ("one", "date = '2016-10-31'", [{"date": DATES[2]}]),
        ("one", "date IN ('2016-10-29', '2016-10-31')", [{"date": DATES[0]}, {"date": DATES[2]}]),
        ("one", "date >= '2016-10-30'", [{"date": DATES[1]}, {"date": DATES[2]}]),
        ("one", "date > '2016-10-29' AND date < '2016-10-31'", [{"date": DATES[1]}]),
        ("two", "", None),
        ("two", "region = 'us'", [{"region": "us", "n": n} for n in [1, 2, 3]]),
        ("two", "n IN (1, 3)", [{"region": r, "n": n} for r in ["eu", "us"] for n in [1, 3]]),
        ("two", "n > 1", [{"region": r, "n": n} for r in ["eu", "us"] for n in [2, 3]]),
        ("two", "region = 'eu' AND n = 2", [{"region": "eu", "n": 2}]),
        ("flat", "", None),
    ],
)
def test_select_equals_load_dataframe(
    spark: SparkSession, hms_server: HmsServer, data: dict[str, Any], table: str, where: str, partitions: Any
) -> None:
    ns = data["ns"]
    cols = {"one": COLS1, "two": COLS2, "flat": COLS1[:3]}[table]
    q = f"SELECT {', '.join(cols)} FROM {ns}.{table}" + (f" WHERE {where}" if where else "")
    got = rows(spark.sql(q))
    want = loaded(hms_server, ns, table, cols, partitions=partitions)
    assert got and got == want


def test_rollback_and_publish_are_seen_without_refresh(spark: SparkSession, hms_server: HmsServer) -> None:
    c = hms_server.client
    ns = "roll_" + uuid.uuid4().hex[:8]
    c.create_namespace(ns)
    c.store_dataframe(frame(1), ns, "t", partitions=[{"date": DATES[0]}])
    c.store_dataframe(frame(1), ns, "flat")
    q = f"SELECT item, qty FROM {ns}.t WHERE date = '2016-10-29'"
    qf = f"SELECT item, qty FROM {ns}.flat"
    first = rows(spark.sql(q))
    first_flat = rows(spark.sql(qf))
    assert first == [(f"i1_{k}", str(10 + k)) for k in range(3)] and first_flat == first

    c.store_dataframe(frame(2, n=2), ns, "t", partitions=[{"date": DATES[0]}])
    c.store_dataframe(frame(2, n=2), ns, "flat")
    second = [(f"i2_{k}", str(20 + k)) for k in range(2)]
    assert rows(spark.sql(q)) == second
    assert rows(spark.sql(qf)) == second

    r = hms_server.meta("rollback", f"{ns}.t", "date=2016-10-29")
    assert r.returncode == 0, r.stderr
    r = hms_server.meta("rollback", f"{ns}.flat", "")
    assert r.returncode == 0, r.stderr
    assert rows(spark.sql(q)) == first
    assert rows(spark.sql(qf)) == first


def test_pinned_and_as_of_virtual_tables(spark: SparkSession, hms_server: HmsServer) -> None:
    c = hms_server.client
    ns = "virt_" + uuid.uuid4().hex[:8]
    c.create_namespace(ns)
    r1 = c.store_dataframe(frame(1), ns, "t", partitions=[{"date": DATES[0]}])
    c.store_dataframe(frame(5), ns, "t", partitions=[{"date": DATES[1]}])
    time.sleep(1.1)
    between = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(1.1)
    c.store_dataframe(frame(2), ns, "t", partitions=[{"date": DATES[0]}])
    c.pin(ns, "t", "weekly_report", {"date": DATES[0]}, batch_id=r1.batch_id)

    pinned = rows(spark.sql(f"SELECT item, qty FROM {ns}.`t@weekly_report`"))
    assert pinned == loaded(hms_server, ns, "t", ["item", "qty"], pin="weekly_report")
    assert pinned == [(f"i1_{k}", str(10 + k)) for k in range(3)]

    stamp = between.strftime("%Y-%m-%dT%H:%M:%SZ")
    as_of = rows(spark.sql(f"SELECT item, qty, date FROM {ns}.`t@{stamp}`"))
    assert as_of == loaded(hms_server, ns, "t", ["item", "qty", "date"], as_of=between)
    assert {r[2] for r in as_of} == {"2016-10-29", "2016-10-30"}
    assert ("i1_0", "10", "2016-10-29") in as_of
    # The current table has moved on; the virtual ones are not listed.
    assert ("i2_0", "20", "2016-10-29") in rows(spark.sql(f"SELECT item, qty, date FROM {ns}.t"))
    assert [r["tableName"] for r in spark.sql(f"SHOW TABLES IN {ns}").collect()] == ["t"]
    with pytest.raises(Exception, match="(?i)not found|cannot be found"):
        spark.sql(f"SELECT * FROM {ns}.`t@no_such_pin`").collect()


def test_writes_from_spark_fail_and_change_nothing(spark: SparkSession, hms_server: HmsServer, data: dict[str, Any]) -> None:
    ns = data["ns"]
    c = hms_server.client
    before_events = len(c.events(ns))
    before_parts = [(p.partition, p.current_batch) for p in c.partitions(ns, "one")]
    statements = [
        f"INSERT INTO {ns}.one PARTITION (date='2016-11-01') VALUES ('x', 1.0, 1)",
        f"ALTER TABLE {ns}.one DROP PARTITION (date='2016-10-29')",
        f"CREATE TABLE {ns}.made_by_spark (a INT) STORED AS PARQUET",
    ]
    for sql in statements:
        with pytest.raises(Exception) as e:
            spark.sql(sql).collect()
        assert "read-only" in str(e.value) and "store_dataframe" in str(e.value), sql
    assert len(c.events(ns)) == before_events
    assert [(p.partition, p.current_batch) for p in c.partitions(ns, "one")] == before_parts
    assert sorted(t.name for t in c.tables(ns)) == ["flat", "one", "two"]
    v = hms_server.meta("verify")
    assert v.returncode == 0, v.stdout + v.stderr
    assert 'batchmeta_hms_calls_total{method="get_partitions_by_filter",outcome="ok"}' in hms_server.metrics()


def test_store_spark_dataframe_then_spark_sql_and_load_dataframe_agree(spark: SparkSession, hms_server: HmsServer) -> None:
    """store_dataframe(spark_df): Spark's executors write the batch files;
    Spark SQL through the Thrift edge and load_dataframe read the same rows.
    A schema mismatch and a wrong expected_batch are refused and change nothing."""
    import batchmeta as bm
    from pyspark.sql import functions as F

    c = hms_server.client
    ns = "sw_" + uuid.uuid4().hex[:8]
    c.create_namespace(ns)
    sdf = spark.range(0, 12).select(
        F.concat(F.lit("i"), F.col("id").cast("string")).alias("item"),
        (F.col("id") / 4).alias("price"),
        F.col("id").alias("qty"),
        F.date_add(F.lit(dt.date(2016, 10, 29)), (F.col("id") % 3).cast("int")).alias("date"),
    )
    r = c.store_dataframe(sdf, ns, "t", partition_by=["date"])
    assert r.published and r.created_table and r.rows == 12 and len(r.batch_ids) == 3
    assert [k for k, _ in c.table(ns, "t").partition_keys] == ["date"]

    want = sorted((f"i{i}", str(i), str(dt.date(2016, 10, 29) + dt.timedelta(days=i % 3))) for i in range(12))
    assert rows(spark.sql(f"SELECT item, qty, date FROM {ns}.t")) == want
    assert loaded(hms_server, ns, "t", ["item", "qty", "date"]) == want
    one = [w for w in want if w[2] == "2016-10-30"]
    assert rows(spark.sql(f"SELECT item, qty, date FROM {ns}.t WHERE date = '2016-10-30'")) == one
    assert loaded(hms_server, ns, "t", ["item", "qty", "date"], partitions=["2016-10-30"]) == one

    # One partition, with CAS on its current batch.
    current = {str(p.partition): p.current_batch for p in c.partitions(ns, "t")}
    part = sdf.filter(F.col("date") == F.lit(dt.date(2016, 10, 31))).withColumn("qty", F.col("qty") + 100)
    key = [k for k in current if "2016-10-31" in k][0]
    r2 = c.store_dataframe(part, ns, "t", partitions=["2016-10-31"], expected_batch=current[key])
    assert r2.published and r2.rows == 4
    after = rows(spark.sql(f"SELECT item, qty FROM {ns}.t WHERE date = '2016-10-31'"))
    assert after == sorted((f"i{i}", str(i + 100)) for i in range(12) if i % 3 == 2)
    assert loaded(hms_server, ns, "t", ["item", "qty"], partitions=["2016-10-31"]) == after

    before_events = len(c.events(ns))
    before_parts = [(p.partition, p.current_batch) for p in c.partitions(ns, "t")]
    with pytest.raises(bm.ConflictError):
        c.store_dataframe(part, ns, "t", partitions=["2016-10-31"], expected_batch=current[key])
    with pytest.raises(bm.SchemaMismatchError):
        c.store_dataframe(part.withColumn("qty", F.col("qty").cast("string")), ns, "t", partitions=["2016-10-31"])
    with pytest.raises(bm.InvalidInputError, match="hint"):
        c.store_dataframe(part, ns, "t", partitions=["2016-10-30"])  # rows of 2016-10-31
    assert len(c.events(ns)) == before_events
    assert [(p.partition, p.current_batch) for p in c.partitions(ns, "t")] == before_parts
    assert rows(spark.sql(f"SELECT item, qty FROM {ns}.t WHERE date = '2016-10-31'")) == after
    v = hms_server.meta("verify")
    assert v.returncode == 0, v.stdout + v.stderr
