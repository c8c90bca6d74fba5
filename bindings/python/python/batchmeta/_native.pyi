"""Stubs of the native module (Rust, PyO3). Use the ``batchmeta`` package
instead: it wraps these in typed results. Every function releases the GIL
while it does I/O and raises ``batchmeta.errors`` classes."""

from typing import Any

__version__: str

class Client:
    def __init__(
        self,
        url: str | None = None,
        *,
        warehouse: str | None = None,
        direct_data: bool | None = None,
        principal: str = "python",
        storage_options: dict[str, str] | None = None,
        token: str | None = None,
        run_id: str | None = None,
        job: str | None = None,
    ) -> None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def run_id(self) -> str: ...
    @property
    def warehouse(self) -> str: ...

# The operations: module functions that take the client first
# (src/writes.rs, src/reads.rs, src/versions.rs).

def store(
    client: Client,
    data: Any,
    namespace: str,
    table: str,
    partitions: list[Any] | None = None,
    *,
    partition_by: list[str] | None = None,
    expected_batch: str | None = None,
    schema_mode: str | None = None,
    message: str | None = None,
    metadata: dict[str, str] | None = None,
    idempotency_key: str | None = None,
    publish: bool = True,
    inputs: list[str] | None = None,
    track_reads: bool = True,
) -> dict[str, Any]: ...
def load(
    client: Client,
    namespace: str,
    table: str,
    partitions: list[Any] | None = None,
    *,
    batch_id: str | None = None,
    as_of: Any = None,
    pin: str | None = None,
    columns: list[str] | None = None,
    filters: list[Any] | None = None,
) -> Any: ...
def files(
    client: Client,
    namespace: str,
    table: str,
    partitions: list[Any] | None = None,
    *,
    batch_id: str | None = None,
    as_of: Any = None,
    pin: str | None = None,
) -> list[str]: ...
def rollback(
    client: Client,
    namespace: str,
    table: str,
    partition: Any = None,
    *,
    to: str | None = None,
    expected_batch: str | None = None,
    message: str | None = None,
) -> dict[str, Any]: ...
def history(
    client: Client, namespace: str, table: str, partition: Any = None, *, limit: int | None = None
) -> list[dict[str, Any]]: ...
def batches(client: Client, namespace: str, table: str, partition: Any = None) -> list[dict[str, Any]]: ...
def partitions(
    client: Client, namespace: str, table: str, *, prefix: str | None = None, limit: int | None = None
) -> list[tuple[str, str, int, int]]: ...
def tables(client: Client, namespace: str) -> list[dict[str, Any]]: ...
def table(client: Client, namespace: str, table: str) -> dict[str, Any]: ...
def namespaces(client: Client) -> list[dict[str, Any]]: ...
def create_namespace(
    client: Client,
    namespace: str,
    *,
    description: str | None = None,
    owner: str | None = None,
    properties: dict[str, str] | None = None,
    exist_ok: bool = False,
) -> dict[str, Any]: ...
def create_table(
    client: Client,
    namespace: str,
    table: str,
    schema: Any,
    partition_keys: list[tuple[str, str | None]],
    *,
    description: str | None = None,
    owner: str | None = None,
    properties: dict[str, str] | None = None,
    exist_ok: bool = False,
) -> dict[str, Any]: ...
def pin(
    client: Client,
    namespace: str,
    table: str,
    name: str,
    partition: Any = None,
    *,
    batch_id: str | None = None,
    as_of: Any = None,
    owner: str | None = None,
    reason: str | None = None,
    expires_at: Any = None,
) -> dict[str, Any]: ...
def unpin(client: Client, namespace: str, table: str, name: str) -> None: ...
def pins(client: Client, namespace: str | None = None, table: str | None = None) -> list[dict[str, Any]]: ...
def events(
    client: Client,
    namespace: str | None = None,
    table: str | None = None,
    partition: Any = None,
    *,
    action: str | None = None,
    principal: str | None = None,
    since: Any = None,
    until: Any = None,
    after: int | None = None,
    limit: int | None = None,
) -> dict[str, list[Any]]: ...
def stage(
    client: Client,
    namespace: str,
    table: str,
    partitions: list[Any],
    *,
    message: str | None = None,
    metadata: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> list[dict[str, Any]]: ...
def add_files(client: Client, namespace: str, table: str, batch_id: str, paths: list[str]) -> dict[str, Any]: ...
def publish(
    client: Client,
    namespace: str,
    table: str,
    batches: list[Any],
    *,
    expected_batch: str | None = None,
    schema_mode: str | None = None,
    message: str | None = None,
) -> dict[str, Any]: ...
def wait(
    client: Client,
    namespace: str,
    table: str,
    partition: Any = None,
    *,
    after: str | None = None,
    timeout: float = 60.0,
) -> dict[str, Any] | None: ...
def lineage(
    client: Client,
    namespace: str,
    table: str,
    partition: Any = None,
    *,
    batch_id: str | None = None,
    direction: str = "up",
    depth: int | None = None,
) -> dict[str, Any]: ...
def rollback_impact(
    client: Client,
    namespace: str,
    table: str,
    partition: Any = None,
    *,
    to: str | None = None,
    expected_batch: str | None = None,
) -> dict[str, Any]: ...
def stale(client: Client, namespace: str | None = None, table: str | None = None) -> list[dict[str, Any]]: ...
def gc(
    client: Client,
    namespace: str | None = None,
    table: str | None = None,
    *,
    older_than: str | None = None,
    keep_last: int | None = None,
    grace: str | None = None,
    force_grace: bool = False,
    apply: bool = False,
) -> dict[str, Any]: ...
def set_retention(
    client: Client, namespace: str, table: str | None, settings: list[tuple[str, str | None]]
) -> dict[str, Any]: ...
