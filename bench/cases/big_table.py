"""Case 4: a table with very many partitions (1,000,000 in full mode, one
event each): resolve one partition, list a page of 1,000, list all, one
partition's history, an audit page by time range, rollback. batchmeta is
built through its public API in large multi-partition commits (the build
is timed and reported). The peers get a smaller table (issue 7 quotes them
at 10,000 partitions), and batchmeta is measured at that size too."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

import batchmeta as bm
import numpy as np
import pyarrow as pa

from bench.context import BenchContext
from bench.data import make_frame, with_partition_column
from bench.systems.base import PARTITION_KEY
from bench.systems.batchmeta_table import NAMESPACE, BatchmetaTable
from bench.systems.delta import DeltaPartitionedTable
from bench.systems.iceberg import IcebergPartitionedTable
from bench.timing import Operation, run_interleaved, summarize

PAGE = 1_000
#: Rounds of "list all" (slow by nature, so fewer).
LIST_ALL_ROUNDS = 3
#: The partition that rollbacks undo a fresh publish on.
ROLLBACK_PARTITION = 0
SEED = 11


def partition_frame(first: int, count: int) -> pa.Table:
    """One row per partition ``first`` .. ``first + count - 1``."""
    frame = make_frame(count, seed=first, first_id=first)
    return frame.append_column(pa.field(PARTITION_KEY, pa.int32()), pa.array(np.arange(first, first + count, dtype=np.int32)))


def random_partitions(partitions: int) -> Iterator[int]:
    """An endless deterministic stream of partition numbers."""
    rng = np.random.default_rng(SEED)
    while True:
        yield from (int(p) for p in rng.integers(0, partitions, size=1_000))


def build_batchmeta(ctx: BenchContext, table: BatchmetaTable, partitions: int, commit_size: int) -> dict[str, Any]:
    """Publishes ``partitions`` partitions in commits of ``commit_size``;
    returns the build time and the time window of the middle commit."""
    table.create(make_frame(1))
    commits = (partitions + commit_size - 1) // commit_size
    window: tuple[str, str] | None = None
    commit_seconds = []
    for index in range(commits):
        first = index * commit_size
        frame = partition_frame(first, min(commit_size, partitions - first))
        before = dt.datetime.now(dt.timezone.utc)
        start = time.perf_counter()
        table.store_partitioned(frame)
        commit_seconds.append(time.perf_counter() - start)
        if index == commits // 2:
            window = (before.isoformat(), dt.datetime.now(dt.timezone.utc).isoformat())
        ctx.log(f"case 4: {table.name}: {first + frame.num_rows:,} / {partitions:,} partitions ({commit_seconds[-1]:.1f} s)")
    assert window is not None
    return {"partitions": partitions, "commit_size": commit_size, "commits": commits, "seconds": sum(commit_seconds), "commit_seconds": commit_seconds, "audit_window": window}


def batchmeta_queries(table: BatchmetaTable, partitions: int, window: tuple[str, str], tiny: pa.Table) -> list[Operation]:
    """The timed batchmeta operations on a built table."""
    picks = random_partitions(partitions)
    client = table.client
    name = table.table_name
    since, until = (dt.datetime.fromisoformat(t) for t in window)
    return [
        Operation("resolve one partition", lambda: table.files(next(picks))),
        Operation(f"list a page of {PAGE:,}", lambda: client.partitions(NAMESPACE, name, limit=PAGE)),
        Operation("one partition's history", lambda: client.history(NAMESPACE, name, next(picks))),
        Operation(f"audit page of {PAGE:,} by time range", lambda: client.events(NAMESPACE, name, since=since, until=until, limit=PAGE)),
        Operation("rollback", lambda: table.rollback(ROLLBACK_PARTITION), prepare=lambda: table.store(tiny, ROLLBACK_PARTITION)),
    ]


def measure(operations: list[Operation], list_all: Callable[[], object], rounds: int) -> dict[str, Any]:
    """Interleaved rounds of ``operations``, then a few rounds of ``list_all``."""
    samples = run_interleaved(operations, rounds)
    samples["list all"] = run_interleaved([Operation("list all", list_all)], LIST_ALL_ROUNDS)["list all"]
    return {label: summarize(seconds) for label, seconds in samples.items()}


def run_batchmeta(ctx: BenchContext, label: str, partitions: int) -> dict[str, Any]:
    """Builds and measures one batchmeta table of ``partitions`` partitions."""
    config = ctx.config
    table = BatchmetaTable(bm.Client(ctx.directory("case4", label)), "big", f"batchmeta {partitions:,}")
    build = build_batchmeta(ctx, table, partitions, min(config.big_build_commit, partitions))
    tiny = make_frame(config.small_publish_rows)
    operations = batchmeta_queries(table, partitions, tuple(build["audit_window"]), tiny)
    # partitions() stops at 10,000 unless given a larger limit.
    results = measure(operations, lambda: table.client.partitions(NAMESPACE, "big", limit=partitions), config.big_rounds)
    listed = len(table.client.partitions(NAMESPACE, "big", limit=partitions))
    if listed != partitions:
        raise RuntimeError(f"case 4: batchmeta lists {listed} partitions, expected {partitions}")
    return {"build": build, "operations": results, "directory": ctx.directory("case4", label)}


def run_delta(ctx: BenchContext, partitions: int) -> dict[str, Any]:
    """deltalake at ``partitions`` partitions, built in one append."""
    table = DeltaPartitionedTable(ctx.directory("case4", "delta"))
    tiny = make_frame(ctx.config.small_publish_rows)
    table.create(tiny)
    start = time.perf_counter()
    table.append_partitioned(partition_frame(0, partitions))
    build_seconds = time.perf_counter() - start
    picks = random_partitions(partitions)
    prepared = with_partition_column(tiny, PARTITION_KEY, ROLLBACK_PARTITION)
    operations = [
        Operation("resolve one partition", lambda: table.files(next(picks))),
        Operation("resolve one partition (cold open)", lambda: table.cold_files(next(picks))),
        Operation("rollback", table.rollback, prepare=lambda: table.store(prepared, ROLLBACK_PARTITION)),
    ]
    return {"build": {"partitions": partitions, "seconds": build_seconds}, "operations": measure(operations, table.list_partitions, ctx.config.big_rounds)}


def run_iceberg(ctx: BenchContext, partitions: int) -> dict[str, Any]:
    """pyiceberg at ``partitions`` partitions, built in one append."""
    table = IcebergPartitionedTable(ctx.directory("case4", "iceberg"), "big")
    tiny = make_frame(ctx.config.small_publish_rows)
    table.create(tiny)
    start = time.perf_counter()
    table.append_partitioned(partition_frame(0, partitions))
    build_seconds = time.perf_counter() - start
    picks = random_partitions(partitions)
    prepared = with_partition_column(tiny, PARTITION_KEY, ROLLBACK_PARTITION)
    operations = [
        Operation("resolve one partition", lambda: table.files(next(picks))),
        Operation("rollback", table.rollback, prepare=lambda: table.store(prepared, ROLLBACK_PARTITION)),
    ]
    return {"build": {"partitions": partitions, "seconds": build_seconds}, "operations": measure(operations, table.list_partitions, ctx.config.big_rounds)}


def run(ctx: BenchContext) -> dict[str, Any]:
    config = ctx.config
    results: dict[str, Any] = {"page": PAGE, "peer_partitions": config.peer_big_partitions, "big_partitions": config.big_partitions}
    ctx.log(f"case 4: peers at {config.peer_big_partitions:,} partitions")
    results["at_peer_size"] = {
        "batchmeta embedded": run_batchmeta(ctx, "batchmeta-peer-size", config.peer_big_partitions),
        "deltalake": run_delta(ctx, config.peer_big_partitions),
        "pyiceberg": run_iceberg(ctx, config.peer_big_partitions),
    }
    if config.big_partitions != config.peer_big_partitions:
        results["big"] = run_batchmeta(ctx, "batchmeta-big", config.big_partitions)
    else:
        results["big"] = results["at_peer_size"]["batchmeta embedded"]
    return results
