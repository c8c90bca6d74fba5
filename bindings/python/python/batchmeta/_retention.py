"""Retention (docs/retention.md): ``gc`` lists what retention would delete
and why every other batch survives, and deletes it with ``apply=True``;
``set_retention`` sets a table's (or a namespace's default) policy."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from batchmeta import _native
from batchmeta._native import Client as _NativeClient

Duration = str | _dt.timedelta
"""``"30d"``, ``"12h"``, ``"90m"``, seconds as ``"3600"``, or a ``timedelta``."""


def _duration(d: Duration | None) -> str | None:
    if d is None or isinstance(d, str):
        return d
    if isinstance(d, _dt.timedelta):
        return f"{int(d.total_seconds())}s"
    raise TypeError(f"a duration is a string such as '30d' or a datetime.timedelta, not {type(d).__name__}")


_UNSET: Any = object()


class _Retention:
    """The retention methods of ``Client``."""

    _native: _NativeClient

    def gc(
        self,
        namespace: str | None = None,
        table: str | None = None,
        older_than: Duration | None = None,
        keep_last: int | None = None,
        grace: Duration | None = None,
        force_grace: bool = False,
        apply: bool = False,
    ) -> dict[str, Any]:
        """Retention over every table, one namespace's or one table's: a dry
        run unless ``apply=True``. Never deletes a current, pinned, in-grace
        (default 7 days) or in-flight batch. ``older_than`` and ``keep_last``
        override the tables' policies (``set_retention``).

        Returns a dict: ``applied``; ``collected`` (each ``table``,
        ``partition``, ``batch``, ``reason``, ``files``, ``bytes``);
        ``survivors`` (each ``table``, ``partition``, ``batch``, ``why``,
        ``survives``); ``skipped`` (protected when re-checked);
        ``orphans`` (objects no batch records: ``table``, ``batch``,
        ``path``, ``bytes``, ``modified``); totals ``batches``, ``files``,
        ``bytes``.

        >>> report = bm.gc("sales", older_than="30d")   # dry run
        >>> bm.gc("sales", older_than="30d", apply=True)
        """
        return _native.gc(
            self._native,
            namespace,
            table,
            older_than=_duration(older_than),
            keep_last=keep_last,
            grace=_duration(grace),
            force_grace=force_grace,
            apply=apply,
        )

    def set_retention(
        self,
        db: str,
        table: str | None = None,
        *,
        keep_last: int | None = _UNSET,
        max_age: Duration | None = _UNSET,
        keep_inputs_of_pinned: bool | None = _UNSET,
    ) -> dict[str, Any]:
        """Sets a table's retention policy (or, with ``table=None``, the
        namespace's default for its tables): keep the last ``keep_last``
        committed batches of each partition, batches younger than
        ``max_age``, and (``keep_inputs_of_pinned=True``) every batch a
        pinned batch was built from. A setting not given stays as it is;
        ``None`` removes it. Returns the table (or namespace).

        >>> bm.set_retention("sales", "sold_items", keep_last=3, max_age="30d")
        """
        settings: list[tuple[str, str | None]] = []
        if keep_last is not _UNSET:
            settings.append(("keep_last", None if keep_last is None else str(keep_last)))
        if max_age is not _UNSET:
            settings.append(("max_age", _duration(max_age)))
        if keep_inputs_of_pinned is not _UNSET:
            settings.append(
                (
                    "keep_inputs_of_pinned",
                    None if keep_inputs_of_pinned is None else str(bool(keep_inputs_of_pinned)).lower(),
                )
            )
        return _native.set_retention(self._native, db, table, settings)
