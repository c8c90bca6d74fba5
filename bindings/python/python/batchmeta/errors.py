"""The exceptions batchmeta raises. Every one carries ``.code``, a stable
machine-readable code (``"table_not_found"``, ``"conflict"``,
``"schema_mismatch"``, ``"invalid_partition"``, ...).

``BatchmetaError`` is the base class; catch it to handle every batchmeta
error. The native module raises these classes (``batchmeta._native`` maps
the core's error kinds once, in ``errors.rs``).
"""

from __future__ import annotations

import builtins

__all__ = [
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
]


class BatchmetaError(Exception):
    """Base class of every batchmeta error.

    >>> try:
    ...     bm.load_dataframe("sales", "no_such_table")
    ... except bm.BatchmetaError as e:
    ...     print(e.code)
    table_not_found
    """

    code: str

    def __init__(self, message: str, *, code: str = "internal_error") -> None:
        super().__init__(message)
        self.code = code


class NotFoundError(BatchmetaError):
    """A namespace, table, partition, batch or pin does not exist."""

    def __init__(self, message: str, *, code: str = "not_found") -> None:
        super().__init__(message, code=code)


class AlreadyExistsError(BatchmetaError):
    """A namespace, table or pin with this name exists already."""

    def __init__(self, message: str, *, code: str = "already_exists") -> None:
        super().__init__(message, code=code)


class ConflictError(BatchmetaError):
    """Another writer got there first: the partition's current batch is not
    the ``expected_batch``. ``.current_batch`` is the batch that is current
    now (``None`` if the partition has never been published)."""

    current_batch: str | None

    def __init__(
        self, message: str, *, code: str = "conflict", current_batch: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.current_batch = current_batch


class SchemaMismatchError(BatchmetaError):
    """The frame's columns differ from the table's; the message names them.
    Pass ``schema_mode="merge"`` to add new columns."""

    def __init__(self, message: str, *, code: str = "schema_mismatch") -> None:
        super().__init__(message, code=code)


class InvalidInputError(BatchmetaError, ValueError):
    """The call's arguments or data are invalid; nothing was changed."""

    def __init__(self, message: str, *, code: str = "invalid_input") -> None:
        super().__init__(message, code=code)


class PermissionError(BatchmetaError, builtins.PermissionError):  # noqa: A001
    """Missing credentials, or the principal may not do this."""

    def __init__(self, message: str, *, code: str = "forbidden") -> None:
        super().__init__(message, code=code)


class AuthenticationError(PermissionError):
    """The server asks for a token and got none, or one that is malformed,
    unknown, revoked or expired (HTTP 401). Pass ``token=`` or set
    ``BATCHMETA_TOKEN``; an admin creates tokens with ``meta token create``."""

    def __init__(self, message: str, *, code: str = "unauthorized") -> None:
        super().__init__(message, code=code)


class RateLimitedError(BatchmetaError):
    """The token is over the server's request rate (HTTP 429), still so after
    the client's own retries. Slow down, or ask the operator for a higher
    ``--rate-limit``."""

    def __init__(self, message: str, *, code: str = "rate_limited") -> None:
        super().__init__(message, code=code)


class UnavailableError(BatchmetaError):
    """The catalog database or the object store is down, unreachable or
    read-only (HTTP 503, codes ``database_unavailable`` and
    ``storage_unavailable``), still so after the client's own retries.
    Nothing was changed: check the dependency the message names, then call
    again."""

    def __init__(self, message: str, *, code: str = "database_unavailable") -> None:
        super().__init__(message, code=code)


class InsufficientStorageError(BatchmetaError):
    """The disk or quota under the catalog or the warehouse is full (HTTP
    507). Nothing was published: free space, then call again."""

    def __init__(self, message: str, *, code: str = "insufficient_storage") -> None:
        super().__init__(message, code=code)
