"""Writes: ``store_dataframe`` (publish now, or stage for
write-audit-publish), ``stage`` and ``publish``, and the namespaces and
tables writes go into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
import sys as _sys

from batchmeta import _native
from batchmeta._native import Client as _NativeClient
from batchmeta._convert import Frame, Partition, _arrow, _list, _spark_frame
from batchmeta.results import BatchInfo, Commit, StoreResult, TableInfo


class _Writes:
    """The write methods of ``Client``."""

    _native: _NativeClient

    def store_dataframe(
        self,
        df: Frame,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        partition_by: Sequence[str] | None = None,
        expected_batch: str | None = None,
        schema_mode: Literal["strict", "merge"] | None = None,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        publish: bool = True,
        inputs: Sequence[str] | None = None,
        track_reads: bool = True,
    ) -> StoreResult:
        """Writes ``df`` as a new batch of exactly one partition and publishes it.

        - ``partitions=["2016-10-31"]``: the partition (scalar, tuple or dict).
          Columns named like partition keys must hold that value in every row.
        - ``partition_by=["date"]``: split ``df`` by these columns and publish
          every partition in one all-or-nothing commit.
        - The first write creates the table from ``df``'s schema (the
          namespace must exist: ``create_namespace``; a misspelled one fails
          with ``NotFoundError`` and "did you mean"); its partition keys come from ``partition_by`` or a dict
          spec (``partitions=[{"date": datetime.date(2016, 10, 31)}]``).
        - ``expected_batch``: publish only if the partition's current batch
          is this one (``NO_BATCH``: only if it has none); else ``ConflictError``.
        - ``schema_mode="merge"`` adds new columns; the default refuses any
          difference with ``SchemaMismatchError``.
        - ``publish=False`` stages and writes the batch without publishing it
          (write-audit-publish); publish it later with ``publish()``.
        - Lineage: the batch records as its inputs the batches this client
          loaded since its last store (a second store without new loads
          records the same ones), plus the batch IDs in ``inputs``;
          ``track_reads=False`` records only ``inputs``.
        - ``df`` may be a pyspark DataFrame: Spark's executors write the
          Parquet files into the staged batch prefixes (one write per
          partition), batchmeta registers and publishes them; no row passes
          through the driver.

        >>> r = bm.store_dataframe(df, "sales", "sold_items", partitions=["2016-10-31"])
        >>> r.batch_id
        '20161102234252123456'
        """
        if _spark_frame(df):
            from batchmeta import _spark

            result = _spark.store(
                self,
                df,
                db,
                table,
                _list(partitions),
                partition_by=list(partition_by) if partition_by is not None else None,
                expected_batch=expected_batch,
                schema_mode=schema_mode,
                message=message,
                metadata=metadata,
                idempotency_key=idempotency_key,
                publish=publish,
            )
            if result.created_table:
                print(f"batchmeta: created table {result.table}", file=_sys.stderr)
            return result
        raw = _native.store(
            self._native,
            _arrow(df),
            db,
            table,
            _list(partitions),
            partition_by=list(partition_by) if partition_by is not None else None,
            expected_batch=expected_batch,
            schema_mode=schema_mode,
            message=message,
            metadata=dict(metadata) if metadata is not None else None,
            idempotency_key=idempotency_key,
            publish=publish,
            inputs=list(inputs) if inputs is not None else None,
            track_reads=track_reads,
        )
        result = StoreResult._from(raw)
        if result.created_table:
            print(f"batchmeta: created table {result.table}", file=_sys.stderr)
        return result

    def create_namespace(
        self,
        db: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        properties: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> str:
        """Creates a namespace and returns its name. Stores never create one
        (a typo such as ``"slaes"`` must fail, not start a new namespace);
        ``exist_ok=True`` makes this a no-op when it exists.

        >>> bm.create_namespace("sales", description="what we sold")
        'sales'
        """
        ns = _native.create_namespace(
            self._native,
            db,
            description=description,
            owner=owner,
            properties=dict(properties) if properties is not None else None,
            exist_ok=exist_ok,
        )
        return str(ns["name"])

    def create_table(
        self,
        db: str,
        table: str,
        schema: Frame,
        partition_keys: Sequence[str | tuple[str, str]] | Mapping[str, str] = (),
        *,
        description: str | None = None,
        owner: str | None = None,
        properties: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> TableInfo:
        """Creates a table with the columns of ``schema`` (a frame or a
        ``pyarrow.Schema``). ``partition_keys``: names (typed from their
        column, else string), ``(name, type)`` pairs or a ``{name: type}``
        dict, type one of ``"string"``, ``"int"``, ``"date"``.

        >>> bm.create_table("sales", "sold_items", df, {"date": "date"})
        """
        import pyarrow as pa

        arrow_schema = schema if isinstance(schema, pa.Schema) else pa.table(_arrow(schema)).schema
        if isinstance(partition_keys, Mapping):
            keys: list[tuple[str, str | None]] = [(k, v) for k, v in partition_keys.items()]
        else:
            keys = [(k, None) if isinstance(k, str) else (k[0], k[1]) for k in partition_keys]
        return TableInfo._from(
            _native.create_table(
                self._native,
                db,
                table,
                arrow_schema,
                keys,
                description=description,
                owner=owner,
                properties=dict(properties) if properties is not None else None,
                exist_ok=exist_ok,
            )
        )

    def stage(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition],
        *,
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> list[BatchInfo]:
        """Allocates one batch per partition (write-audit-publish starts here)."""
        return [
            BatchInfo._from(b)
            for b in _native.stage(
                self._native,
                db,
                table,
                _list(partitions) or [],
                message=message,
                metadata=dict(metadata) if metadata is not None else None,
                idempotency_key=idempotency_key,
            )
        ]

    def publish(
        self,
        db: str,
        table: str,
        batches: Mapping[Any, str] | Sequence[tuple[Partition | None, str]],
        *,
        expected_batch: str | None = None,
        schema_mode: Literal["strict", "merge"] | None = None,
        message: str | None = None,
    ) -> Commit:
        """Publishes staged batches in one all-or-nothing commit;
        ``batches`` maps each partition to its staged batch ID.

        >>> r = bm.store_dataframe(df, "sales", "sold_items", partitions=["2016-10-31"], publish=False)
        >>> bm.publish("sales", "sold_items", {"2016-10-31": r.batch_id})
        """
        pairs = list(batches.items()) if isinstance(batches, Mapping) else list(batches)
        return Commit._from(
            _native.publish(
                self._native,
                db,
                table,
                pairs,
                expected_batch=expected_batch,
                schema_mode=schema_mode,
                message=message,
            )
        )
