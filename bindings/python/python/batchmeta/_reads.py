"""Reads: frames (``load_dataframe``) and their files, and what the catalog
holds (namespaces, tables, partitions, batches), and waiting for a publish."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from batchmeta import _native
from batchmeta._native import Client as _NativeClient
from batchmeta._convert import Filter, Partition, Time, _frame, _list
from batchmeta.results import BatchInfo, PartitionInfo, TableInfo

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


class _Reads:
    """The read methods of ``Client``."""

    _native: _NativeClient

    @overload
    def load_dataframe(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        pin: str | None = None,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] | None = None,
        output: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...

    @overload
    def load_dataframe(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        pin: str | None = None,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] | None = None,
        output: Literal["polars"],
    ) -> pl.DataFrame: ...

    @overload
    def load_dataframe(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        pin: str | None = None,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] | None = None,
        output: Literal["arrow"],
    ) -> Any: ...

    def load_dataframe(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        pin: str | None = None,
        columns: Sequence[str] | None = None,
        filters: Sequence[Filter] | None = None,
        output: Literal["pandas", "polars", "arrow"] = "pandas",
    ) -> Any:
        """Reads partitions (``None`` = all) with the partition key columns
        restored, as pandas (default), polars or a pyarrow Table.

        - one version at most: ``batch_id=``, ``as_of=`` (a time) or ``pin=`` (a pin name);
        - ``columns=[...]`` and ``filters=[("price", ">", 10)]`` are pushed into
          the Parquet read (filters combine with AND).

        >>> bm.load_dataframe("sales", "sold_items", partitions=["2016-10-31"])
        >>> bm.load_dataframe("sales", "sold_items", as_of="2016-11-01T00:00:00Z", output="polars")
        """
        return self._load(
            db,
            table,
            partitions,
            batch_id=batch_id,
            as_of=as_of,
            pin=pin,
            columns=columns,
            filters=filters,
            output=output,
        )

    def _load(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None,
        *,
        batch_id: str | None,
        as_of: Time | None,
        pin: str | None,
        columns: Sequence[str] | None,
        filters: Sequence[Filter] | None,
        output: str,
    ) -> Any:
        t = _native.load(
            self._native,
            db,
            table,
            _list(partitions),
            batch_id=batch_id,
            as_of=as_of,
            pin=pin,
            columns=list(columns) if columns is not None else None,
            filters=list(filters) if filters is not None else None,
        )
        return _frame(t, output)

    def files(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        pin: str | None = None,
    ) -> list[str]:
        """The full URIs of the data files (for Spark, DuckDB, ...)."""
        return _native.files(
            self._native,
            db, table, _list(partitions), batch_id=batch_id, as_of=as_of, pin=pin
        )

    def batches(self, db: str, table: str, partition: Partition | None = None) -> list[BatchInfo]:
        """Every batch of one partition (staged and committed), newest first."""
        return [BatchInfo._from(b) for b in _native.batches(self._native, db, table, partition)]

    def partitions(
        self, db: str, table: str, *, prefix: str | None = None, limit: int | None = None
    ) -> list[PartitionInfo]:
        """Published partitions and their current batches, in key order:
        all of them, or the first ``limit``."""
        return [
            PartitionInfo._from_row(p)
            for p in _native.partitions(self._native, db, table, prefix=prefix, limit=limit)
        ]

    def tables(self, db: str) -> list[TableInfo]:
        """The tables of a namespace."""
        return [TableInfo._from(t) for t in _native.tables(self._native, db)]

    def table(self, db: str, table: str) -> TableInfo:
        """One table's columns, partition keys and location."""
        return TableInfo._from(_native.table(self._native, db, table))

    def namespaces(self) -> list[str]:
        """The names of the namespaces."""
        return [str(n["name"]) for n in _native.namespaces(self._native)]

    def wait(
        self,
        db: str,
        table: str,
        partition: Partition | None = None,
        *,
        after: str | None = None,
        timeout: float = 60.0,
    ) -> BatchInfo | None:
        """Blocks until the partition is published (with a batch other than
        ``after``); ``None`` when ``timeout`` seconds pass first."""
        b = _native.wait(self._native, db, table, partition, after=after, timeout=timeout)
        return BatchInfo._from(b) if b is not None else None
