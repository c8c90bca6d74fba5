"""Case iceberg: the read-only Iceberg REST catalog (``/iceberg``, issue 18)
on a table of N partitions and E further pointer-moving events (single
partition publishes): loadTable latency (the first load, which writes the
manifests, manifest lists and metadata file, then warm loads), the metadata
size (the loadTable response, the current manifest list, everything under
``_iceberg/``) and DuckDB's first query (ATTACH + ``count(*)``, extensions
already loaded) against the release ``meta serve``.

Full mode: 10,000 and 1,000,000 partitions, 1,000 events. Quick mode: 10,000
partitions, 100 events. Standalone, at any size:

    python -m bench.cases.iceberg --partitions 2000 --events 100 --meta target/release/meta
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from typing import Any

import numpy as np
import pyarrow as pa

import batchmeta as bm
from bench.server import MetaServer

NAMESPACE = "bench"
TABLE = "ice"
KEY = "part"
#: Partitions per commit while building.
COMMIT_SIZE = 10_000
WARM_ROUNDS = 10
SEED = 18


def frame(first: int, count: int) -> pa.Table:
    """One row per partition ``first`` .. ``first + count - 1``."""
    ids = np.arange(first, first + count, dtype=np.int64)
    return pa.table({"id": ids, "x": ids.astype(np.float64) / 3, KEY: ids})


def build(directory: str, partitions: int, events: int, log: Any = print) -> dict[str, Any]:
    """The table: ``partitions`` partitions in commits of ``COMMIT_SIZE``,
    then ``events`` single-partition publishes."""
    client = bm.Client(directory)
    client.create_namespace(NAMESPACE, exist_ok=True)
    start = time.perf_counter()
    for first in range(0, partitions, COMMIT_SIZE):
        count = min(COMMIT_SIZE, partitions - first)
        client.store_dataframe(frame(first, count), NAMESPACE, TABLE, partition_by=[KEY])
        log(f"iceberg: {first + count:,} / {partitions:,} partitions")
    rng = np.random.default_rng(SEED)
    for p in rng.integers(0, partitions, size=events):
        one = frame(int(p), 1).drop_columns([KEY])
        client.store_dataframe(one, NAMESPACE, TABLE, partitions=[int(p)])
    return {"partitions": partitions, "events": events, "build_s": time.perf_counter() - start}


def load(url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    with urllib.request.urlopen(f"{url}/iceberg/v1/namespaces/{NAMESPACE}/tables/{TABLE}", timeout=3600) as r:
        body = r.read()
    return time.perf_counter() - start, body


def duckdb_first_query(url: str) -> dict[str, float]:
    import duckdb
    import duckdb_extensions

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions=false")
    con.execute("SET autoload_known_extensions=false")
    start = time.perf_counter()
    for ext in ["httpfs", "avro", "iceberg"]:
        duckdb_extensions.import_extension(ext, con=con)
        con.execute(f"LOAD {ext}")
    loaded = time.perf_counter()
    con.execute(f"ATTACH 'bm' AS ice (TYPE iceberg, ENDPOINT '{url}/iceberg', AUTHORIZATION_TYPE 'none')")
    (rows,) = con.execute(f"SELECT count(*) FROM ice.{NAMESPACE}.{TABLE}").fetchone()
    done = time.perf_counter()
    return {"extensions_s": loaded - start, "attach_and_first_query_s": done - loaded, "rows": rows}


def measure(meta_binary: str, directory: str, log_path: str) -> dict[str, Any]:
    """Loads and sizes against a fresh server on ``directory``."""
    with MetaServer(meta_binary, directory, log_path) as server:
        first_s, body = load(server.url)
        warm = [load(server.url)[0] for _ in range(WARM_ROUNDS)]
        metadata = json.loads(body)["metadata"]
        current = next(s for s in metadata["snapshots"] if s["snapshot-id"] == metadata["current-snapshot-id"])
        list_path = current["manifest-list"].removeprefix("file://")
        root = os.path.join(directory, "warehouse", NAMESPACE, TABLE, "_iceberg")
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs]
        duck = duckdb_first_query(server.url)
    return {
        "first_load_s": first_s,
        "warm_load_median_s": statistics.median(warm),
        "warm_load_max_s": max(warm),
        "response_bytes": len(body),
        "snapshots": len(metadata["snapshots"]),
        "current_manifest_list_bytes": os.path.getsize(list_path),
        "iceberg_files": len(sizes),
        "iceberg_bytes": sum(sizes),
        "duckdb": duck,
    }


def run(ctx: Any) -> dict[str, Any]:
    """The case at the mode's sizes."""
    full = ctx.config.mode == "full"
    sizes = [10_000, 1_000_000] if full else [10_000]
    events = 1_000 if full else 100
    out: dict[str, Any] = {"events": events, "tables": []}
    for partitions in sizes:
        directory = ctx.directory("iceberg", f"p{partitions}")
        built = build(directory, partitions, events, ctx.log)
        ctx.log(f"iceberg: built {partitions:,} partitions in {built['build_s']:.1f} s; measuring")
        measured = measure(ctx.meta_binary, directory, os.path.join(ctx.work_dir, f"iceberg-{partitions}.log"))
        ctx.log(f"iceberg: {partitions:,} partitions: {measured}")
        out["tables"].append({**built, **measured})
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--partitions", type=int, default=10_000)
    p.add_argument("--events", type=int, default=1_000)
    p.add_argument("--meta", default="target/release/meta", help="the meta binary")
    p.add_argument("--dir", default=None, help="scratch directory (default: a new temporary one)")
    a = p.parse_args()
    directory = a.dir or tempfile.mkdtemp(prefix="bench-iceberg-")
    built = build(directory, a.partitions, a.events)
    measured = measure(os.path.abspath(a.meta), directory, os.path.join(directory, "server.log"))
    print(json.dumps({**built, **measured}, indent=2))


if __name__ == "__main__":
    main()
