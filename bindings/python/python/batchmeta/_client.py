"""The connection: ``Client`` (one catalog, every operation as a method,
composed from the concerns in ``_writes``, ``_reads``, ``_versions``,
``_lineage`` and ``_retention``) and
the default client the module functions use (``connect``)."""

from __future__ import annotations

import getpass as _getpass
import os as _os
import sys as _sys
import threading as _threading
from collections.abc import Mapping

from batchmeta import _native
from batchmeta._lineage import _Lineage
from batchmeta._reads import _Reads
from batchmeta._retention import _Retention
from batchmeta._versions import _Versions
from batchmeta._writes import _Writes


class Client(_Writes, _Reads, _Versions, _Lineage, _Retention):
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
    ``run_id`` and ``job`` (default ``BATCHMETA_RUN_ID``, ``BATCHMETA_JOB``;
    a fresh run id otherwise): a store records the batches this client
    loaded since its last store as its inputs (lineage), with the run id
    and job name in the batch's metadata.
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
        run_id: str | None = None,
        job: str | None = None,
    ) -> None:
        principal = _principal()
        run_id = run_id if run_id is not None else (_os.environ.get("BATCHMETA_RUN_ID") or None)
        job = job if job is not None else (_os.environ.get("BATCHMETA_JOB") or None)
        token = token if token is not None else (_os.environ.get("BATCHMETA_TOKEN") or None)
        self._native = _native.Client(
            url,
            warehouse=warehouse,
            direct_data=direct_data,
            principal=principal,
            storage_options=dict(storage_options) if storage_options is not None else None,
            token=token,
            run_id=run_id,
            job=job,
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
