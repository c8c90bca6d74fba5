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

# The package by concern: _client (Client, connect and the default
# client), _writes (store, stage, publish, create), _reads (load, files,
# listings, wait), _versions (rollback, history, pins, audit), _functions
# (the module functions), _convert (argument types and frame conversion),
# errors and results (what comes back).
from batchmeta import _native
from batchmeta._client import Client, connect
from batchmeta._convert import ArrowStreamExportable as ArrowStreamExportable
from batchmeta._convert import Filter as Filter
from batchmeta._convert import Frame as Frame
from batchmeta._convert import Partition as Partition
from batchmeta._convert import PartitionValue as PartitionValue
from batchmeta._convert import Time as Time
from batchmeta._functions import (
    batches,
    create_namespace,
    create_table,
    events,
    files,
    gc,
    history,
    lineage,
    load_dataframe,
    namespaces,
    partitions,
    pin,
    pins,
    publish,
    rollback,
    rollback_impact,
    set_retention,
    stage,
    stale,
    store_dataframe,
    table,
    tables,
    unpin,
    wait,
)
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

__all__ = [
    "Client",
    "connect",
    "store_dataframe",
    "load_dataframe",
    "rollback",
    "history",
    "lineage",
    "rollback_impact",
    "stale",
    "gc",
    "set_retention",
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


# The module functions call the default client's methods: they carry the
# methods' whole docstrings, so help(bm.store_dataframe) shows everything.
# What is defined in the private modules says it is batchmeta's.
for _name in __all__:
    _function = globals()[_name]
    _method = getattr(Client, _name, None)
    if callable(_function) and not isinstance(_function, type) and _method is not None:
        _function.__doc__ = _method.__doc__
    if getattr(_function, "__module__", "").startswith("batchmeta._"):
        _function.__module__ = __name__
del _name, _function, _method


def __dir__() -> list[str]:
    """What ``dir(batchmeta)`` shows: the public API, not its imports."""
    return sorted([*__all__, "__version__"])
