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

/// What one load writes with.
struct Gen<'a> {
    ms: &'a Metastore,
    storage: &'a Storage,
    table: Table,
    schema: schema::IcebergSchema,
    /// Manifests already known (URI → entry): reused with their original
    /// snapshot and sequence numbers.
    known: HashMap<String, ManifestRef>,
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

/// A positive i64 and a hex name from a digest.
fn digest_id(bytes: &[u8]) -> (i64, String) {
    let d = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    let id = i64::from_be_bytes(first) & i64::MAX;
    (id.max(1), hex::encode(&d[..16]))
}

/// Puts `bytes` at `path` unless something is there; returns the size of
/// what is there (ours, or the first writer's).
async fn put_once(store: &dyn ObjectStore, path: &str, bytes: Vec<u8>) -> Result<i64> {
    let p = storage::object_path(path)?;
    let len = bytes.len() as i64;
    let opts = PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    match store
        .put_opts(&p, PutPayload::from(Bytes::from(bytes)), opts)
        .await
    {
        Ok(_) => Ok(len),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(store.head(&p).await?.size as i64),
        Err(e) => Err(e.into()),
    }
}

async fn exists(store: &dyn ObjectStore, path: &str) -> Result<bool> {
    match store.head(&storage::object_path(path)?).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl Gen<'_> {
    fn prefix(&self) -> String {
        format!("{}/_iceberg", self.table.location)
    }

    async fn resolve(&self, version: Version) -> Result<Vec<Resolved>> {
        self.ms
            .resolve(
                &self.table.ident,
                &ResolveRequest {
                    partitions: None,
                    version,
                },
            )
            .await
    }

    /// The main history (capped), its log, `main` and the tags.
    async fn main_history(
        &mut self,
        max: usize,
    ) -> Result<(
        Vec<Snapshot>,
        Vec<SnapshotLogEntry>,
        BTreeMap<String, SnapshotRef>,
    )> {
        let groups = self.ms.pointer_groups(&self.table.ident, max).await?;
        let mut snapshots = Vec::with_capacity(groups.len() + 1);
        let mut log = Vec::with_capacity(groups.len());
        let mut parent: Option<(i64, String)> = None;
        for g in &groups {
            let rel = format!("{}/lists/snap-{}.avro", self.prefix(), g.id);
            if !exists(self.storage.store().as_ref(), &rel).await? {
                // Reuse what the previous state's list says about its manifests.
                if self.known.is_empty()
                    && let Some((_, prev)) = &parent
                {
                    self.learn(prev).await?;
                }
                let state = self.resolve(Version::AsOf(g.at)).await?;
                let manifests = self.manifests(&state, g.id, g.id).await?;
                let bytes =
                    avro::manifest_list(g.id, parent.as_ref().map(|p| p.0), g.id, &manifests)?;
                put_once(self.storage.store().as_ref(), &rel, bytes).await?;
            }
            let summary = BTreeMap::from([
                ("operation".to_owned(), "overwrite".to_owned()),
                ("batchmeta.events".to_owned(), g.events.to_string()),
                ("batchmeta.server-time".to_owned(), g.at.to_rfc3339()),
            ]);
            snapshots.push(Snapshot {
                snapshot_id: g.id,
                parent_snapshot_id: parent.as_ref().map(|p| p.0),
                sequence_number: g.id,
                timestamp_ms: g.at.timestamp_millis(),
                manifest_list: self.storage.uri(&rel),
                summary,
                schema_id: self.table.schema_version,
            });
            log.push(SnapshotLogEntry {
                timestamp_ms: g.at.timestamp_millis(),
                snapshot_id: g.id,
            });
            parent = Some((g.id, rel));
        }
        let mut refs = BTreeMap::new();
        let last_seq = groups.last().map_or(0, |g| g.id);
        if let Some(g) = groups.last() {
            refs.insert(
                "main".to_owned(),
                SnapshotRef {
                    snapshot_id: g.id,
                    kind: "branch".into(),
                },
            );
            if self.known.is_empty()
                && let Some((_, rel)) = &parent
            {
                self.learn(rel).await?;
            }
        }
        let now = Utc::now();
        let pins: Vec<Pin> = self.ms.pins(Some(&self.table.ident)).await?;
        for pin in pins {
            if pin.expires_at.is_some_and(|e| e <= now) {
                continue;
            }
            let state = self.resolve(Version::Pin(pin.name.clone())).await?;
            let at = match &pin.target {
                PinTarget::AsOf { at } => *at,
                PinTarget::Batch { .. } => latest_commit(&state).unwrap_or(pin.created_at),
            };
            let snap = self
                .virtual_snapshot(&state, at, last_seq.max(1), "pin")
                .await?;
            refs.insert(
                pin.name.to_string(),
                SnapshotRef {
                    snapshot_id: snap.snapshot_id,
                    kind: "tag".into(),
                },
            );
            if !snapshots.iter().any(|s| s.snapshot_id == snap.snapshot_id) {
                snapshots.push(snap);
            }
        }
        Ok((snapshots, log, refs))
    }

    /// Reads a manifest list we wrote into `known`.
    async fn learn(&mut self, rel: &str) -> Result<()> {
        let p = storage::object_path(rel)?;
        let bytes = self.storage.store().get(&p).await?.bytes().await?;
        for m in avro::read_manifest_list(&bytes)? {
            self.known.insert(m.path.clone(), m);
        }
        Ok(())
    }

    /// A snapshot of a state outside the main history (a tag or a virtual
    /// table), its manifest list named by its content.
    async fn virtual_snapshot(
        &mut self,
        state: &[Resolved],
        at: DateTime<Utc>,
        seq: i64,
        kind: &str,
    ) -> Result<Snapshot> {
        let mut key = format!("{kind}\n{}\n", at.timestamp_micros());
        for r in state {
            key.push_str(&format!("{}/{}\n", r.partition.path(), r.batch.id));
        }
        let (id, name) = digest_id(key.as_bytes());
        let rel = format!("{}/lists/v-{name}.avro", self.prefix());
        if !exists(self.storage.store().as_ref(), &rel).await? {
            let manifests = self.manifests(state, id, seq).await?;
            let bytes = avro::manifest_list(id, None, seq, &manifests)?;
            put_once(self.storage.store().as_ref(), &rel, bytes).await?;
        }
        Ok(Snapshot {
            snapshot_id: id,
            parent_snapshot_id: None,
            sequence_number: seq,
            timestamp_ms: at.timestamp_millis(),
            manifest_list: self.storage.uri(&rel),
            summary: BTreeMap::from([
                ("operation".to_owned(), "overwrite".to_owned()),
                ("batchmeta.kind".to_owned(), kind.to_owned()),
            ]),
            schema_id: self.table.schema_version,
        })
    }

    /// The manifest-list entries of a state: known manifests as they were,
    /// the others written now and added at `snapshot_id`.
    async fn manifests(
        &mut self,
        state: &[Resolved],
        snapshot_id: i64,
        seq: i64,
    ) -> Result<Vec<ManifestRef>> {
        let header = ManifestHeader {
            schema: &self.schema.json,
            spec_fields: &self.schema.spec_fields,
        };
        let mut out: Vec<Option<ManifestRef>> = Vec::with_capacity(state.len());
        let mut missing = Vec::new();
        for (i, r) in state.iter().enumerate() {
            let p = r.partition.path();
            let rel = if p.is_empty() {
                format!("{}/manifests/{}.avro", self.prefix(), r.batch.id)
            } else {
                format!("{}/manifests/{p}/{}.avro", self.prefix(), r.batch.id)
            };
            let uri = self.storage.uri(&rel);
            if let Some(m) = self.known.get(&uri) {
                out.push(Some(m.clone()));
                continue;
            }
            let files: Vec<DataFileEntry> = r
                .batch
                .files
                .iter()
                .map(|f| DataFileEntry {
                    path: self.storage.uri(&f.path),
                    rows: f.rows as i64,
                    size: f.size as i64,
                })
                .collect();
            let bytes = avro::manifest(&header, &self.table.partition_keys, &r.partition, &files)?;
            let entry = ManifestRef {
                path: uri,
                length: 0,
                sequence_number: seq,
                added_snapshot_id: snapshot_id,
                files: i32::try_from(files.len()).unwrap_or(i32::MAX),
                rows: r.batch.rows as i64,
            };
            missing.push((i, rel, bytes, entry));
            out.push(None);
        }
        let store = self.storage.store().clone();
        let written: Vec<(usize, ManifestRef)> = futures::stream::iter(missing)
            .map(|(i, rel, bytes, mut entry)| {
                let store = store.clone();
                async move {
                    entry.length = put_once(store.as_ref(), &rel, bytes).await?;
                    Ok::<_, Error>((i, entry))
                }
            })
            .buffer_unordered(PARALLEL_PUTS)
            .try_collect()
            .await?;
        for (i, entry) in written {
            self.known.insert(entry.path.clone(), entry.clone());
            out[i] = Some(entry);
        }
        Ok(out.into_iter().flatten().collect())
    }

    fn metadata(
        &self,
        snapshots: Vec<Snapshot>,
        log: Vec<SnapshotLogEntry>,
        refs: BTreeMap<String, SnapshotRef>,
    ) -> TableMetadata {
        let t = &self.table;
        let current = refs.get("main").map_or(-1, |r| r.snapshot_id);
        let last_seq = snapshots
            .iter()
            .map(|s| s.sequence_number)
            .max()
            .unwrap_or(0);
        let last_updated = snapshots
            .iter()
            .map(|s| s.timestamp_ms)
            .chain([t.updated_at.timestamp_millis()])
            .max()
            .unwrap_or(0);
        let (_, uuid_hex) =
            digest_id(format!("{}\n{}", t.ident, t.created_at.timestamp_micros()).as_bytes());
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &uuid_hex[0..8],
            &uuid_hex[8..12],
            &uuid_hex[12..16],
            &uuid_hex[16..20],
            &uuid_hex[20..32]
        );
        let mut properties = BTreeMap::from([
            (
                "schema.name-mapping.default".to_owned(),
                self.schema.name_mapping.clone(),
            ),
            ("write.format.default".to_owned(), "parquet".to_owned()),
            (
                "batchmeta.read-only".to_owned(),
                "write with batchmeta (store_dataframe, meta publish); this catalog refuses commits".to_owned(),
            ),
        ]);
        if let Some(d) = &t.description {
            properties.insert("comment".to_owned(), d.clone());
        }
        if schema::has_nanosecond_timestamps(t) {
            properties.insert(
                "batchmeta.note".to_owned(),
                "nanosecond timestamps are declared as Iceberg timestamp (microseconds)".to_owned(),
            );
        }
        let keys = t.partition_keys.len() as i32;
        TableMetadata {
            format_version: 2,
            table_uuid: uuid,
            location: self.storage.uri(&t.location),
            last_sequence_number: last_seq,
            last_updated_ms: last_updated,
            last_column_id: self.schema.last_column_id,
            current_schema_id: t.schema_version,
            schemas: vec![self.schema.json.clone()],
            default_spec_id: 0,
            partition_specs: vec![
                serde_json::json!({"spec-id": 0, "fields": self.schema.spec_fields}),
            ],
            last_partition_id: schema::FIRST_PARTITION_FIELD_ID - 1 + keys,
            default_sort_order_id: 0,
            sort_orders: vec![serde_json::json!({"order-id": 0, "fields": []})],
            properties,
            current_snapshot_id: current,
            snapshots,
            snapshot_log: log,
            metadata_log: Vec::new(),
            refs,
        }
    }

    async fn write_metadata(&self, metadata: &TableMetadata) -> Result<String> {
        let bytes = serde_json::to_vec(metadata)
            .map_err(|e| Error::Internal(format!("iceberg metadata: {e}")))?;
        let (_, name) = digest_id(&bytes);
        let rel = format!("{}/metadata/{name}.metadata.json", self.prefix());
        if !exists(self.storage.store().as_ref(), &rel).await? {
            put_once(self.storage.store().as_ref(), &rel, bytes).await?;
        }
        Ok(self.storage.uri(&rel))
    }
}
