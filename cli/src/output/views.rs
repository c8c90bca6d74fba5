//! The stable JSON shapes of `--output json` (documented in docs/cli.md).
//! They are built from the core's entities here, so that the core can grow
//! without changing what scripts read.

use batchmeta::model::{Batch, Event, Namespace, PartitionInfo, Pin, PinTarget, Properties, Table};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A namespace.
#[derive(Debug, Serialize)]
pub(crate) struct NamespaceView {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) properties: Properties,
    pub(crate) created_at: DateTime<Utc>,
}

impl From<&Namespace> for NamespaceView {
    fn from(n: &Namespace) -> Self {
        Self {
            name: n.name.to_string(),
            description: n.description.clone(),
            owner: n.owner.clone(),
            properties: n.properties.clone(),
            created_at: n.created_at,
        }
    }
}

/// A column of a table.
#[derive(Debug, Serialize)]
pub(crate) struct ColumnView {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) data_type: String,
    pub(crate) nullable: bool,
}

/// A partition key of a table.
#[derive(Debug, Serialize)]
pub(crate) struct KeyView {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) key_type: String,
}

/// A table.
#[derive(Debug, Serialize)]
pub(crate) struct TableView {
    pub(crate) table: String,
    pub(crate) columns: Vec<ColumnView>,
    pub(crate) partition_keys: Vec<KeyView>,
    pub(crate) schema_version: i64,
    pub(crate) location: String,
    pub(crate) description: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) properties: Properties,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<&Table> for TableView {
    fn from(t: &Table) -> Self {
        Self {
            table: t.ident.to_string(),
            columns: t
                .schema
                .fields()
                .iter()
                .map(|f| ColumnView {
                    name: f.name().clone(),
                    data_type: f.data_type().to_string(),
                    nullable: f.is_nullable(),
                })
                .collect(),
            partition_keys: t
                .partition_keys
                .iter()
                .map(|k| KeyView {
                    name: k.name.to_string(),
                    key_type: k.kind.as_str().to_owned(),
                })
                .collect(),
            schema_version: t.schema_version,
            location: t.location.clone(),
            description: t.description.clone(),
            owner: t.owner.clone(),
            properties: t.properties.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A partition in a listing.
#[derive(Debug, Serialize)]
pub(crate) struct PartitionView {
    pub(crate) partition: String,
    pub(crate) current_batch: String,
    pub(crate) version: i64,
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<&PartitionInfo> for PartitionView {
    fn from(p: &PartitionInfo) -> Self {
        Self {
            partition: p.partition.path(),
            current_batch: p.current.to_string(),
            version: p.version,
            updated_at: p.updated_at,
        }
    }
}

/// An audit event.
#[derive(Debug, Serialize)]
pub(crate) struct EventView {
    pub(crate) id: i64,
    pub(crate) at: DateTime<Utc>,
    pub(crate) principal: String,
    pub(crate) action: &'static str,
    pub(crate) table: Option<String>,
    pub(crate) partition: Option<String>,
    pub(crate) from_batch: Option<String>,
    pub(crate) to_batch: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) rows: Option<u64>,
    pub(crate) bytes: Option<u64>,
    pub(crate) files: Option<u64>,
    pub(crate) commit_id: Option<String>,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id,
            at: e.at,
            principal: e.principal.clone(),
            action: e.action.as_str(),
            table: event_table(e),
            partition: e.partition.clone(),
            from_batch: e.from_batch.as_ref().map(ToString::to_string),
            to_batch: e.to_batch.as_ref().map(ToString::to_string),
            message: e.message.clone(),
            rows: e.rows,
            bytes: e.bytes,
            files: e.files,
            commit_id: e.commit_id.clone(),
        }
    }
}

/// `ns.table`, `ns` (namespace events) or nothing.
pub(crate) fn event_table(e: &Event) -> Option<String> {
    match (&e.namespace, &e.table) {
        (Some(n), Some(t)) => Some(format!("{n}.{t}")),
        (Some(n), None) => Some(n.clone()),
        _ => None,
    }
}

/// A batch, as `put` and `wait` report it.
#[derive(Debug, Serialize)]
pub(crate) struct BatchView {
    pub(crate) table: String,
    pub(crate) partition: String,
    pub(crate) batch: String,
    pub(crate) parent: Option<String>,
    pub(crate) state: &'static str,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
    pub(crate) files: usize,
    pub(crate) principal: String,
    pub(crate) message: Option<String>,
    pub(crate) committed_at: Option<DateTime<Utc>>,
}

impl From<&Batch> for BatchView {
    fn from(b: &Batch) -> Self {
        Self {
            table: b.table.to_string(),
            partition: b.partition.path(),
            batch: b.id.to_string(),
            parent: b.parent.as_ref().map(ToString::to_string),
            state: b.state.as_str(),
            rows: b.rows,
            bytes: b.bytes,
            files: b.files.len(),
            principal: b.principal.clone(),
            message: b.message.clone(),
            committed_at: b.committed_at,
        }
    }
}

/// A pin.
#[derive(Debug, Serialize)]
pub(crate) struct PinView {
    pub(crate) table: String,
    pub(crate) name: String,
    pub(crate) partition: Option<String>,
    pub(crate) batch: Option<String>,
    pub(crate) as_of: Option<DateTime<Utc>>,
    pub(crate) owner: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

impl From<&Pin> for PinView {
    fn from(p: &Pin) -> Self {
        let (partition, batch, as_of) = match &p.target {
            PinTarget::Batch { partition, batch } => {
                (Some(partition.path()), Some(batch.to_string()), None)
            }
            PinTarget::AsOf { at } => (None, None, Some(*at)),
        };
        Self {
            table: p.table.to_string(),
            name: p.name.to_string(),
            partition,
            batch,
            as_of,
            owner: p.owner.clone(),
            reason: p.reason.clone(),
            created_at: p.created_at,
            expires_at: p.expires_at,
        }
    }
}

/// One data file of a resolved partition.
#[derive(Debug, Serialize)]
pub(crate) struct FileView {
    pub(crate) partition: String,
    pub(crate) batch: String,
    pub(crate) uri: String,
    pub(crate) size: u64,
    pub(crate) rows: u64,
}
