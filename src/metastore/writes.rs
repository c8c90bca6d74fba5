//! Stage, write, publish, store and roll back.

use std::collections::HashSet;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use futures::{Stream, StreamExt};
use object_store::ObjectStoreExt;

use super::Metastore;
use crate::data;
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, Casts, Context, DataFile, Hint, NewTable, PartitionSpec,
    PartitionValues, Properties, SchemaMode, StageRequest, Table, TableIdent, WrittenFiles,
    fingerprint, merge_schemas_with, schemas_compatible, schemas_compatible_with, stored_schema,
};
use crate::storage;

/// Options for staging batches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageOptions {
    /// A retry with the same key returns the same batches.
    pub idempotency_key: Option<String>,
    /// The writer's message.
    pub message: Option<String>,
    /// Client metadata (job, run id, host, library version).
    pub metadata: Properties,
}

/// What [`Metastore::write_data`] did.
#[derive(Debug)]
pub(super) enum Written {
    /// The server wrote and recorded the files.
    Recorded(Batch),
    /// The files are in the store; the catalog does not know them yet.
    Pending {
        /// The batch as it will be once the files are recorded.
        batch: Batch,
        /// The files, for the catalog.
        files: WrittenFiles,
        /// Where they were written.
        prefix: object_store::path::Path,
    },
}

impl Written {
    /// Splits writes into the batches as written and the files still to be
    /// recorded.
    pub(super) fn split(all: Vec<Written>) -> (Vec<Batch>, Vec<WrittenFiles>) {
        let mut batches = Vec::with_capacity(all.len());
        let mut pending = Vec::new();
        for w in all {
            match w {
                Written::Recorded(b) => batches.push(b),
                Written::Pending { batch, files, .. } => {
                    batches.push(batch);
                    pending.push(files);
                }
            }
        }
        (batches, pending)
    }
}

/// Checks a new table's definition beyond what the model types guarantee.
pub(super) fn check_new_table(t: &NewTable) -> Result<()> {
    let mut seen = HashSet::new();
    for k in &t.partition_keys {
        if !seen.insert(k.name.as_str()) {
            return Err(Error::invalid(
                Code::InvalidPartitionKey,
                format!("partition key {} is given twice", k.name),
            ));
        }
        if t.schema.field_with_name(k.name.as_str()).is_ok() {
            return Err(Error::invalid(
                Code::InvalidPartitionKey,
                format!(
                    "partition key {} is also a data column: partition values live in paths, so leave it out of the schema",
                    k.name
                ),
            ));
        }
    }
    let mut cols = HashSet::new();
    for f in t.schema.fields() {
        if f.name().is_empty() || !cols.insert(f.name().as_str()) {
            return Err(Error::invalid(
                Code::InvalidSchema,
                format!(
                    "column names must be non-empty and unique; {:?} is not",
                    f.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether anything is stored under `prefix` (a directory-like prefix).
async fn has_objects(
    store: &std::sync::Arc<dyn object_store::ObjectStore>,
    prefix: &object_store::path::Path,
) -> Result<bool> {
    match store.list(Some(prefix)).next().await {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) => Err(e.into()),
    }
}

/// Whether an error certainly changed nothing in the catalog, so that the
/// files of the write may go. An internal error while recording is
/// ambiguous (the files may be recorded), and so is a dependency that went
/// away mid-call (the commit may have landed before the connection broke):
/// then the files stay, for a retry with the same idempotency key or for
/// retention.
fn refused(e: &Error) -> bool {
    use crate::ErrorKind::{InsufficientStorage, Internal, Unavailable};
    !matches!(e.kind(), Internal | Unavailable | InsufficientStorage) || matches!(e, Error::Data(_))
}

/// `input` without the table's partition key columns.
pub(super) fn data_schema(table: &Table, input: &Schema) -> Schema {
    let fields: Vec<_> = input
        .fields()
        .iter()
        .filter(|f| {
            !table
                .partition_keys
                .iter()
                .any(|k| k.name.as_str() == f.name())
        })
        .cloned()
        .collect();
    stored_schema(
        &table.schema,
        &Schema::new_with_metadata(fields, input.metadata().clone()),
    )
}

/// Checks a batch schema against the table under `mode`; with merge, returns
/// the merged table schema and added columns when it changes anything.
/// `casts`: whether batchmeta encodes the data itself (and so may cast a
/// column losslessly to the table's type) or takes files as they are.
/// A strict mismatch that only merging could fix gets the hint that says
/// so, in each edge's words.
pub(super) fn check_schema(
    ident: &TableIdent,
    table: &Schema,
    batch: &Schema,
    mode: SchemaMode,
    casts: Casts,
) -> Result<Option<(Schema, Vec<String>)>> {
    match mode {
        SchemaMode::Strict => schemas_compatible_with(table, batch, casts)
            .map(|()| None)
            .map_err(|e| match e {
                Error::SchemaMismatch {
                    message,
                    hint: None,
                } if !message.contains("; hint: ") => Error::schema_mismatch(
                    message,
                    Some(Hint::SchemaMerge {
                        namespace: ident.namespace.to_string(),
                        table: ident.name.to_string(),
                    }),
                ),
                other => other,
            }),
        SchemaMode::Merge => {
            let (merged, added) = merge_schemas_with(table, batch, casts)?;
            Ok((merged != *table).then_some((merged, added)))
        }
    }
}

impl Metastore {
    /// Stages one batch per partition (write-audit-publish starts here).
    pub async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partitions: &[PartitionSpec],
        options: &StageOptions,
    ) -> Result<Vec<Batch>> {
        let t = self.table(ident).await?;
        self.stage_into(ctx, &t, partitions, options).await
    }

    /// [`Metastore::stage`] into the table `t` as the caller just read it
    /// (one read fewer; the catalog's stage checks the live table again).
    pub(super) async fn stage_into(
        &self,
        ctx: &Context,
        t: &Table,
        partitions: &[PartitionSpec],
        options: &StageOptions,
    ) -> Result<Vec<Batch>> {
        let values = partitions
            .iter()
            .map(|p| PartitionValues::resolve(&t.partition_keys, p))
            .collect::<Result<Vec<_>>>()?;
        if values.is_empty() {
            return Err(Error::invalid(
                Code::InvalidPartition,
                "stage at least one partition",
            ));
        }
        let req = StageRequest {
            partitions: values,
            idempotency_key: options.idempotency_key.clone(),
            message: options.message.clone(),
            metadata: options.metadata.clone(),
        };
        self.catalog.stage(ctx, &t.ident, &req).await
    }

    /// Writes a stream of record batches as Parquet under a staged batch's
    /// prefix and records the files. Columns named like partition keys must
    /// hold the partition's value in every row and are dropped. A strict
    /// schema mismatch is refused before anything is written.
    pub async fn write<S>(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        schema: SchemaRef,
        stream: S,
        mode: SchemaMode,
    ) -> Result<Batch>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        let t = self.table(ident).await?;
        let b = self.catalog.get_batch(ident, batch).await?;
        self.write_into(&t, &b, schema, stream, mode).await
    }

    /// [`Metastore::write`] with the table and the batch already loaded.
    pub(super) async fn write_into<S>(
        &self,
        t: &Table,
        b: &Batch,
        schema: SchemaRef,
        stream: S,
        mode: SchemaMode,
    ) -> Result<Batch>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        let (files, prefix) = match self.write_data(t, b, schema, stream, mode).await? {
            Written::Recorded(batch) => return Ok(batch),
            Written::Pending { files, prefix, .. } => (files, prefix),
        };
        let recorded = self
            .catalog
            .record_files(&t.ident, &b.id, &files.files, &files.schema)
            .await;
        if let Err(e) = &recorded
            && refused(e)
        {
            self.remove_unpublished(&prefix).await;
        }
        recorded
    }

    /// Writes a stream of record batches as Parquet under a staged batch's
    /// prefix, without recording the files (a store records them in its
    /// publish); through a server, the server writes and records them.
    pub(super) async fn write_data<S>(
        &self,
        t: &Table,
        b: &Batch,
        schema: SchemaRef,
        stream: S,
        mode: SchemaMode,
    ) -> Result<Written>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        let ident = &t.ident;
        let batch = &b.id;
        if b.state != BatchState::Staged {
            return Err(Error::invalid(
                Code::BatchNotStaged,
                format!(
                    "batch {batch} is {}: stage a new batch to write more data",
                    b.state.as_str()
                ),
            ));
        }
        let out_schema = std::sync::Arc::new(data_schema(t, &schema));
        check_schema(&t.ident, &t.schema, &out_schema, mode, Casts::Lossless)?;
        #[cfg(feature = "client")]
        if let super::DataAccess::Server { client, .. } = &self.data {
            return client
                .upload_arrow(ident, batch, schema, stream, mode)
                .await
                .map(Written::Recorded);
        }
        let storage = self.direct()?;
        // Later writes to the same batch go to a sub-prefix so that their
        // file names never collide (puts are create-only).
        let mut prefix = storage::object_path(&if b.files.is_empty() {
            b.location.clone()
        } else {
            format!("{}/w{:05}", b.location, b.files.len())
        })?;
        // A retry (same idempotency key) of a write that crashed after its
        // files were put but before they were recorded finds them there:
        // they were never visible, but the create-only puts would collide
        // with them, so this write goes to a sub-prefix of its own.
        if b.idempotency_key.is_some() && has_objects(storage.store(), &prefix).await? {
            prefix = storage::object_path(&format!(
                "{}/r{}",
                b.location,
                uuid::Uuid::new_v4().simple()
            ))?;
        }
        let keys = t.partition_keys.clone();
        let values = b.partition.clone();
        let stripped = stream
            .map(move |r| r.and_then(|rb| data::partition_columns_check(&rb, &keys, &values)));
        let files = match data::write_files(
            storage.store(),
            &prefix,
            out_schema.clone(),
            Box::pin(stripped),
            &self.write_options,
        )
        .await
        {
            Ok(files) => files,
            Err(e) => {
                // Nothing under this write's prefix was ever visible:
                // remove what a refused write left, so that it changes
                // nothing.
                if refused(&e) {
                    self.remove_unpublished(&prefix).await;
                }
                return Err(e);
            }
        };
        crate::faults::crash_point("crash_after_data_written");
        let mut written = b.clone();
        written.files.extend(files.iter().cloned());
        written.rows = written.files.iter().map(|f| f.rows).sum();
        written.bytes = written.files.iter().map(|f| f.size).sum();
        written.schema_fingerprint = Some(fingerprint(&out_schema));
        written.schema = Some((*out_schema).clone());
        Ok(Written::Pending {
            batch: written,
            files: WrittenFiles {
                batch: batch.clone(),
                files,
                schema: (*out_schema).clone(),
            },
            prefix,
        })
    }

    /// Deletes the objects under a prefix that belongs to a staged (never
    /// published) batch. Best effort: failures are logged, not raised.
    pub(super) async fn remove_unpublished(&self, prefix: &object_store::path::Path) {
        let Some(storage) = self.storage() else {
            return;
        };
        let store = storage.store();
        let objects: Vec<_> = store.list(Some(prefix)).collect().await;
        for o in objects.into_iter().flatten() {
            if let Err(e) = store.delete(&o.location).await {
                tracing::warn!(path = %o.location, error = %e, "could not remove a file of a failed write");
            }
        }
    }

    /// Records Parquet files that a client wrote straight to the batch's
    /// prefix. Each file's size, rows and schema are read from the store.
    pub async fn add_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        paths: &[String],
    ) -> Result<Batch> {
        #[cfg(feature = "client")]
        if let super::DataAccess::Server { client, .. } = &self.data {
            return client.add_files(ident, batch, paths).await;
        }
        let b = self.catalog.get_batch(ident, batch).await?;
        let mut files = Vec::with_capacity(paths.len());
        let mut schema: Option<Schema> = None;
        for p in paths {
            if !storage::is_inside(&b.location, p) {
                return Err(Error::invalid(
                    Code::FileOutsidePrefix,
                    format!(
                        "file {p:?} is outside batch {batch}'s prefix {}: write it under the prefix",
                        b.location
                    ),
                ));
            }
            let info = match data::inspect_file(self.direct()?.store(), &storage::object_path(p)?)
                .await
            {
                Err(Error::Storage(object_store::Error::NotFound { .. })) => {
                    return Err(Error::invalid(
                        Code::BatchFileMissing,
                        format!(
                            "file {p:?} is not in the warehouse: write it under batch {batch}'s prefix {} first, then add it",
                            b.location
                        ),
                    ));
                }
                other => other?,
            };
            if let Some(s) = &schema {
                schemas_compatible(s, &info.schema)?;
            }
            schema.get_or_insert(info.schema);
            files.push(DataFile {
                path: p.clone(),
                size: info.size,
                rows: info.rows,
            });
        }
        let schema =
            schema.ok_or_else(|| Error::invalid(Code::EmptyBatch, "add at least one file"))?;
        self.catalog
            .record_files(ident, batch, &files, &schema)
            .await
    }
}
