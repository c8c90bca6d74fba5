"""deltalake (delta-rs): overwrite one partition with a predicate, read it
with a partition filter. zstd like the others."""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable, WriterProperties, write_deltalake

from bench.data import with_partition_column
from bench.systems.base import PARTITION_KEY, PartitionedTable

WRITER_PROPERTIES = WriterProperties(compression="ZSTD")


class DeltaPartitionedTable(PartitionedTable):
    """A Delta table at ``uri`` partitioned by ``part``. One ``DeltaTable``
    handle is kept and brought up to date before each read (a long-lived
    reader); ``cold_files`` opens it from scratch."""

    name = "deltalake"

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.handle: DeltaTable | None = None

    def create(self, frame: pa.Table) -> None:
        empty = with_partition_column(frame.slice(0, 0), PARTITION_KEY, 0)
        write_deltalake(self.uri, empty, partition_by=[PARTITION_KEY], mode="error", writer_properties=WRITER_PROPERTIES)
        self.handle = DeltaTable(self.uri)

    def prepare(self, frame: pa.Table, partition: int) -> pa.Table:
        return with_partition_column(frame, PARTITION_KEY, partition)

    def store(self, prepared: pa.Table, partition: int) -> None:
        write_deltalake(
            self.uri,
            prepared,
            partition_by=[PARTITION_KEY],
            mode="overwrite",
            predicate=f"{PARTITION_KEY} = {partition}",
            writer_properties=WRITER_PROPERTIES,
        )

    def append_partitioned(self, frame: pa.Table) -> None:
        """Appends a frame that carries its own ``part`` column (many partitions in one commit)."""
        write_deltalake(self.uri, frame, partition_by=[PARTITION_KEY], mode="append", writer_properties=WRITER_PROPERTIES)

    def fresh(self) -> DeltaTable:
        """The kept handle, updated to the latest version."""
        assert self.handle is not None, "create() first"
        self.handle.update_incremental()
        return self.handle

    def load_arrow(self, partition: int) -> pa.Table:
        return self.fresh().to_pyarrow_table(partitions=[(PARTITION_KEY, "=", str(partition))])

    def files(self, partition: int) -> list[str]:
        """One partition's data files through the updated handle."""
        return self.fresh().file_uris(partition_filters=[(PARTITION_KEY, "=", str(partition))])

    def cold_files(self, partition: int) -> list[str]:
        """One partition's data files, opening the table from scratch."""
        return DeltaTable(self.uri).file_uris(partition_filters=[(PARTITION_KEY, "=", str(partition))])

    def list_partitions(self) -> list[dict[str, str]]:
        """Every partition of the current version."""
        return self.fresh().partitions()

    def rollback(self) -> None:
        """Restores the version before the current one."""
        handle = self.fresh()
        handle.restore(handle.version() - 1)
