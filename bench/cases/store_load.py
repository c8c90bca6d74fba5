"""Case 1: store one partition of a 30-partition table and load it back
(Arrow and pandas), every system on the same frame, rounds interleaved."""

from __future__ import annotations

import os
from typing import Any

import batchmeta as bm

from bench.context import BenchContext
from bench.data import make_frame, mib
from bench.server import MetaServer
from bench.systems.base import PartitionedTable
from bench.systems.batchmeta_table import BatchmetaTable
from bench.systems.delta import DeltaPartitionedTable
from bench.systems.iceberg import IcebergPartitionedTable
from bench.systems.naive_sqlite import NaiveSqliteTable
from bench.systems.raw_pyarrow import RawPyarrowTable
from bench.timing import Operation, run_interleaved, summarize

#: The measured partition; the others hold filler rows.
MEASURED_PARTITION = 7
#: The other partitions hold this fraction of the measured partition's rows.
FILLER_FRACTION = 10
TO_PANDAS = "pyarrow to_pandas"


def fill(table: PartitionedTable, filler: Any, partitions: int) -> None:
    """Creates the table and stores every partition once (untimed)."""
    table.create(filler)
    for partition in range(partitions):
        table.store(table.prepare(filler, partition), partition)


def run(ctx: BenchContext) -> dict[str, Any]:
    config = ctx.config
    frame = make_frame(config.partition_rows)
    filler = frame.slice(0, config.partition_rows // FILLER_FRACTION)
    served_dir = ctx.directory("case1", "batchmeta-served")
    with MetaServer(ctx.meta_binary, served_dir, os.path.join(ctx.directory("logs"), "case1-serve.log")) as server:
        tables: list[PartitionedTable] = [
            RawPyarrowTable(ctx.directory("case1", "raw")),
            NaiveSqliteTable(ctx.directory("case1", "naive")),
            DeltaPartitionedTable(ctx.directory("case1", "delta")),
            IcebergPartitionedTable(ctx.directory("case1", "iceberg"), "store_load"),
            BatchmetaTable(bm.Client(ctx.directory("case1", "batchmeta")), "store_load", "batchmeta embedded"),
            BatchmetaTable(bm.Client(server.url, direct_data=True), "store_load_direct", "batchmeta serve (direct data)"),
            BatchmetaTable(bm.Client(server.url, direct_data=False), "store_load_upload", "batchmeta serve (upload)"),
        ]
        for table in tables:
            ctx.log(f"case 1: filling {config.table_partitions} partitions of {table.name}")
            fill(table, filler, config.table_partitions)
        prepared = {table.name: table.prepare(frame, MEASURED_PARTITION) for table in tables}
        operations = []
        for table in tables:
            operations.append(Operation(f"store/{table.name}", lambda t=table: t.store(prepared[t.name], MEASURED_PARTITION)))
        for table in tables:
            operations.append(Operation(f"load_arrow/{table.name}", lambda t=table: t.load_arrow(MEASURED_PARTITION)))
        for table in tables:
            operations.append(Operation(f"load_pandas/{table.name}", lambda t=table: t.load_pandas(MEASURED_PARTITION)))
        # What pyarrow's own to_pandas costs on the same rows: the most a
        # pandas load may add to an Arrow load.
        raw = tables[0]
        raw.store(prepared[raw.name], MEASURED_PARTITION)
        loaded = raw.load_arrow(MEASURED_PARTITION)
        operations.append(Operation(TO_PANDAS, loaded.to_pandas))
        ctx.log(f"case 1: {config.store_load_rounds} interleaved rounds of {len(operations)} operations")
        samples = run_interleaved(operations, config.store_load_rounds)
        row_counts = {table.name: table.load_arrow(MEASURED_PARTITION).num_rows for table in tables}
        for table in tables:
            table.close()
    wrong = {name: rows for name, rows in row_counts.items() if rows != frame.num_rows}
    if wrong:
        raise RuntimeError(f"case 1: systems read back the wrong row count: {wrong} (expected {frame.num_rows})")
    results: dict[str, Any] = {
        "rows": frame.num_rows,
        "arrow_mib": mib(frame.nbytes),
        "table_partitions": config.table_partitions,
        "filler_rows": filler.num_rows,
        "systems": [table.name for table in tables],
    }
    for operation in ("store", "load_arrow", "load_pandas"):
        results[operation] = {
            table.name: {**summarize(samples[f"{operation}/{table.name}"]), "samples": samples[f"{operation}/{table.name}"]}
            for table in tables
        }
    results["to_pandas"] = summarize(samples[TO_PANDAS])
    return results
