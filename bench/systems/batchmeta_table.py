"""batchmeta through its Python client: embedded (``bm.Client(dir)``) or
against a ``meta serve`` (``bm.Client("http://...")``)."""

from __future__ import annotations

import batchmeta as bm
import pandas as pd
import pyarrow as pa

from bench.systems.base import PARTITION_KEY, PartitionedTable

NAMESPACE = "bench"


class BatchmetaTable(PartitionedTable):
    """Table ``bench.<table_name>`` of the catalog ``client`` talks to."""

    def __init__(self, client: bm.Client, table_name: str, name: str) -> None:
        self.client = client
        self.table_name = table_name
        self.name = name

    def create(self, frame: pa.Table) -> None:
        self.client.create_namespace(NAMESPACE, exist_ok=True)
        self.client.create_table(NAMESPACE, self.table_name, frame.schema, {PARTITION_KEY: "int"}, exist_ok=True)

    def store(self, prepared: pa.Table, partition: int) -> None:
        self.client.store_dataframe(prepared, NAMESPACE, self.table_name, partitions=[partition])

    def store_partitioned(self, frame: pa.Table) -> None:
        """Publishes every partition of a frame with a ``part`` column in one commit."""
        self.client.store_dataframe(frame, NAMESPACE, self.table_name, partition_by=[PARTITION_KEY])

    def load_arrow(self, partition: int) -> pa.Table:
        return self.client.load_dataframe(NAMESPACE, self.table_name, partitions=[partition], output="arrow")

    def load_pandas(self, partition: int) -> pd.DataFrame:
        return self.client.load_dataframe(NAMESPACE, self.table_name, partitions=[partition], output="pandas")

    def files(self, partition: int) -> list[str]:
        """One partition's data files (resolve)."""
        return self.client.files(NAMESPACE, self.table_name, partitions=[partition])

    def rollback(self, partition: int) -> None:
        """Points the partition back at its previous batch."""
        self.client.rollback(NAMESPACE, self.table_name, partitions=[partition])
