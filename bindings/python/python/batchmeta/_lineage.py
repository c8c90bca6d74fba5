"""Lineage: what built a batch (``lineage``), what was built from it
(``direction="down"``), what a rollback would affect (``rollback_impact``)
and the current batches built from inputs that are no longer current
(``stale``). Every ``Client`` is a run: its stores record the batches it
loaded since its last store (see ``Client``'s ``run_id``)."""

from __future__ import annotations

from typing import Any, Literal

from batchmeta import _native
from batchmeta._native import Client as _NativeClient
from batchmeta._convert import Partition


def _ref(d: dict[str, Any]) -> dict[str, Any]:
    """A batch of a lineage answer, with its table as ``"ns.table"``."""
    out = dict(d)
    t = out.get("table")
    if isinstance(t, dict):
        out["table"] = f"{t['namespace']}.{t['name']}"
    if "batch" in out:
        out["batch_id"] = out.pop("batch")
    return out


def _impact(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "retired": [_ref(r) for r in d.get("retired") or []],
        "affected": [_ref(n) for n in d.get("affected") or []],
    }


class _Lineage:
    """The lineage methods of ``Client``."""

    _native: _NativeClient

    @property
    def run_id(self) -> str:
        """The run id this client's stores record (``BATCHMETA_RUN_ID`` or a fresh one)."""
        return self._native.run_id

    def lineage(
        self,
        db: str,
        table: str,
        partition: Partition | None = None,
        *,
        batch_id: str | None = None,
        direction: Literal["up", "down"] = "up",
        depth: int | None = None,
    ) -> list[dict[str, Any]]:
        """The batches a partition's batch (``batch_id``, default its current
        one) was built from (``"up"``), or that were built from it
        (``"down"``), transitively up to ``depth`` steps, nearest first. Each
        is a dict: ``table``, ``partition``, ``batch_id``, ``depth``,
        ``current`` (its partition's current batch?), ``pinned_by``.

        >>> bm.lineage("sales", "daily_summary", "2016-10-31")
        """
        raw = _native.lineage(
            self._native, db, table, partition, batch_id=batch_id, direction=direction, depth=depth
        )
        return [_ref(n) for n in raw["nodes"]]

    def rollback_impact(
        self,
        db: str,
        table: str,
        partition: Partition | None = None,
        *,
        to: str | None = None,
        expected_batch: str | None = None,
    ) -> dict[str, Any]:
        """What ``rollback`` would retire and which current batches downstream
        were built from it (``{"retired": [...], "affected": [...]}``); moves nothing."""
        return _impact(
            _native.rollback_impact(
                self._native, db, table, partition, to=to, expected_batch=expected_batch
            )
        )

    def stale(self, db: str | None = None, table: str | None = None) -> list[dict[str, Any]]:
        """Current batches (of one table, a namespace, or all) built from an
        input that is no longer current: each with its ``stale_inputs``."""
        out = []
        for s in _native.stale(self._native, db, table):
            d = _ref(s)
            d["stale_inputs"] = [_ref(i) for i in s.get("stale_inputs") or []]
            out.append(d)
        return out
