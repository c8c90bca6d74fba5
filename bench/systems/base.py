"""What every measured system offers the cases."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

#: The partition key of every benchmark table (an int).
PARTITION_KEY = "part"


class PartitionedTable:
    """A table partitioned by ``part`` in one system. ``prepare`` turns the
    common frame into what ``store`` takes (untimed); ``store`` overwrites
    one partition durably as the system defines it; the loads read one
    partition's current version."""

    name: str = "?"

    def create(self, frame: pa.Table) -> None:
        """Creates the (empty) table with ``frame``'s columns."""
        raise NotImplementedError

    def prepare(self, frame: pa.Table, partition: int) -> Any:
        """The frame in the form ``store`` takes; the default passes it on."""
        return frame

    def store(self, prepared: Any, partition: int) -> None:
        """Overwrites one partition with ``prepared`` (from ``prepare``)."""
        raise NotImplementedError

    def load_arrow(self, partition: int) -> pa.Table:
        """One partition's current rows as a pyarrow Table."""
        raise NotImplementedError

    def load_pandas(self, partition: int) -> pd.DataFrame:
        """One partition's current rows as pandas."""
        return self.load_arrow(partition).to_pandas()

    def close(self) -> None:
        """Releases connections; the default has none."""
