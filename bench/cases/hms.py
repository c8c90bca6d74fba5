"""Case hms: the Hive Metastore Thrift edge (``meta serve --hms-bind``,
issue 17) on a table of N int-keyed partitions, against a real Hive
Metastore 2.3.10 (pyspark's jars, embedded Derby) holding the same table
with the same partition locations:

- ``get_partitions_by_filter``: one partition by equality, and a 1% range
  (N/100 partitions), interleaved between the two servers;
- Spark's first query: a fresh pyspark process with ``hive.metastore.uris``
  on the server, ``SELECT ... WHERE part = X`` on the table; session start
  and the query (to its first result) are timed apart.

The real metastore is filled with ``add_partitions`` in batches, copied
from batchmeta's own answers; the fill rate is reported. Full mode: the
mode's big table (1,000,000 partitions) in batchmeta; the Hive Metastore
gets ``Config.hms_hive_partitions`` of them, 100,000: filling it ran at
190-750 partitions/s here (2 cores, busy or idle), so 1,000,000 would take
20-90 minutes (not tried). Quick mode: 10,000 in both. Standalone:

    python -m bench.cases.hms --partitions 10000 --meta target/release/meta
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from types import ModuleType
from typing import Any

import batchmeta as bm
from bench.cases.iceberg import frame
from bench.context import REPO_ROOT
from bench.server import MetaServer, free_port
from bench.timing import Operation, run_interleaved, summarize

NAMESPACE = "bench"
TABLE = "hms"
KEY = "part"
#: Partitions per building commit in batchmeta, and per add_partitions call
#: (and per copying filter call) into the Hive Metastore.
COMMIT_SIZE = 10_000
HIVE_BATCH = 1_000
EQUALITY_ROUNDS = 20
RANGE_ROUNDS = 5
#: Cold Spark processes per server.
SPARK_ROUNDS = 2
SPARK_TIMEOUT = 1800


def hive_metastore() -> ModuleType:
    """The tests' helper (bindings/python/tests/hive_metastore.py): the
    Thrift client of the Hive 2.3 IDL and the real Hive Metastore runner."""
    path = os.path.join(REPO_ROOT, "bindings", "python", "tests", "hive_metastore.py")
    spec = importlib.util.spec_from_file_location("hive_metastore", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(directory: str, partitions: int, log: Any) -> dict[str, Any]:
    """The batchmeta table: ``partitions`` partitions in commits of ``COMMIT_SIZE``."""
    client = bm.Client(directory)
    client.create_namespace(NAMESPACE, exist_ok=True)
    start = time.perf_counter()
    for first in range(0, partitions, COMMIT_SIZE):
        count = min(COMMIT_SIZE, partitions - first)
        client.store_dataframe(frame(first, count), NAMESPACE, TABLE, partition_by=[KEY])
        log(f"hms: batchmeta {first + count:,} / {partitions:,} partitions")
    return {"partitions": partitions, "build_s": time.perf_counter() - start}


def fill_hive(hm: ModuleType, batchmeta: Any, hive: Any, partitions: int, log: Any) -> dict[str, Any]:
    """The same database, table and first ``partitions`` partitions in the
    real metastore, copied from batchmeta's answers."""
    hive.create_database(batchmeta.get_database(NAMESPACE))
    hive.create_table(batchmeta.get_table(NAMESPACE, TABLE))
    seconds = 0.0
    for first in range(0, partitions, HIVE_BATCH):
        last = min(first + HIVE_BATCH, partitions)
        parts = batchmeta.get_partitions_by_filter(NAMESPACE, TABLE, f"{KEY} >= {first} and {KEY} < {last}", -1)
        start = time.perf_counter()
        hive.add_partitions(parts)
        seconds += time.perf_counter() - start
        if last % (HIVE_BATCH * 10) == 0 or last == partitions:
            log(f"hms: Hive Metastore {last:,} / {partitions:,} partitions ({last / seconds:,.0f}/s)")
    return {"partitions": partitions, "add_partitions_s": seconds, "rate_per_s": partitions / seconds, "batch": HIVE_BATCH}


def filter_calls(clients: dict[str, Any], partitions: int) -> dict[str, Any]:
    """Equality and 1% range, interleaved between the servers; each answer
    is checked for its partition count."""
    middle = partitions // 2
    width = max(1, partitions // 100)
    filters = {
        "equality": (f"{KEY} = {middle}", 1, EQUALITY_ROUNDS),
        "1% range": (f"{KEY} >= {middle} and {KEY} < {middle + width}", width, RANGE_ROUNDS),
    }
    out: dict[str, Any] = {
        "equality_filter": filters["equality"][0],
        "range_filter": filters["1% range"][0],
        "range_partitions": width,
        "rounds": {label: rounds for label, (_, _, rounds) in filters.items()},
    }

    def checked(client: Any, flt: str, want: int) -> None:
        got = len(client.get_partitions_by_filter(NAMESPACE, TABLE, flt, -1))
        if got != want:
            raise RuntimeError(f"hms: {flt!r} listed {got} partitions, expected {want}")

    for label, (flt, want, rounds) in filters.items():
        ops = [Operation(f"{server}", lambda c=client, f=flt, w=want: checked(c, f, w)) for server, client in clients.items()]
        samples = run_interleaved(ops, rounds)
        out[label] = {server: summarize(seconds) for server, seconds in samples.items()}
    return out


def spark_first_query(port: int, partitions: int, work: str) -> dict[str, Any]:
    """A fresh pyspark process: session start, then the first query's result."""
    os.makedirs(work, exist_ok=True)
    cmd = [sys.executable, "-m", "bench.cases.hms", "spark", "--port", str(port), "--part", str(partitions // 3), "--work", work]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=SPARK_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"hms: the Spark query failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def spark_rounds(ports: dict[str, int], partitions: int, work: str) -> dict[str, Any]:
    """``SPARK_ROUNDS`` cold Spark processes per server, in A B B A order (the
    first JVM of a run also warms the page cache for the jars); the best run
    of each server is reported, with every run kept."""
    runs: dict[str, list[dict[str, Any]]] = {server: [] for server in ports}
    order = list(ports)
    for round_index in range(SPARK_ROUNDS):
        for server in order if round_index % 2 == 0 else reversed(order):
            runs[server].append(spark_first_query(ports[server], partitions, os.path.join(work, f"spark-{len(runs[server])}")))
    return {server: {**min(r, key=lambda x: x["total_s"]), "runs": r} for server, r in runs.items()}


def spark_main(port: int, part: int, work: str) -> None:
    """In the fresh process: time the session, then the query."""
    start = time.perf_counter()
    from pyspark.sql import SparkSession

    os.chdir(work)
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("batchmeta-bench-hms")
        .config("spark.sql.catalogImplementation", "hive")
        .config("spark.hadoop.hive.metastore.uris", f"thrift://127.0.0.1:{port}")
        .config("spark.sql.warehouse.dir", os.path.join(work, "spark-warehouse"))
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .enableHiveSupport()
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    ready = time.perf_counter()
    rows = spark.sql(f"SELECT id, x FROM {NAMESPACE}.{TABLE} WHERE {KEY} = {part}").collect()
    done = time.perf_counter()
    if [r["id"] for r in rows] != [part]:
        raise SystemExit(f"wrong rows for {KEY} = {part}: {rows}")
    spark.stop()
    print(json.dumps({"session_s": ready - start, "first_query_s": done - ready, "total_s": done - start, "rows": len(rows)}))


def measure(meta_binary: str, directory: str, hive_partitions: int, partitions: int, work: str, log: Any) -> dict[str, Any]:
    """Fills the real metastore, then measures both servers."""
    hm = hive_metastore()
    thrift_port = free_port()
    extra = ("--hms-bind", f"127.0.0.1:{thrift_port}")
    with MetaServer(meta_binary, directory, os.path.join(work, "meta-serve.log"), extra) as server:
        ours = hm.connect(thrift_port, timeout_ms=3_600_000)
        results: dict[str, Any] = {"partitions": partitions, "hive_partitions": hive_partitions}
        # batchmeta alone at its full size (when the Hive Metastore holds fewer).
        if hive_partitions != partitions:
            results["batchmeta_full_size"] = filter_calls({"batchmeta": ours}, partitions)
        log("hms: starting the Hive Metastore")
        hive_dir = os.path.join(work, "hive")
        started = time.perf_counter()
        with hm.RealHiveMetastore(hive_dir, heap_mb=2048) as real:
            results["hive_start_s"] = time.perf_counter() - started
            theirs = hm.connect(real.port, timeout_ms=3_600_000)
            try:
                results["hive_fill"] = fill_hive(hm, ours, theirs, hive_partitions, log)
                if hive_partitions == partitions:
                    results["filters"] = filter_calls({"batchmeta": ours, "Hive Metastore 2.3.10": theirs}, partitions)
                else:
                    # Same-size comparison on a copy of the first partitions: the
                    # filters pick from the range that both hold.
                    results["filters"] = filter_calls({"batchmeta": ours, "Hive Metastore 2.3.10": theirs}, hive_partitions)
                log(f"hms: filters {results['filters']}")
                results["spark"] = spark_rounds({"batchmeta": thrift_port, "Hive Metastore 2.3.10": real.port}, hive_partitions, work)
                if hive_partitions != partitions:
                    results["spark_full_size"] = spark_rounds({"batchmeta": thrift_port}, partitions, os.path.join(work, "full"))
                log(f"hms: spark {results['spark']}")
            finally:
                theirs.close()
        ours.close()
    return results


def run(ctx: Any) -> dict[str, Any]:
    """The case at the mode's sizes (the big table of case 4)."""
    partitions = ctx.config.big_partitions
    hive_partitions = min(partitions, ctx.config.hms_hive_partitions)
    directory = ctx.directory("hms", "catalog")
    built = build(directory, partitions, ctx.log)
    ctx.log(f"hms: built {partitions:,} partitions in {built['build_s']:.1f} s")
    measured = measure(ctx.meta_binary, directory, hive_partitions, partitions, ctx.directory("hms", "work"), ctx.log)
    return {**built, **measured}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "spark":
        p = argparse.ArgumentParser()
        p.add_argument("spark")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--part", type=int, required=True)
        p.add_argument("--work", required=True)
        a = p.parse_args()
        spark_main(a.port, a.part, a.work)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--partitions", type=int, default=10_000)
    p.add_argument("--hive-partitions", type=int, help="partitions copied into the Hive Metastore (default: all)")
    p.add_argument("--meta", default="target/release/meta", help="the meta binary")
    p.add_argument("--dir", default=None, help="scratch directory (default: a new temporary one)")
    a = p.parse_args()
    directory = a.dir or tempfile.mkdtemp(prefix="bench-hms-")
    catalog = os.path.join(directory, "catalog")
    built = build(catalog, a.partitions, print)
    measured = measure(os.path.abspath(a.meta), catalog, a.hive_partitions or a.partitions, a.partitions, os.path.join(directory, "work"), print)
    print(json.dumps({**built, **measured}, indent=2))


if __name__ == "__main__":
    main()
