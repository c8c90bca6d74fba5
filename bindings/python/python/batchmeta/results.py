"""Typed results of batchmeta calls (small frozen dataclasses).

Each prints as one short line (``BatchInfo('20161102234252123456', date=2016-10-31,
committed, 1,000 rows)``) and as a table of every field in a notebook.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

__all__ = ["BatchInfo", "StoreResult", "Event", "Commit", "PartitionInfo", "TableInfo", "Pin"]


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _time(v: Any) -> _dt.datetime | None:
    """An RFC 3339 time from the core (``Z``, up to 9 fractional digits)."""
    if v is None:
        return None
    s = str(v).replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        n = len(rest) - len(rest.lstrip("0123456789"))
        digits, tz = rest[:n], rest[n:]
        s = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    return _dt.datetime.fromisoformat(s)


def _short(v: Any) -> str:
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return f"[{len(v)}]"
    return str(v)


class _Shown:
    """A one-line ``repr`` of the fields in ``_SHORT`` and an HTML table of
    every field (``_repr_html_``, shown by Jupyter)."""

    _SHORT: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        parts = []
        for name in self._SHORT:
            v = getattr(self, name)
            if v is None:
                continue
            parts.append(repr(v) if name == self._SHORT[0] else f"{name}={_short(v)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{f.name}</th>"
            f"<td style='text-align:left'>{_html.escape(_short(getattr(self, f.name)) if getattr(self, f.name) is not None else '')}</td></tr>"
            for f in fields(self)  # type: ignore[arg-type]
        )
        return f"<table><caption>{type(self).__name__}</caption>{rows}</table>"


@dataclass(frozen=True, repr=False)
class BatchInfo(_Shown):
    """One batch: a partition's data written once, never changed."""

    _SHORT = ("batch_id", "partition", "state", "rows", "bytes")

    batch_id: str
    partition: str
    state: str
    rows: int
    bytes: int
    files: int
    location: str
    parent: str | None
    message: str | None
    created_at: _dt.datetime | None
    committed_at: _dt.datetime | None

    @staticmethod
    def _from(d: dict[str, Any]) -> BatchInfo:
        return BatchInfo(
            batch_id=d["id"],
            partition=d["partition"],
            state=d["state"],
            rows=int(d["rows"]),
            bytes=int(d["bytes"]),
            files=len(d.get("files") or []),
            location=d["location"],
            parent=d.get("parent"),
            message=d.get("message"),
            created_at=_time(d.get("created_at")),
            committed_at=_time(d.get("committed_at")),
        )


@dataclass(frozen=True, repr=False)
class StoreResult(_Shown):
    """What ``store_dataframe`` did.

    >>> r = bm.store_dataframe(df, "sales", "sold_items", partitions=["2016-10-31"])
    >>> r.batch_id, r.rows, r.location, r.event_id
    """

    _SHORT = ("table", "batch_ids", "rows", "published", "created_table")

    table: str
    batches: list[BatchInfo]
    commit_id: str | None
    event_ids: list[int]
    created_table: bool
    published: bool

    @property
    def batch_id(self) -> str:
        """The batch ID (the first one when ``partition_by`` wrote several)."""
        return self.batches[0].batch_id

    @property
    def batch_ids(self) -> list[str]:
        """Every batch ID, in partition order."""
        return [b.batch_id for b in self.batches]

    @property
    def rows(self) -> int:
        """Rows written, over all partitions."""
        return sum(b.rows for b in self.batches)

    @property
    def bytes(self) -> int:
        """Bytes written, over all partitions."""
        return sum(b.bytes for b in self.batches)

    @property
    def location(self) -> str:
        """Where the (first) batch's files are."""
        return self.batches[0].location

    @property
    def event_id(self) -> int | None:
        """The audit event of the (first) partition; ``None`` if not published."""
        return self.event_ids[0] if self.event_ids else None

    def __repr__(self) -> str:
        ids = self.batch_ids
        shown = repr(ids[0]) if len(ids) == 1 else f"{len(ids)} batches"
        state = "published" if self.published else "staged"
        created = ", created the table" if self.created_table else ""
        return f"StoreResult({self.table}, {shown}, {self.rows:,} rows, {state}{created})"

    @staticmethod
    def _from(d: dict[str, Any]) -> StoreResult:
        return StoreResult(
            table=d["table"],
            batches=[BatchInfo._from(b) for b in d["batches"]],
            commit_id=d.get("commit_id"),
            event_ids=[int(i) for i in d["event_ids"]],
            created_table=bool(d["created_table"]),
            published=bool(d["published"]),
        )


@dataclass(frozen=True, repr=False)
class Event(_Shown):
    """One entry of the audit trail."""

    _SHORT = ("id", "action", "table", "partition", "from_batch", "to_batch", "principal", "at")

    id: int
    at: _dt.datetime | None
    principal: str
    action: str
    namespace: str | None
    table: str | None
    partition: str | None
    from_batch: str | None
    to_batch: str | None
    commit_id: str | None
    message: str | None
    rows: int | None
    bytes: int | None
    metadata: dict[str, str] = field(default_factory=dict)
    #: A rollback's current batches downstream built from the batch it
    #: retired (``table``, ``partition``, ``batch_id``, ``depth``, ...).
    affected: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _from(d: dict[str, Any]) -> Event:
        from batchmeta._lineage import _impact


        return Event(
            id=int(d["id"]),
            at=_time(d.get("at")),
            principal=d["principal"],
            action=d["action"],
            namespace=d.get("namespace"),
            table=d.get("table"),
            partition=d.get("partition"),
            from_batch=d.get("from_batch"),
            to_batch=d.get("to_batch"),
            commit_id=d.get("commit_id"),
            message=d.get("message"),
            rows=d.get("rows"),
            bytes=d.get("bytes"),
            metadata=dict(d.get("metadata") or {}),
            affected=_impact(d["impact"])["affected"] if d.get("impact") else [],
        )


@dataclass(frozen=True, repr=False)
class Commit(_Shown):
    """A publish: one event per partition, one commit id."""

    _SHORT = ("commit_id", "events")

    commit_id: str
    events: list[Event]

    @staticmethod
    def _from(d: dict[str, Any]) -> Commit:
        return Commit(commit_id=d["commit_id"], events=[Event._from(e) for e in d["events"]])


@dataclass(frozen=True, repr=False)
class PartitionInfo(_Shown):
    """A published partition and its current batch."""

    _SHORT = ("partition", "current_batch", "version", "updated_at")

    partition: str
    current_batch: str
    version: int
    updated_at: _dt.datetime | None

    @staticmethod
    def _from(d: dict[str, Any]) -> PartitionInfo:
        return PartitionInfo(
            partition=d["partition"],
            current_batch=d["current_batch"],
            version=int(d["version"]),
            updated_at=_time(d.get("updated_at")),
        )

    @staticmethod
    def _from_row(row: tuple[str, str, int, int]) -> PartitionInfo:
        """From the native listing: ``updated_at`` in microseconds."""
        partition, current, version, micros = row
        return PartitionInfo(
            partition=partition,
            current_batch=current,
            version=version,
            updated_at=_EPOCH + _dt.timedelta(microseconds=micros),
        )


@dataclass(frozen=True, repr=False)
class TableInfo(_Shown):
    """A table: its columns (name, Arrow type) and partition keys (name, type)."""

    _SHORT = ("name", "namespace", "columns", "partition_keys", "schema_version")

    namespace: str
    name: str
    columns: list[tuple[str, str]]
    partition_keys: list[tuple[str, str]]
    schema_version: int
    location: str
    description: str | None
    owner: str | None
    created_at: _dt.datetime | None

    @staticmethod
    def _from(d: dict[str, Any]) -> TableInfo:
        return TableInfo(
            namespace=d["namespace"],
            name=d["name"],
            columns=[(c["name"], c["type"]) for c in d["columns"]],
            partition_keys=[(k["name"], k["type"]) for k in d["partition_keys"]],
            schema_version=int(d["schema_version"]),
            location=d["location"],
            description=d.get("description"),
            owner=d.get("owner"),
            created_at=_time(d.get("created_at")),
        )


@dataclass(frozen=True, repr=False)
class Pin(_Shown):
    """A consumer's claim on data: a partition's batch or the table as of a time."""

    _SHORT = ("name", "table", "partition", "batch_id", "as_of", "expires_at")

    table: str
    name: str
    owner: str | None
    reason: str | None
    partition: str | None
    batch_id: str | None
    as_of: _dt.datetime | None
    created_at: _dt.datetime | None
    expires_at: _dt.datetime | None

    @staticmethod
    def _from(d: dict[str, Any]) -> Pin:
        target = d.get("target") or {}
        batch = target.get("batch") or {}
        as_of = target.get("as_of") or {}
        t = d["table"]
        table = f"{t['namespace']}.{t['name']}" if isinstance(t, dict) else str(t)
        return Pin(
            table=table,
            name=d["name"],
            owner=d.get("owner"),
            reason=d.get("reason"),
            partition=batch.get("partition"),
            batch_id=batch.get("batch"),
            as_of=_time(as_of.get("at")),
            created_at=_time(d.get("created_at")),
            expires_at=_time(d.get("expires_at")),
        )
