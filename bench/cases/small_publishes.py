"""Case 2: successive tiny publishes to one partition; the time of each
publish by its position in the history (does publishing slow down as the
history grows?). Systems take turns publish by publish."""

from __future__ import annotations

import statistics
from typing import Any

import batchmeta as bm

from bench.context import BenchContext
from bench.data import make_frame
from bench.systems.base import PartitionedTable
from bench.systems.batchmeta_table import BatchmetaTable
from bench.systems.delta import DeltaPartitionedTable
from bench.systems.iceberg import IcebergPartitionedTable
from bench.systems.naive_sqlite import NaiveSqliteTable
from bench.timing import timed

PARTITION = 0
#: The system name of batchmeta on a PostgreSQL catalog (issue 22).
POSTGRES = "batchmeta postgres"
#: Positions compared: the first and the last this many publishes.
EDGE_WINDOW = 100
#: Positions per row of the by-position table in the report.
BUCKETS = 10


def position_profile(seconds: list[float]) -> dict[str, Any]:
    """Rate, first-vs-last medians and medians by tenth of the sequence."""
    window = min(EDGE_WINDOW, len(seconds) // 2)
    first = statistics.median(seconds[:window])
    last = statistics.median(seconds[-window:])
    bucket = max(1, len(seconds) // BUCKETS)
    return {
        "count": len(seconds),
        "total_s": sum(seconds),
        "rate_per_s": len(seconds) / sum(seconds),
        "median_s": statistics.median(seconds),
        "edge_window": window,
        "first_median_s": first,
        "last_median_s": last,
        "last_over_first": last / first,
        "bucket_medians_s": [statistics.median(seconds[i : i + bucket]) for i in range(0, len(seconds), bucket)],
    }


def run(ctx: BenchContext) -> dict[str, Any]:
    config = ctx.config
    tiny = make_frame(config.small_publish_rows)
    plans: list[tuple[PartitionedTable, int]] = [
        (BatchmetaTable(bm.Client(ctx.directory("case2", "batchmeta")), "small_publishes", "batchmeta embedded"), config.small_publishes),
        (NaiveSqliteTable(ctx.directory("case2", "naive")), config.small_publishes),
        (DeltaPartitionedTable(ctx.directory("case2", "delta")), config.small_publishes_peers),
        (IcebergPartitionedTable(ctx.directory("case2", "iceberg"), "small_publishes"), config.small_publishes_peers),
    ]
    if ctx.postgres_url:
        # The shared service's catalog, one writer, the warehouse on the same disk.
        client = bm.Client(ctx.postgres_url, warehouse=ctx.directory("case2", "postgres-warehouse"))
        plans.insert(1, (BatchmetaTable(client, "small_publishes", POSTGRES), config.small_publishes))
    else:
        ctx.log("case 2: BATCHMETA_TEST_POSTGRES_URL not set; batchmeta on PostgreSQL skipped")
    prepared = {}
    for table, _ in plans:
        table.create(tiny)
        prepared[table.name] = table.prepare(tiny, PARTITION)
    fsync_before = ctx.fsync_rate()
    ctx.log(f"case 2: fsync rate {fsync_before:.0f}/s; publishing (batchmeta {config.small_publishes}, peers {config.small_publishes_peers})")
    samples: dict[str, list[float]] = {table.name: [] for table, _ in plans}
    for position in range(max(count for _, count in plans)):
        for table, count in plans:
            if position < count:
                samples[table.name].append(timed(lambda t=table: t.store(prepared[t.name], PARTITION)))
    fsync_after = ctx.fsync_rate()
    for table, _ in plans:
        table.close()
    return {
        "rows_per_publish": tiny.num_rows,
        "fsync_per_s": {"before": fsync_before, "after": fsync_after},
        "systems": {name: {**position_profile(seconds), "samples": seconds} for name, seconds in samples.items()},
    }
