//! The catalog's entities and the requests that create or query them.

use std::collections::BTreeMap;

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BatchId, Expect, NamespaceName, PartitionKey, PartitionValues, PinName, TableIdent};
use crate::Code;

/// Free-form string properties (Hive / Iceberg style).
pub type Properties = BTreeMap<String, String>;

/// Who is acting and on behalf of which request. The principal is decided by
/// the edge (an authenticated token, the OS user), never by a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The acting principal, recorded in events.
    pub principal: String,
    /// The request id, recorded in events.
    pub request_id: Option<String>,
}

impl Context {
    /// A context for `principal` with no request id.
    pub fn new(principal: impl Into<String>) -> Self {
        Self {
            principal: principal.into(),
            request_id: None,
        }
    }
}

/// A namespace (database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Namespace {
    /// Its name.
    pub name: NamespaceName,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask about it.
    pub owner: Option<String>,
    /// Free-form properties.
    pub properties: Properties,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A namespace to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NewNamespace {
    /// Its name.
    pub name: NamespaceName,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask about it.
    pub owner: Option<String>,
    /// Free-form properties.
    #[serde(default)]
    pub properties: Properties,
}

/// Changes to the descriptive fields of a namespace or table. `None` leaves a
/// field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetadataUpdate {
    /// New description.
    pub description: Option<String>,
    /// New owner.
    pub owner: Option<String>,
    /// Properties to set (added or replaced).
    #[serde(default)]
    pub set_properties: Properties,
    /// Property names to remove.
    #[serde(default)]
    pub remove_properties: Vec<String>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Table {
    /// `namespace.table`.
    pub ident: TableIdent,
    /// The Arrow schema of the data columns (partition keys excluded).
    #[cfg_attr(feature = "server", schema(value_type = crate::server::schemas::ArrowSchema))]
    pub schema: Schema,
    /// Incremented by every schema change.
    pub schema_version: i64,
    /// Ordered partition keys; empty for an unpartitioned table.
    pub partition_keys: Vec<PartitionKey>,
    /// Prefix of the table's data, relative to the warehouse root.
    pub location: String,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask about it.
    pub owner: Option<String>,
    /// Free-form properties.
    pub properties: Properties,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed (metadata, not data).
    pub updated_at: DateTime<Utc>,
}

/// A table to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTable {
    /// `namespace.table`.
    pub ident: TableIdent,
    /// The Arrow schema of the data columns (partition keys excluded).
    pub schema: Schema,
    /// Ordered partition keys.
    pub partition_keys: Vec<PartitionKey>,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask about it.
    pub owner: Option<String>,
    /// Free-form properties.
    pub properties: Properties,
}

/// The life of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    /// Allocated, being written, invisible to readers.
    Staged,
    /// Published at least once; its files never change again.
    Committed,
    /// Never published and given up on.
    Abandoned,
    /// Chosen by retention (`gc --apply`) after every rule was re-checked:
    /// its files are being deleted; nothing may publish, roll back to or pin it.
    Expiring,
    /// Collected by retention: its files are gone, its rows and history stay.
    Expired,
}

impl BatchState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Staged => "staged",
            BatchState::Committed => "committed",
            BatchState::Abandoned => "abandoned",
            BatchState::Expiring => "expiring",
            BatchState::Expired => "expired",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "staged" => Some(BatchState::Staged),
            "committed" => Some(BatchState::Committed),
            "abandoned" => Some(BatchState::Abandoned),
            "expiring" => Some(BatchState::Expiring),
            "expired" => Some(BatchState::Expired),
            _ => None,
        }
    }
}

/// One data file of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DataFile {
    /// Object path relative to the warehouse root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Number of rows.
    pub rows: u64,
}

/// A batch: one write of one partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Batch {
    /// The batch ID.
    pub id: BatchId,
    /// Its table.
    pub table: TableIdent,
    /// Its partition.
    pub partition: PartitionValues,
    /// Its prefix, relative to the warehouse root.
    pub location: String,
    /// Staged, committed or abandoned.
    pub state: BatchState,
    /// The batch that was current when this one was published.
    pub parent: Option<BatchId>,
    /// Its data files.
    pub files: Vec<DataFile>,
    /// Total rows.
    pub rows: u64,
    /// Total bytes.
    pub bytes: u64,
    /// The Arrow schema of its files, once written.
    #[cfg_attr(
        feature = "server",
        schema(value_type = Option<crate::server::schemas::ArrowSchema>)
    )]
    pub schema: Option<Schema>,
    /// Fingerprint of that schema.
    pub schema_fingerprint: Option<String>,
    /// Who staged it.
    pub principal: String,
    /// The writer's message.
    pub message: Option<String>,
    /// Client metadata (job, run id, host, library version, ...).
    pub metadata: Properties,
    /// The idempotency key it was staged with.
    pub idempotency_key: Option<String>,
    /// When it was staged.
    pub created_at: DateTime<Utc>,
    /// When it was first published.
    pub committed_at: Option<DateTime<Utc>>,
    /// Who collected it and when, once retention has (state `expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<Expiry>,
}

/// When a batch was expired by retention, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Expiry {
    /// When its files were deleted.
    pub at: DateTime<Utc>,
    /// The principal that ran `gc --apply`.
    pub by: String,
}

/// What to stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageRequest {
    /// One batch is staged for each partition.
    pub partitions: Vec<PartitionValues>,
    /// A retry with the same key returns the same batches.
    pub idempotency_key: Option<String>,
    /// The writer's message.
    pub message: Option<String>,
    /// Client metadata.
    pub metadata: Properties,
}

/// One partition of a publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishItem {
    /// The partition.
    pub partition: PartitionValues,
    /// The staged batch to make current.
    pub batch: BatchId,
    /// Compare-and-swap condition; `None` publishes unconditionally.
    pub expect: Option<Expect>,
}

/// A schema change that rides along with a publish (`schema_mode = merge`).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaChange {
    /// The table's schema version the change was computed from.
    pub from_version: i64,
    /// The new table schema.
    pub schema: Schema,
    /// The columns it adds, for the event.
    pub added: Vec<String>,
}

/// The files a write put under a staged batch's prefix, not yet recorded:
/// a store hands them to [`crate::Catalog::record_and_publish`].
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFiles {
    /// The staged batch.
    pub batch: BatchId,
    /// Its new files.
    pub files: Vec<DataFile>,
    /// Their Arrow schema.
    pub schema: Schema,
}

/// A whole publish: one transaction, all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    /// The partitions and their batches.
    pub items: Vec<PublishItem>,
    /// A schema change to apply in the same transaction.
    pub schema_change: Option<SchemaChange>,
    /// The table schema version the batches were checked against.
    pub schema_version: i64,
    /// The schema mode the batches were checked under (a remote catalog
    /// re-checks on the server).
    pub schema_mode: super::SchemaMode,
    /// Message for the events (defaults to each batch's message).
    pub message: Option<String>,
    /// The committed batches every batch of the plan was built from
    /// (lineage, recorded in the publish's transaction).
    pub inputs: Vec<BatchId>,
}

/// The result of a publish: the events it appended, one per partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Commit {
    /// Groups the events of this publish.
    pub commit_id: String,
    /// One event per partition, in item order.
    pub events: Vec<Event>,
}

/// How to roll a partition back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollbackRequest {
    /// A committed batch of the partition to make current; `None` = the
    /// current batch's parent.
    pub to: Option<BatchId>,
    /// Compare-and-swap condition on the current batch.
    pub expect: Option<BatchId>,
    /// Why.
    pub message: Option<String>,
}

/// One partition resolved to a batch and its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Resolved {
    /// The partition.
    pub partition: PartitionValues,
    /// Its batch under the requested version.
    pub batch: Batch,
}

/// A partition in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PartitionInfo {
    /// The partition.
    pub partition: PartitionValues,
    /// Its current batch (`current_batch` on the wire, as in a conflict
    /// error and the CLI's JSON).
    #[serde(rename = "current_batch")]
    pub current: BatchId,
    /// How many times its pointer changed.
    pub version: i64,
    /// When its pointer last changed.
    pub updated_at: DateTime<Utc>,
}

/// A partition listing query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionQuery {
    /// `date=2016-10` (leading keys whole, the last one a value prefix), or a
    /// bare value prefix of the first key.
    pub prefix: Option<String>,
    /// First key at least this value (inclusive).
    pub from: Option<String>,
    /// First key at most this value (inclusive).
    pub to: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// A page of results and the cursor for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// Default page size.
pub const DEFAULT_PAGE: u32 = 100;
/// Largest page size.
pub const MAX_PAGE: u32 = 1000;

/// The actions on the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// A namespace was created.
    CreateNamespace,
    /// A namespace's description, owner or properties changed.
    UpdateNamespace,
    /// A table was created.
    CreateTable,
    /// A table's description, owner or properties changed.
    UpdateTable,
    /// A table was dropped (its data and history stay).
    DropTable,
    /// A table's schema changed (merge added columns).
    UpdateSchema,
    /// A batch was published: the partition pointer moved to it.
    Publish,
    /// A partition pointer was moved back (or forward) to an earlier batch.
    Rollback,
    /// A pin was created.
    CreatePin,
    /// A pin was deleted.
    DeletePin,
    /// Retention deleted a batch's files (`gc --apply`).
    Expire,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 11] = [
        Action::CreateNamespace,
        Action::UpdateNamespace,
        Action::CreateTable,
        Action::UpdateTable,
        Action::DropTable,
        Action::UpdateSchema,
        Action::Publish,
        Action::Rollback,
        Action::CreatePin,
        Action::DeletePin,
        Action::Expire,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CreateNamespace => "create_namespace",
            Action::UpdateNamespace => "update_namespace",
            Action::CreateTable => "create_table",
            Action::UpdateTable => "update_table",
            Action::DropTable => "drop_table",
            Action::UpdateSchema => "update_schema",
            Action::Publish => "publish",
            Action::Rollback => "rollback",
            Action::CreatePin => "create_pin",
            Action::DeletePin => "delete_pin",
            Action::Expire => "expire",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> crate::Result<Self> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
                crate::Error::invalid(
                    Code::InvalidAction,
                    format!(
                        "unknown action {}: use one of {}",
                        super::shown(s),
                        names.join(", ")
                    ),
                )
            })
    }

    /// Whether this action moves a partition pointer.
    pub fn moves_pointer(self) -> bool {
        matches!(self, Action::Publish | Action::Rollback)
    }
}

/// One entry of the audit trail. Append-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Event {
    /// Global, increasing id.
    pub id: i64,
    /// Server time (never decreasing along ids).
    pub at: DateTime<Utc>,
    /// Who acted.
    pub principal: String,
    /// What happened.
    pub action: Action,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// The table (without namespace), if any.
    pub table: Option<String>,
    /// The partition path, for pointer moves and pins.
    pub partition: Option<String>,
    /// The batch current before.
    pub from_batch: Option<BatchId>,
    /// The batch current after.
    pub to_batch: Option<BatchId>,
    /// Groups the events of one multi-partition publish.
    pub commit_id: Option<String>,
    /// The message given with the change.
    pub message: Option<String>,
    /// Rows of the batch moved to.
    pub rows: Option<u64>,
    /// Bytes of the batch moved to.
    pub bytes: Option<u64>,
    /// Files of the batch moved to.
    pub files: Option<u64>,
    /// Schema fingerprint of the batch moved to.
    pub schema_fingerprint: Option<String>,
    /// Client metadata of the batch moved to.
    pub metadata: Properties,
    /// The request that did it.
    pub request_id: Option<String>,
    /// Action-specific details (e.g. added columns, pin target).
    #[cfg_attr(feature = "server", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

/// Event order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Newest first (the default for queries).
    #[default]
    NewestFirst,
    /// Oldest first (the change feed).
    OldestFirst,
}

/// An audit query. With `after`, it is a change feed in id order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Only this namespace.
    pub namespace: Option<NamespaceName>,
    /// Only this table (needs `namespace`).
    pub table: Option<TableIdent>,
    /// Only this partition path (needs `table`).
    pub partition: Option<PartitionValues>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this action.
    pub action: Option<Action>,
    /// At or after this server time.
    pub since: Option<DateTime<Utc>>,
    /// Before this server time.
    pub until: Option<DateTime<Utc>>,
    /// Change feed: events with id greater than this, oldest first.
    pub after: Option<i64>,
    /// Order (ignored with `after`, which is always oldest first).
    pub order: Order,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: Option<u32>,
}

/// What a pin holds. Its OpenAPI schema is written in `server/schemas.rs`
/// (the derive would inline both variants, which generators cannot name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinTarget {
    /// One batch of one partition.
    Batch {
        /// The partition.
        partition: PartitionValues,
        /// The batch.
        batch: BatchId,
    },
    /// The whole table as it was at a server time.
    AsOf {
        /// The time.
        at: DateTime<Utc>,
    },
}

/// A pin: a consumer's claim on data. Nothing pinned is ever collected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Pin {
    /// The table.
    pub table: TableIdent,
    /// The consumer's name.
    pub name: PinName,
    /// Who to ask.
    pub owner: Option<String>,
    /// Why it is pinned.
    pub reason: Option<String>,
    /// What it holds.
    pub target: PinTarget,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops holding anything.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A pin to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPin {
    /// The consumer's name.
    pub name: PinName,
    /// Who to ask.
    pub owner: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// What it holds.
    pub target: PinTarget,
    /// When it stops holding anything.
    pub expires_at: Option<DateTime<Utc>>,
}

/// One broken invariant found by `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Violation {
    /// The DESIGN §6 invariant it breaks (1-6).
    pub invariant: u8,
    /// A stable code, e.g. `missing_file`.
    pub code: String,
    /// What it is about: `sales.sold_items date=2016-10-31`, a batch ID, a path.
    pub subject: String,
    /// What is wrong.
    pub message: String,
}

/// `GET /v1/config`: where the data lives, for clients that write directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    /// The warehouse URL.
    pub warehouse: String,
    /// The batchmeta version of the server.
    pub version: String,
}
