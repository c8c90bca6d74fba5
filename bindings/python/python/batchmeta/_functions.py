"""The module functions (``bm.store_dataframe(...)``): each calls the
same method of the default client (``connect``), with the same arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from batchmeta._client import _client
from batchmeta._convert import Filter, Frame, Partition, Time
from batchmeta._retention import Duration
from batchmeta.results import BatchInfo, Commit, Event, PartitionInfo, Pin, StoreResult, TableInfo

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


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
    inputs: Sequence[str] | None = None,
    track_reads: bool = True,
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
        inputs=inputs,
        track_reads=track_reads,
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


def lineage(
    db: str,
    table: str,
    partition: Partition | None = None,
    *,
    batch_id: str | None = None,
    direction: Literal["up", "down"] = "up",
    depth: int | None = None,
) -> list[dict[str, Any]]:
    """What built a partition's batch (``"up"``) or what was built from it
    (``"down"``). See ``Client.lineage``."""
    return _client().lineage(db, table, partition, batch_id=batch_id, direction=direction, depth=depth)


def rollback_impact(
    db: str,
    table: str,
    partition: Partition | None = None,
    *,
    to: str | None = None,
    expected_batch: str | None = None,
) -> dict[str, Any]:
    """What a rollback would retire and affect; moves nothing."""
    return _client().rollback_impact(db, table, partition, to=to, expected_batch=expected_batch)


def stale(db: str | None = None, table: str | None = None) -> list[dict[str, Any]]:
    """Current batches built from inputs that are no longer current."""
    return _client().stale(db, table)


def gc(
    namespace: str | None = None,
    table: str | None = None,
    older_than: Duration | None = None,
    keep_last: int | None = None,
    grace: Duration | None = None,
    force_grace: bool = False,
    apply: bool = False,
) -> dict[str, Any]:
    """Retention: a dry run unless ``apply=True``. See ``Client.gc``."""
    return _client().gc(
        namespace,
        table,
        older_than=older_than,
        keep_last=keep_last,
        grace=grace,
        force_grace=force_grace,
        apply=apply,
    )


def set_retention(db: str, table: str | None = None, **settings: Any) -> dict[str, Any]:
    """Sets a table's (or namespace's) retention policy. See ``Client.set_retention``."""
    return _client().set_retention(db, table, **settings)
