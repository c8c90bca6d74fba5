//! The wire types of the v1 HTTP API: request bodies and query strings,
//! one set for both ends. The server deserializes them (and documents
//! them in the OpenAPI document, feature `server`); the remote client
//! (feature `client`) builds them, so that what it sends is what the
//! server reads. Responses are the model types themselves.

use serde::{Deserialize, Serialize};

pub use crate::model::ServerInfo;

use crate::error::Result;
use crate::model::{
    Action, EventQuery, Order, PartitionSpec, Properties, SchemaMode, Scope, Version, time,
};

/// `POST /v1/namespaces`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateNamespace {
    /// `^[a-z][a-z0-9_]{0,62}$`.
    pub name: String,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask.
    pub owner: Option<String>,
    /// Free-form properties.
    #[serde(default)]
    pub properties: Properties,
}

/// A column of a table created with `columns`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// `int64`, `float64`, `string`, `bool`, `date`, `timestamp`, `timestamptz`,
    /// `binary`, `decimal(P,S)` or an Arrow type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Defaults to true.
    pub nullable: Option<bool>,
}

/// A partition key of a new table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct KeyDef {
    /// Key name.
    pub name: String,
    /// `string`, `int` or `date`.
    #[serde(rename = "type", default = "default_key_type")]
    pub kind: String,
}

fn default_key_type() -> String {
    "string".into()
}

/// `POST /v1/namespaces/{namespace}/tables`: give `columns` or an Arrow `schema`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTable {
    /// Table name.
    pub name: String,
    /// Data columns (partition keys excluded).
    pub columns: Option<Vec<ColumnDef>>,
    /// An Arrow schema as JSON (arrow-rs serde form), instead of `columns`.
    #[cfg_attr(
        feature = "server",
        schema(value_type = Option<crate::server::schemas::ArrowSchema>)
    )]
    pub schema: Option<arrow_schema::Schema>,
    /// Ordered partition keys.
    #[serde(default)]
    pub partition_keys: Vec<KeyDef>,
    /// What it holds.
    pub description: Option<String>,
    /// Who to ask.
    pub owner: Option<String>,
    /// Free-form properties.
    #[serde(default)]
    pub properties: Properties,
}

/// `POST .../stage`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    /// Partitions as `key=value/...` paths (`""` for an unpartitioned table).
    pub partitions: Vec<String>,
    /// A retry with the same key returns the same batches.
    pub idempotency_key: Option<String>,
    /// The writer's message.
    pub message: Option<String>,
    /// Client metadata (job, run id, host, library version).
    #[serde(default)]
    pub metadata: Properties,
}

/// `POST .../batches/{batch_id}/files`: files written straight to the prefix.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddFilesBody {
    /// Object paths relative to the warehouse root, inside the batch prefix.
    pub paths: Vec<String>,
}

/// One partition of a publish.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishItemBody {
    /// The partition path.
    pub partition: String,
    /// The staged batch.
    pub batch_id: String,
    /// Compare-and-swap: the current batch expected, or `none` for a
    /// partition never published. Absent: publish unconditionally.
    pub expected_batch: Option<String>,
}

/// `POST .../publish`: all items in one transaction.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The partitions and their staged batches.
    pub items: Vec<PublishItemBody>,
    /// `strict` (default) or `merge`.
    pub schema_mode: Option<SchemaMode>,
    /// Message for the events.
    pub message: Option<String>,
    /// Batch IDs of the committed batches these were built from (lineage).
    #[serde(default)]
    pub inputs: Vec<String>,
}

/// `POST .../rollback`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    /// The partition path.
    pub partition: String,
    /// A committed batch to move to; absent = the current batch's parent.
    pub to: Option<String>,
    /// Compare-and-swap on the current batch.
    pub expected_batch: Option<String>,
    /// Why.
    pub message: Option<String>,
}

/// Which version to resolve: at most one of `batch_id`, `as_of`, `pin`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct VersionParams {
    /// A batch ID.
    pub batch_id: Option<String>,
    /// A server time: ISO 8601 (`2016-11-01`, `2016-11-01T00:00:00Z`) or an
    /// age such as `2d` or `1h`.
    pub as_of: Option<String>,
    /// A pin name.
    pub pin: Option<String>,
}

impl VersionParams {
    /// The version these parameters name.
    pub fn version(&self) -> Result<Version> {
        Version::parse(
            self.batch_id.as_deref(),
            self.as_of.as_deref(),
            self.pin.as_deref(),
        )
    }
}

/// `POST .../resolve`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// Partition paths; absent = every published partition.
    pub partitions: Option<Vec<String>>,
    /// A batch ID.
    pub batch_id: Option<String>,
    /// A server time: ISO 8601 or an age such as `2d`.
    pub as_of: Option<String>,
    /// A pin name.
    pub pin: Option<String>,
}

impl ResolveBody {
    /// The facade request.
    pub fn request(&self) -> Result<crate::ResolveRequest> {
        let version = VersionParams {
            batch_id: self.batch_id.clone(),
            as_of: self.as_of.clone(),
            pin: self.pin.clone(),
        }
        .version()?;
        let partitions = self
            .partitions
            .as_ref()
            .map(|ps| {
                ps.iter()
                    .map(|p| PartitionSpec::parse(p))
                    .collect::<crate::Result<Vec<_>>>()
            })
            .transpose()?;
        Ok(crate::ResolveRequest {
            partitions,
            version,
        })
    }
}

/// `POST .../read`: resolve, then stream the data as Arrow IPC.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// What to resolve.
    #[serde(flatten)]
    pub resolve: ResolveBody,
    /// Only these columns.
    pub columns: Option<Vec<String>>,
    /// Row filters, combined with AND.
    #[serde(default)]
    pub filters: Vec<crate::data::Filter>,
}

/// `POST .../pins`: give `partition` + `batch_id`, or `as_of`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePinBody {
    /// The consumer's name.
    pub name: String,
    /// Who to ask.
    pub owner: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The partition of a batch pin.
    pub partition: Option<String>,
    /// The batch of a batch pin.
    pub batch_id: Option<String>,
    /// The time of a whole-table pin: ISO 8601 or an age such as `2d`.
    pub as_of: Option<String>,
    /// When the pin stops holding anything: ISO 8601 or a duration from
    /// now such as `30d`.
    pub expires_at: Option<String>,
}

/// Partition listing filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PartitionsParams {
    /// `date=2016-10` or a bare value prefix of the first key.
    pub prefix: Option<String>,
    /// First key at least this value.
    pub from: Option<String>,
    /// First key at most this value.
    pub to: Option<String>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (1-1000).
    pub limit: Option<u32>,
}

/// A partition and a page.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct PartitionPageParams {
    /// The partition path.
    #[serde(default)]
    pub partition: String,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (1-1000).
    pub limit: Option<u32>,
}

/// `GET .../wait`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct WaitParams {
    /// The partition path.
    #[serde(default)]
    pub partition: String,
    /// Return once the current batch is another than this one.
    pub after: Option<String>,
    /// Give up after this many milliseconds (default 30000, at most 300000).
    pub timeout_ms: Option<u64>,
}

/// Upload options.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// `strict` (default) or `merge`.
    pub schema_mode: Option<SchemaMode>,
}

/// `POST .../store`: the one-call stage + upload + publish.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct StoreParams {
    /// The partition path.
    #[serde(default)]
    pub partition: String,
    /// Compare-and-swap: the current batch expected, or `none`.
    pub expected_batch: Option<String>,
    /// `strict` (default) or `merge`.
    pub schema_mode: Option<SchemaMode>,
    /// The writer's message.
    pub message: Option<String>,
    /// A retry with the same key returns the first result.
    pub idempotency_key: Option<String>,
    /// Comma-separated batch IDs of the batches the data was built from.
    pub inputs: Option<String>,
    /// The run id recorded in the batch's metadata.
    pub run_id: Option<String>,
    /// The job name recorded in the batch's metadata.
    pub job: Option<String>,
}

/// `POST /v1/lineage/edges`: one step of lineage from a set of batches.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineageEdgesBody {
    /// Batch IDs (at most 1000).
    pub batches: Vec<String>,
    /// `up` (their inputs) or `down` (what was built from them).
    pub direction: crate::model::Direction,
}

/// `GET .../lineage`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct LineageParams {
    /// The partition path.
    #[serde(default)]
    pub partition: String,
    /// The batch to start from; absent = the partition's current batch.
    pub batch: Option<String>,
    /// `up` (default) or `down`.
    pub direction: Option<crate::model::Direction>,
    /// At most this many edges away (1-100; default all).
    pub depth: Option<u32>,
}

/// `GET /v1/stale`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct StaleParams {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this table (needs `namespace`).
    pub table: Option<String>,
}

/// Committed batches, for verification by remote clients.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct CommittedParams {
    /// After this batch ID.
    pub after: Option<String>,
    /// Page size (1-1000).
    pub limit: Option<u32>,
}

/// `GET /v1/events` filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this table (needs `namespace`).
    pub table: Option<String>,
    /// Only this partition path (needs `table`).
    pub partition: Option<String>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this action (`publish`, `rollback`, ...).
    pub action: Option<String>,
    /// At or after this server time: ISO 8601 (`2016-11-01`,
    /// `2016-11-01T00:00:00Z`) or an age such as `1h` or `2d`.
    pub since: Option<String>,
    /// Before this server time (the same forms as `since`).
    pub until: Option<String>,
    /// Change feed: events after this id, oldest first.
    pub after: Option<i64>,
    /// `newest_first` (default) or `oldest_first`.
    pub order: Option<Order>,
    /// Continue after this cursor.
    pub cursor: Option<String>,
    /// Page size (1-1000).
    pub limit: Option<u32>,
}

impl EventsParams {
    /// The catalog query; the partition is resolved against the table by the caller.
    pub fn query(&self) -> Result<(EventQuery, Option<PartitionSpec>)> {
        let scope = Scope::parse(self.namespace.as_deref(), self.table.as_deref())?;
        let partition = self
            .partition
            .as_deref()
            .map(PartitionSpec::parse)
            .transpose()?;
        let q = EventQuery {
            namespace: scope.namespace().cloned(),
            table: scope.table().cloned(),
            partition: None,
            principal: self.principal.clone(),
            action: self.action.as_deref().map(Action::parse).transpose()?,
            since: self.since.as_deref().map(time::parse_past).transpose()?,
            until: self.until.as_deref().map(time::parse_past).transpose()?,
            after: self.after,
            order: self.order.unwrap_or_default(),
            cursor: self.cursor.clone(),
            limit: self.limit,
        };
        Ok((q, partition))
    }
}

/// `POST /v1/gc`: retention over every table, one namespace's or one
/// table's. A dry run unless `apply`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GcBody {
    /// Only this namespace (needed for a namespace admin).
    pub namespace: Option<String>,
    /// Only this table of `namespace`.
    pub table: Option<String>,
    /// Collect committed batches older than this (`30d`, `12h`), beside the policy.
    pub older_than: Option<String>,
    /// Keep the last N committed batches of each partition (overrides the policy's).
    pub keep_last: Option<u32>,
    /// The grace period (default `7d`; under `1h` needs `force_grace`).
    pub grace: Option<String>,
    /// Accept a grace period under one hour.
    #[serde(default)]
    pub force_grace: bool,
    /// Delete; without it, a dry run that changes nothing.
    #[serde(default)]
    pub apply: bool,
}

impl GcBody {
    /// The body of a request.
    pub fn from_request(req: &crate::GcRequest) -> Self {
        let secs = |d: chrono::TimeDelta| format!("{}s", d.num_seconds());
        Self {
            namespace: req
                .table
                .as_ref()
                .map(|t| &t.namespace)
                .or(req.namespace.as_ref())
                .map(ToString::to_string),
            table: req.table.as_ref().map(|t| t.name.to_string()),
            older_than: req.older_than.map(secs),
            keep_last: req.keep_last,
            grace: req.grace.map(secs),
            force_grace: req.force_grace,
            apply: req.apply,
        }
    }

    /// The request it names.
    pub fn request(&self) -> Result<crate::GcRequest> {
        let scope = Scope::parse(self.namespace.as_deref(), self.table.as_deref())?;
        let delta = |s: &Option<String>| {
            s.as_deref()
                .map(|s| {
                    time::parse_duration(s)
                        .map(|d| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX))
                })
                .transpose()
        };
        Ok(crate::GcRequest {
            namespace: scope.namespace().cloned(),
            table: scope.table().cloned(),
            older_than: delta(&self.older_than)?,
            keep_last: self.keep_last,
            grace: delta(&self.grace)?,
            force_grace: self.force_grace,
            apply: self.apply,
        })
    }
}
