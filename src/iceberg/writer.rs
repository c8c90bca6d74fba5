//! One load's writes: the manifests, manifest lists and metadata file a
//! table state refers to, each written create-only under `_iceberg/`.

use super::*;

/// What one load writes with.
pub(super) struct Gen<'a> {
    pub(super) ms: &'a Metastore,
    pub(super) storage: &'a Storage,
    pub(super) table: Table,
    pub(super) schema: schema::IcebergSchema,
    /// Manifests already known (URI → entry): reused with their original
    /// snapshot and sequence numbers.
    pub(super) known: HashMap<String, ManifestRef>,
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
    pub(super) fn prefix(&self) -> String {
        format!("{}/_iceberg", self.table.location)
    }

    pub(super) async fn resolve(&self, version: Version) -> Result<Vec<Resolved>> {
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
    pub(super) async fn main_history(
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
    pub(super) async fn learn(&mut self, rel: &str) -> Result<()> {
        let p = storage::object_path(rel)?;
        let bytes = self.storage.store().get(&p).await?.bytes().await?;
        for m in avro::read_manifest_list(&bytes)? {
            self.known.insert(m.path.clone(), m);
        }
        Ok(())
    }

    /// A snapshot of a state outside the main history (a tag or a virtual
    /// table), its manifest list named by its content.
    pub(super) async fn virtual_snapshot(
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
    pub(super) async fn manifests(
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

    pub(super) fn metadata(
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

    pub(super) async fn write_metadata(&self, metadata: &TableMetadata) -> Result<String> {
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
