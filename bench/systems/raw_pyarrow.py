"""Raw pyarrow: zstd Parquet into a fresh folder per write; no catalog, no
history, no durability (the floor every system is compared to)."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from bench.systems.base import PartitionedTable

COMPRESSION = "zstd"


class RawPyarrowTable(PartitionedTable):
    """Parquet files under ``root/part=N/write-K/``; the latest path per
    partition is kept in memory (the reader is told where to look)."""

    name = "raw pyarrow"

    def __init__(self, root: str) -> None:
        self.root = root
        self.write_count = 0
        self.latest: dict[int, str] = {}

    def create(self, frame: pa.Table) -> None:
        os.makedirs(self.root, exist_ok=True)

    def store(self, prepared: pa.Table, partition: int) -> None:
        self.write_count += 1
        folder = os.path.join(self.root, f"part={partition}", f"write-{self.write_count:08d}")
        os.makedirs(folder)
        path = os.path.join(folder, "data.parquet")
        pq.write_table(prepared, path, compression=COMPRESSION)
        self.latest[partition] = path

    def load_arrow(self, partition: int) -> pa.Table:
        return pq.read_table(self.latest[partition])
