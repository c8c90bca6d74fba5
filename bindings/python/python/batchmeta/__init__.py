"""batchmeta: versioned tables where a bad overwrite never costs data.

Every write of a partition lands in a fresh batch; the catalog then points
the partition at it, atomically, and records who did what. Roll back, pin a
batch for a downstream job, or read the table as it was yesterday.

>>> import batchmeta as bm
>>> bm.store_dataframe(df, "sales", "sold_items", partitions=[{"date": "2016-10-31"}])
>>> df = bm.load_dataframe("sales", "sold_items", partitions=["2016-10-31"])
>>> bm.rollback("sales", "sold_items", partitions=["2016-10-31"])

The module functions use a default client: ``BATCHMETA_URL`` if set, else
the embedded catalog in ``.batchmeta/``. ``bm.connect(url)`` picks another;
``bm.Client(url)`` has the same functions as methods.
"""

from __future__ import annotations

import datetime as _dt
import getpass as _getpass
import os as _os
import sys as _sys
import threading as _threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, Union, overload

from batchmeta import _native
from batchmeta.errors import (
    AlreadyExistsError,
    BatchmetaError,
    ConflictError,
    InvalidInputError,
    AuthenticationError,
    NotFoundError,
    PermissionError,
    RateLimitedError,
    UnavailableError,
    InsufficientStorageError,
    SchemaMismatchError,
)
from batchmeta.results import (
    BatchInfo,
    Commit,
    Event,
    PartitionInfo,
    Pin,
    StoreResult,
    TableInfo,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = [
    "Client",
    "connect",
    "store_dataframe",
    "load_dataframe",
    "rollback",
    "history",
    "batches",
    "partitions",
    "tables",
    "table",
    "create_table",
    "create_namespace",
    "namespaces",
    "pin",
    "unpin",
    "pins",
    "events",
    "stage",
    "publish",
    "wait",
    "files",
    "NO_BATCH",
    "BatchmetaError",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "SchemaMismatchError",
    "InvalidInputError",
    "PermissionError",
    "AuthenticationError",
    "RateLimitedError",
    "UnavailableError",
    "InsufficientStorageError",
    "StoreResult",
    "BatchInfo",
    "Event",
    "Commit",
    "PartitionInfo",
    "TableInfo",
    "Pin",
]

__version__: str = _native.__version__

#: ``expected_batch=NO_BATCH``: publish only if the partition was never published.
NO_BATCH = "none"

PartitionValue = Union[str, int, _dt.date]
"""One partition value: text, an integer or a date."""
Partition = Union[PartitionValue, tuple[PartitionValue, ...], Mapping[str, PartitionValue]]
"""A partition: a scalar (one key), a tuple (one value per key) or a dict."""
Filter = Union[tuple[str, str], tuple[str, str, Any]]
"""A row filter: ``("price", ">", 10)``, ``("region", "in", ["us", "eu"])``, ``("x", "is null")``."""
Time = Union[_dt.datetime, _dt.date, str]
"""A time: a ``datetime`` (naive means UTC), a ``date`` (midnight UTC), or a
string as the CLI takes it: ``"2016-11-01"``, ``"2016-11-01T00:00:00Z"``, or
an age such as ``"1h"`` or ``"2d"`` (before now; for ``expires_at``, after)."""


class ArrowStreamExportable(Protocol):
    """Anything with the Arrow PyCapsule stream interface (pyarrow, polars,
    pandas >= 2.2, duckdb, ...)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


Frame = Union["pd.DataFrame", "pl.DataFrame", ArrowStreamExportable, Any]
"""What ``store_dataframe`` accepts."""


def _arrow(data: object) -> Any:
    """The frame as an object exporting an Arrow stream, keeping pandas'
    index and dtypes in the schema metadata. No copy for pyarrow and polars."""
    import pyarrow as pa

    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data)
    if module == "polars" and hasattr(data, "to_arrow"):
        return data.to_arrow()
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__"):
        return data
    raise InvalidInputError(
        f"cannot store a {type(data).__name__}: pass a pandas or polars DataFrame, a "
        "pyarrow Table, or any object with __arrow_c_stream__",
        code="invalid_data",
    )


def _spark_frame(df: object) -> bool:
    """A pyspark DataFrame: its executors write the files (see ``batchmeta._spark``)."""
    return type(df).__module__.startswith("pyspark.sql") and type(df).__name__ == "DataFrame"


def _list(partitions: Sequence[Partition] | Partition | None) -> list[Any] | None:
    """``partitions`` as a list; a lone string or dict is accepted as one partition."""
    if partitions is None:
        return None
    if isinstance(partitions, list):
        return partitions
    if isinstance(partitions, (str, int, _dt.date, Mapping)):
        return [partitions]
    raise InvalidInputError(
        "partitions is a list of partitions, e.g. [\"2016-10-31\"] or [{\"date\": \"2016-10-31\"}]",
        code="invalid_partition",
    )


def _frame(table: Any, output: str) -> Any:
    if output == "pandas":
        return table.to_pandas()
    if output == "polars":
        try:
            import polars as pl
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                "output=\"polars\" needs polars, which is not installed; "
                "hint: pip install polars (or use output=\"pandas\" or \"arrow\")",
                name="polars",
            ) from e

        return pl.from_arrow(table)
    if output == "arrow":
        return table
    raise InvalidInputError(
        f"unknown output {output!r}: use \"pandas\", \"polars\" or \"arrow\"", code="invalid_output"
    )


class Client:
    """A connection to a batchmeta catalog, with every operation as a method.

    ``url``: ``http(s)://host:port`` for a ``meta serve``; ``sqlite:///path/catalog.db``
    or a directory for an embedded catalog; ``None`` for the embedded default
    ``.batchmeta/`` in the working directory.

    >>> client = bm.Client("http://metastore:8080")
    >>> client.store_dataframe(df, "sales", "sold_items", partitions=["2016-10-31"])

    ``storage_options``: object-store settings with object_store / deltalake
    key names (``aws_access_key_id``, ``aws_region``, ``aws_endpoint``, ...);
    unset keys fall back to the standard ``AWS_*`` variables. ``direct_data``
    (server URLs only): ``True`` reads and writes the warehouse directly,
    ``False`` sends data through the server, ``None`` decides by trying.
    ``token`` (server URLs only): the bearer token of a server started with
    ``--auth tokens``; defaults to ``BATCHMETA_TOKEN``. Events then record
    the token's name as the principal.
    Thread-safe; usable after ``os.fork()`` (the child reconnects).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        warehouse: str | None = None,
        storage_options: Mapping[str, str] | None = None,
        direct_data: bool | None = None,
        token: str | None = None,
    ) -> None:
        principal = _principal()
        token = token if token is not None else (_os.environ.get("BATCHMETA_TOKEN") or None)
        self._native = _native.Client(
            url,
            warehouse=warehouse,
            direct_data=direct_data,
            principal=principal,
            storage_options=dict(storage_options) if storage_options is not None else None,
            token=token,
        )

    @property
    def url(self) -> str | None:
        """The catalog URL (``None`` = the embedded default)."""
        return self._native.url

    @property
    def warehouse(self) -> str:
        """The warehouse URL, where data files live."""
        return self._native.warehouse

    def __repr__(self) -> str:
        return f"batchmeta.Client({self.url!r})"

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
        raw = self._native.store(
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
        )
        result = StoreResult._from(raw)
        if result.created_table:
            print(f"batchmeta: created table {result.table}", file=_sys.stderr)
        return result

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
        t = self._native.load(
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
        return self._native.files(
            db, table, _list(partitions), batch_id=batch_id, as_of=as_of, pin=pin
        )

    def rollback(
        self,
        db: str,
        table: str,
        partitions: Sequence[Partition] | None = None,
        *,
        to: str | None = None,
        expected_batch: str | None = None,
        message: str | None = None,
    ) -> list[Event]:
        """Points each partition back at its previous batch (or at batch
        ``to``). Deletes nothing; each rollback is an audit event. Each
        partition is rolled back on its own, in order.

        >>> bm.rollback("sales", "sold_items", partitions=["2016-10-31"])
        """
        specs = _list(partitions) or [None]
        return [
            Event._from(
                self._native.rollback(
                    db, table, p, to=to, expected_batch=expected_batch, message=message
                )
            )
            for p in specs
        ]

    def history(
        self, db: str, table: str, partition: Partition | None = None, *, limit: int | None = None
    ) -> list[Event]:
        """The pointer moves of one partition, newest first (the newest
        10,000 unless ``limit`` says otherwise)."""
        return [Event._from(e) for e in self._native.history(db, table, partition, limit=limit)]

    def batches(self, db: str, table: str, partition: Partition | None = None) -> list[BatchInfo]:
        """Every batch of one partition (staged and committed), newest first."""
        return [BatchInfo._from(b) for b in self._native.batches(db, table, partition)]

    def partitions(
        self, db: str, table: str, *, prefix: str | None = None, limit: int | None = None
    ) -> list[PartitionInfo]:
        """Published partitions and their current batches, in key order:
        all of them, or the first ``limit``."""
        return [
            PartitionInfo._from_row(p)
            for p in self._native.partitions(db, table, prefix=prefix, limit=limit)
        ]

    def tables(self, db: str) -> list[TableInfo]:
        """The tables of a namespace."""
        return [TableInfo._from(t) for t in self._native.tables(db)]

    def table(self, db: str, table: str) -> TableInfo:
        """One table's columns, partition keys and location."""
        return TableInfo._from(self._native.table(db, table))

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
        ns = self._native.create_namespace(
            db,
            description=description,
            owner=owner,
            properties=dict(properties) if properties is not None else None,
            exist_ok=exist_ok,
        )
        return str(ns["name"])

    def namespaces(self) -> list[str]:
        """The names of the namespaces."""
        return [str(n["name"]) for n in self._native.namespaces()]

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
            self._native.create_table(
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

    def pin(
        self,
        db: str,
        table: str,
        name: str,
        partition: Partition | None = None,
        *,
        batch_id: str | None = None,
        as_of: Time | None = None,
        owner: str | None = None,
        reason: str | None = None,
        expires_at: Time | None = None,
    ) -> Pin:
        """Pins a partition's batch (``batch_id``, default its current one),
        or the whole table as of a time, for a consumer named ``name``.
        Pinned data is never collected; read it with ``load_dataframe(pin=name)``.
        """
        return Pin._from(
            self._native.pin(
                db,
                table,
                name,
                partition,
                batch_id=batch_id,
                as_of=as_of,
                owner=owner,
                reason=reason,
                expires_at=expires_at,
            )
        )

    def unpin(self, db: str, table: str, name: str) -> None:
        """Deletes a pin."""
        self._native.unpin(db, table, name)

    def pins(self, db: str | None = None, table: str | None = None) -> list[Pin]:
        """The pins of a table (``pins("sales", "sold_items")``), of a
        namespace (``pins("sales")``) or of every table (``pins()``)."""
        return [Pin._from(p) for p in self._native.pins(db, table)]

    def events(
        self,
        db: str | None = None,
        table: str | None = None,
        partition: Partition | None = None,
        *,
        action: str | None = None,
        principal: str | None = None,
        since: Time | None = None,
        until: Time | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The audit trail as a pandas DataFrame, newest first (with
        ``after=<event id>``: the change feed, oldest first); the first
        10,000 matching events unless ``limit`` says otherwise."""
        import pandas as pd

        raw = self._native.events(
            db,
            table,
            partition,
            action=action,
            principal=principal,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )
        # One list per column ("at" in microseconds since the epoch).
        frame = pd.DataFrame(raw)
        frame["at"] = pd.to_datetime(frame["at"], unit="us", utc=True)
        return frame

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
            for b in self._native.stage(
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
            self._native.publish(
                db,
                table,
                pairs,
                expected_batch=expected_batch,
                schema_mode=schema_mode,
                message=message,
            )
        )

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
        b = self._native.wait(db, table, partition, after=after, timeout=timeout)
        return BatchInfo._from(b) if b is not None else None


def _principal() -> str:
    try:
        return _getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "python"


_default: Client | None = None
_default_lock = _threading.Lock()


def connect(
    url: str | None = None,
    *,
    warehouse: str | None = None,
    storage_options: Mapping[str, str] | None = None,
    direct_data: bool | None = None,
    token: str | None = None,
) -> Client:
    """Connects and makes this the client of the module functions.
    ``url`` defaults to ``BATCHMETA_URL``, then to the embedded ``.batchmeta/``
    (whose location is printed). ``token`` defaults to ``BATCHMETA_TOKEN``."""
    global _default
    url = url if url is not None else (_os.environ.get("BATCHMETA_URL") or None)
    warehouse = warehouse if warehouse is not None else (_os.environ.get("BATCHMETA_WAREHOUSE") or None)
    client = Client(
        url,
        warehouse=warehouse,
        storage_options=storage_options,
        direct_data=direct_data,
        token=token,
    )
    if url is None:
        print(
            f"batchmeta: using the embedded catalog in {_os.path.abspath('.batchmeta')} "
            "(set BATCHMETA_URL or call batchmeta.connect(url) for another)",
            file=_sys.stderr,
        )
    with _default_lock:
        _default = client
    return client


def _client() -> Client:
    with _default_lock:
        current = _default
    return current if current is not None else connect()


def store_dataframe(
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
) -> StoreResult:
    """Writes ``df`` to one partition (or, with ``partition_by``, to each of
    its partitions in one commit). See ``Client.store_dataframe``."""
    return _client().store_dataframe(
        df,
        db,
        table,
        partitions,
        partition_by=partition_by,
        expected_batch=expected_batch,
        schema_mode=schema_mode,
        message=message,
        metadata=metadata,
        idempotency_key=idempotency_key,
        publish=publish,
    )


@overload
def load_dataframe(
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
    """Reads partitions (``None`` = all). See ``Client.load_dataframe``."""
    return _client()._load(
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


def files(
    db: str,
    table: str,
    partitions: Sequence[Partition] | None = None,
    *,
    batch_id: str | None = None,
    as_of: Time | None = None,
    pin: str | None = None,
) -> list[str]:
    """The full URIs of the data files. See ``Client.files``."""
    return _client().files(db, table, partitions, batch_id=batch_id, as_of=as_of, pin=pin)


def rollback(
    db: str,
    table: str,
    partitions: Sequence[Partition] | None = None,
    *,
    to: str | None = None,
    expected_batch: str | None = None,
    message: str | None = None,
) -> list[Event]:
    """Points partitions back at their previous batch. See ``Client.rollback``."""
    return _client().rollback(
        db, table, partitions, to=to, expected_batch=expected_batch, message=message
    )


def history(
    db: str, table: str, partition: Partition | None = None, *, limit: int | None = None
) -> list[Event]:
    """The pointer moves of one partition, newest first."""
    return _client().history(db, table, partition, limit=limit)


def batches(db: str, table: str, partition: Partition | None = None) -> list[BatchInfo]:
    """Every batch of one partition, newest first."""
    return _client().batches(db, table, partition)


def partitions(
    db: str, table: str, *, prefix: str | None = None, limit: int | None = None
) -> list[PartitionInfo]:
    """Published partitions and their current batches."""
    return _client().partitions(db, table, prefix=prefix, limit=limit)


def tables(db: str) -> list[TableInfo]:
    """The tables of a namespace."""
    return _client().tables(db)


def table(db: str, table: str) -> TableInfo:
    """One table."""
    return _client().table(db, table)


def create_table(
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
    """Creates a table. See ``Client.create_table``."""
    return _client().create_table(
        db,
        table,
        schema,
        partition_keys,
        description=description,
        owner=owner,
        properties=properties,
        exist_ok=exist_ok,
    )


def pin(
    db: str,
    table: str,
    name: str,
    partition: Partition | None = None,
    *,
    batch_id: str | None = None,
    as_of: Time | None = None,
    owner: str | None = None,
    reason: str | None = None,
    expires_at: Time | None = None,
) -> Pin:
    """Pins a batch (or the table as of a time). See ``Client.pin``."""
    return _client().pin(
        db,
        table,
        name,
        partition,
        batch_id=batch_id,
        as_of=as_of,
        owner=owner,
        reason=reason,
        expires_at=expires_at,
    )


def unpin(db: str, table: str, name: str) -> None:
    """Deletes a pin."""
    _client().unpin(db, table, name)


def pins(db: str | None = None, table: str | None = None) -> list[Pin]:
    return _client().pins(db, table)


def create_namespace(
    db: str,
    *,
    description: str | None = None,
    owner: str | None = None,
    properties: Mapping[str, str] | None = None,
    exist_ok: bool = False,
) -> str:
    return _client().create_namespace(
        db, description=description, owner=owner, properties=properties, exist_ok=exist_ok
    )


def namespaces() -> list[str]:
    return _client().namespaces()


def events(
    db: str | None = None,
    table: str | None = None,
    partition: Partition | None = None,
    *,
    action: str | None = None,
    principal: str | None = None,
    since: Time | None = None,
    until: Time | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The audit trail as a DataFrame. See ``Client.events``."""
    return _client().events(
        db,
        table,
        partition,
        action=action,
        principal=principal,
        since=since,
        until=until,
        after=after,
        limit=limit,
    )


def stage(
    db: str,
    table: str,
    partitions: Sequence[Partition],
    *,
    message: str | None = None,
    metadata: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> list[BatchInfo]:
    """Allocates one batch per partition. See ``Client.stage``."""
    return _client().stage(
        db, table, partitions, message=message, metadata=metadata, idempotency_key=idempotency_key
    )


def publish(
    db: str,
    table: str,
    batches: Mapping[Any, str] | Sequence[tuple[Partition | None, str]],
    *,
    expected_batch: str | None = None,
    schema_mode: Literal["strict", "merge"] | None = None,
    message: str | None = None,
) -> Commit:
    """Publishes staged batches in one commit. See ``Client.publish``."""
    return _client().publish(
        db, table, batches, expected_batch=expected_batch, schema_mode=schema_mode, message=message
    )


def wait(
    db: str,
    table: str,
    partition: Partition | None = None,
    *,
    after: str | None = None,
    timeout: float = 60.0,
) -> BatchInfo | None:
    """Blocks until a partition is published. See ``Client.wait``."""
    return _client().wait(db, table, partition, after=after, timeout=timeout)


# The module functions call the default client's methods: they carry the
# methods' whole docstrings, so help(bm.store_dataframe) shows everything.
for _name in __all__:
    _function = globals()[_name]
    _method = getattr(Client, _name, None)
    if callable(_function) and not isinstance(_function, type) and _method is not None:
        _function.__doc__ = _method.__doc__
del _name, _function, _method


def __dir__() -> list[str]:
    """What ``dir(batchmeta)`` shows: the public API, not its imports."""
    return sorted([*__all__, "__version__"])
