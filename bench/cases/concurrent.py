"""Case 3: concurrent writers (Python threads sharing one client; batchmeta
releases the GIL) publishing tiny batches on 8 partitions and on 1
partition, against a single writer doing the same number of publishes.
SQLite embedded; PostgreSQL too when BATCHMETA_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import batchmeta as bm
import pyarrow as pa

from bench.context import BenchContext
from bench.data import make_frame
from bench.systems.batchmeta_table import BatchmetaTable


def publish_rate(table: BatchmetaTable, frame: pa.Table, partitions: list[int], per_writer: int) -> float:
    """Publishes/s of one thread per entry of ``partitions`` (a thread's
    partition), each publishing ``per_writer`` times, started together."""
    start_line = threading.Barrier(len(partitions) + 1)
    errors: list[BaseException] = []

    def writer(partition: int) -> None:
        start_line.wait()
        try:
            for _ in range(per_writer):
                table.store(frame, partition)
        except BaseException as error:  # reported after the join
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(p,)) for p in partitions]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"a writer failed: {errors[0]!r}") from errors[0]
    return len(partitions) * per_writer / elapsed


def measure_catalog(ctx: BenchContext, client: bm.Client, label: str) -> dict[str, Any]:
    """The three layouts on one catalog, each on its own table."""
    config = ctx.config
    frame = make_frame(config.small_publish_rows)
    writers = config.concurrent_writers
    per_writer = config.concurrent_publishes_per_writer
    layouts = {
        "1 writer": [0],
        f"{writers} writers, {writers} partitions": list(range(writers)),
        f"{writers} writers, 1 partition": [0] * writers,
    }
    results: dict[str, Any] = {"fsync_per_s_before": ctx.fsync_rate(), "layouts": {}}
    for name, partitions in layouts.items():
        table = BatchmetaTable(client, f"concurrent_{uuid.uuid4().hex[:8]}", label)
        table.create(frame)
        publishes = per_writer * writers // len(partitions)
        ctx.log(f"case 3: {label}, {name}: {publishes * len(partitions)} publishes")
        rate = publish_rate(table, frame, partitions, publishes)
        results["layouts"][name] = {"publishes": publishes * len(partitions), "rate_per_s": rate}
    results["fsync_per_s_after"] = ctx.fsync_rate()
    return results


def run(ctx: BenchContext) -> dict[str, Any]:
    catalogs = {"sqlite": measure_catalog(ctx, bm.Client(ctx.directory("case3", "sqlite")), "SQLite embedded")}
    if ctx.postgres_url:
        client = bm.Client(ctx.postgres_url, warehouse=ctx.directory("case3", "postgres-warehouse"))
        catalogs["postgres"] = measure_catalog(ctx, client, "PostgreSQL")
    else:
        ctx.log("case 3: BATCHMETA_TEST_POSTGRES_URL not set; PostgreSQL skipped")
    return {"writers": ctx.config.concurrent_writers, "catalogs": catalogs}
