//! Iceberg table metadata generated from the catalog, for the read-only
//! Iceberg REST edge (`/iceberg` of `meta serve`).
//!
//! Nothing here is a second source of truth: every file is derived from
//! batchmeta's pointers and events, under the table's `_iceberg/` prefix
//! (outside every batch prefix), written create-only and never rewritten:
//!
//! - `_iceberg/manifests/<partition path>/<batch id>.avro`: one manifest per
//!   published batch, written lazily the first time a state that holds the
//!   batch is loaded (idempotent: its name is the batch's).
//! - `_iceberg/lists/snap-<snapshot id>.avro`: one manifest list per table
//!   state. A snapshot is a group of pointer-moving events (publish,
//!   rollback) that share a server time; its id and sequence number are the
//!   group's last event id. Its state is resolved with `Version::AsOf`, the
//!   same code as `load_dataframe(as_of=...)`.
//! - `_iceberg/lists/v-<hash>.avro`: content-addressed manifest lists of
//!   tags (pins) and virtual tables (`t@pin`, `t@<time>`).
//! - `_iceberg/metadata/<hash>.metadata.json`: the table metadata, content
//!   addressed.
//!
//! A load carries at most `max_snapshots` snapshots of the main history (the
//! newest), plus one per unexpired pin (tags); older states stay readable
//! through `t@<time>`.

mod avro;
mod schema;
mod writer;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Metastore;
use crate::error::{Code, Error, Result};
use crate::metastore::ResolveRequest;
use crate::model::{
    EventQuery, MAX_PAGE, Order, Pin, PinTarget, Resolved, Table, TableIdent, Version,
};
use crate::storage::{self, Storage};

use avro::{DataFileEntry, ManifestHeader, ManifestRef};
use writer::Gen;

/// Default cap on the main-history snapshots one load carries.
pub const DEFAULT_MAX_SNAPSHOTS: usize = 100;

/// Manifests written at once.
const PARALLEL_PUTS: usize = 16;

/// Iceberg table metadata, format v2 (the subset batchmeta fills).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TableMetadata {
    /// Always 2.
    pub format_version: u8,
    /// Derived from the table's name and creation time.
    pub table_uuid: String,
    /// The table's prefix, as a URI.
    pub location: String,
    /// The current snapshot's sequence number (0 when never published).
    pub last_sequence_number: i64,
    /// Last change, in ms since the epoch.
    pub last_updated_ms: i64,
    /// Highest field id.
    pub last_column_id: i32,
    /// The schema's id (the table's schema version).
    pub current_schema_id: i64,
    /// The one schema.
    pub schemas: Vec<serde_json::Value>,
    /// Always 0.
    pub default_spec_id: i32,
    /// The identity spec on the partition keys.
    pub partition_specs: Vec<serde_json::Value>,
    /// Highest partition field id.
    pub last_partition_id: i32,
    /// Always 0 (unsorted).
    pub default_sort_order_id: i32,
    /// The unsorted order.
    pub sort_orders: Vec<serde_json::Value>,
    /// Includes `schema.name-mapping.default`.
    pub properties: BTreeMap<String, String>,
    /// The current snapshot, -1 when never published.
    pub current_snapshot_id: i64,
    /// Main history (capped) and the tags' snapshots.
    pub snapshots: Vec<Snapshot>,
    /// The main history; its last entry is the current snapshot.
    pub snapshot_log: Vec<SnapshotLogEntry>,
    /// Always empty: metadata is generated, not chained.
    pub metadata_log: Vec<serde_json::Value>,
    /// `main` and one tag per pin.
    pub refs: BTreeMap<String, SnapshotRef>,
}

/// One snapshot: a table state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Snapshot {
    /// Its id.
    pub snapshot_id: i64,
    /// The previous state on the main history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_snapshot_id: Option<i64>,
    /// Its sequence number.
    pub sequence_number: i64,
    /// The server time of its events, in ms.
    pub timestamp_ms: i64,
    /// URI of its manifest list.
    pub manifest_list: String,
    /// `operation` and batchmeta details.
    pub summary: BTreeMap<String, String>,
    /// The schema it is read with.
    pub schema_id: i64,
}

/// A snapshot-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SnapshotLogEntry {
    /// When.
    pub timestamp_ms: i64,
    /// Which.
    pub snapshot_id: i64,
}

/// A branch or tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SnapshotRef {
    /// The snapshot.
    pub snapshot_id: i64,
    /// `branch` or `tag`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A generated table: its metadata and where a copy of it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IcebergTable {
    /// URI of the metadata JSON (content addressed).
    pub metadata_location: String,
    /// The metadata.
    pub metadata: TableMetadata,
}

/// A group of pointer-moving events sharing a server time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Group {
    id: i64,
    at: DateTime<Utc>,
    events: usize,
}

impl Metastore {
    /// The Iceberg metadata of a table at `version` (`Current`: the main
    /// history and tags; `Pin` or `AsOf`: a one-snapshot virtual table).
    /// Writes the manifests, manifest lists and metadata file it refers to
    /// when they are missing; never changes the catalog.
    pub async fn iceberg_table(
        &self,
        ident: &TableIdent,
        version: &Version,
        max_snapshots: usize,
    ) -> Result<IcebergTable> {
        let table = self.table(ident).await?;
        let storage = self.direct()?;
        let schema = schema::iceberg_schema(&table)?;
        let mut g = Gen {
            ms: self,
            storage,
            table,
            schema,
            known: HashMap::new(),
        };
        let (snapshots, log, refs) = match version {
            Version::Current => g.main_history(max_snapshots.max(1)).await?,
            Version::Pin(_) | Version::AsOf(_) => {
                let state = g.resolve(version.clone()).await?;
                let at = match version {
                    Version::AsOf(at) => *at,
                    _ => latest_commit(&state).unwrap_or(g.table.created_at),
                };
                let snap = g.virtual_snapshot(&state, at, 1, "virtual").await?;
                let log = vec![SnapshotLogEntry {
                    timestamp_ms: snap.timestamp_ms,
                    snapshot_id: snap.snapshot_id,
                }];
                let refs = BTreeMap::from([(
                    "main".to_owned(),
                    SnapshotRef {
                        snapshot_id: snap.snapshot_id,
                        kind: "branch".into(),
                    },
                )]);
                (vec![snap], log, refs)
            }
            Version::Batch(_) => {
                return Err(Error::invalid(
                    Code::InvalidVersion,
                    "an Iceberg table reads the current state, a pin or an as-of time",
                ));
            }
        };
        let metadata = g.metadata(snapshots, log, refs);
        let location = g.write_metadata(&metadata).await?;
        Ok(IcebergTable {
            metadata_location: location,
            metadata,
        })
    }

    /// The newest `max` groups of pointer-moving events, oldest first.
    async fn pointer_groups(&self, ident: &TableIdent, max: usize) -> Result<Vec<Group>> {
        let mut q = EventQuery {
            namespace: Some(ident.namespace.clone()),
            table: Some(ident.clone()),
            order: Order::NewestFirst,
            limit: Some(MAX_PAGE),
            ..EventQuery::default()
        };
        let mut groups: Vec<Group> = Vec::new();
        'pages: loop {
            let page = self.events(&q).await?;
            for e in page.items {
                if !e.action.moves_pointer() {
                    continue;
                }
                if let Some(g) = groups.last_mut().filter(|g| g.at == e.at) {
                    g.id = g.id.max(e.id);
                    g.events += 1;
                } else if groups.len() == max {
                    break 'pages;
                } else {
                    groups.push(Group {
                        id: e.id,
                        at: e.at,
                        events: 1,
                    });
                }
            }
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        groups.reverse();
        Ok(groups)
    }
}

fn latest_commit(state: &[Resolved]) -> Option<DateTime<Utc>> {
    state.iter().filter_map(|r| r.batch.committed_at).max()
}
