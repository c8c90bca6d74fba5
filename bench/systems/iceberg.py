"""pyiceberg with its SQL catalog on SQLite: overwrite one partition with a
filter, scan it with a row filter. Identity partitioning on ``part``."""

from __future__ import annotations

import os
import warnings

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import EqualTo
from pyiceberg.table import Table

from bench.data import with_partition_column
from bench.systems.base import PARTITION_KEY, PartitionedTable

NAMESPACE = "bench"

# Overwriting a partition that holds no rows yet is not news.
warnings.filterwarnings("ignore", message="Delete operation did not match any records")


class IcebergPartitionedTable(PartitionedTable):
    """Table ``bench.<table_name>`` of a SQL catalog in ``root/catalog.db``
    with its warehouse in ``root/warehouse``. Every read refreshes the
    table's metadata first (a long-lived reader)."""

    name = "pyiceberg"

    def __init__(self, root: str, table_name: str) -> None:
        self.root = root
        self.table_name = table_name
        self.table: Table | None = None
        self.snapshot_before_store: int | None = None

    def create(self, frame: pa.Table) -> None:
        os.makedirs(os.path.join(self.root, "warehouse"), exist_ok=True)
        catalog = SqlCatalog(
            "bench",
            uri=f"sqlite:///{os.path.join(self.root, 'catalog.db')}",
            warehouse=f"file://{os.path.join(self.root, 'warehouse')}",
        )
        catalog.create_namespace_if_not_exists(NAMESPACE)
        schema = with_partition_column(frame.slice(0, 0), PARTITION_KEY, 0).schema
        table = catalog.create_table(f"{NAMESPACE}.{self.table_name}", schema=schema)
        with table.update_spec() as spec:
            spec.add_identity(PARTITION_KEY)
        self.table = table

    def fresh(self) -> Table:
        """The table with its latest metadata."""
        assert self.table is not None, "create() first"
        return self.table.refresh()

    def prepare(self, frame: pa.Table, partition: int) -> pa.Table:
        return with_partition_column(frame, PARTITION_KEY, partition)

    def store(self, prepared: pa.Table, partition: int) -> None:
        assert self.table is not None, "create() first"
        current = self.table.current_snapshot()
        self.snapshot_before_store = current.snapshot_id if current is not None else None
        self.table.overwrite(prepared, overwrite_filter=EqualTo(PARTITION_KEY, partition))

    def append_partitioned(self, frame: pa.Table) -> None:
        """Appends a frame that carries its own ``part`` column (many partitions in one commit)."""
        assert self.table is not None, "create() first"
        self.table.append(frame)

    def load_arrow(self, partition: int) -> pa.Table:
        return self.fresh().scan(row_filter=EqualTo(PARTITION_KEY, partition)).to_arrow()

    def files(self, partition: int) -> list[str]:
        """One partition's data files (scan planning)."""
        tasks = self.fresh().scan(row_filter=EqualTo(PARTITION_KEY, partition)).plan_files()
        return [task.file.file_path for task in tasks]

    def list_partitions(self) -> pa.Table:
        """Every partition of the current snapshot (the partitions metadata table)."""
        return self.fresh().inspect.partitions()

    def rollback(self) -> None:
        """Makes the snapshot from before the last ``store`` current again
        (an overwrite commits a delete and an append snapshot)."""
        assert self.snapshot_before_store is not None, "store() before rollback()"
        self.fresh().manage_snapshots().rollback_to_snapshot(self.snapshot_before_store).commit()
