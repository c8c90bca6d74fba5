"""Versions: rollback, a partition's history, pins, and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from batchmeta import _native
from batchmeta._native import Client as _NativeClient
from batchmeta._convert import Partition, Time, _list
from batchmeta.results import Event, Pin

if TYPE_CHECKING:
    import pandas as pd


class _Versions:
    """The rollback, history, pin and audit methods of ``Client``."""

    _native: _NativeClient

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
                _native.rollback(
                    self._native,
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
        return [Event._from(e) for e in _native.history(self._native, db, table, partition, limit=limit)]

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
            _native.pin(
                self._native,
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
        _native.unpin(self._native, db, table, name)

    def pins(self, db: str | None = None, table: str | None = None) -> list[Pin]:
        """The pins of a table (``pins("sales", "sold_items")``), of a
        namespace (``pins("sales")``) or of every table (``pins()``)."""
        return [Pin._from(p) for p in _native.pins(self._native, db, table)]

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

        raw = _native.events(
            self._native,
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
