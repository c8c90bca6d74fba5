//! The store protocol, written once for every edge: stage one batch of a
//! partition, write its data into it (one stream, several files, or a
//! Parquet file uploaded to the server), then publish it, or leave it
//! staged for write-audit-publish. When a step fails, the staged batch is
//! discarded, so that a refused store changes nothing.
//!
//! The HTTP `store` handler, `meta put` and the Python `store_dataframe`
//! each make one call here ([`Metastore::store_parts`]);
//! [`Metastore::store`] is its short form for one stream.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};

use super::Metastore;
use super::publish::{Known, PublishOptions, PublishSpec};
use super::writes::{StageOptions, check_schema, data_schema};
use crate::ErrorKind;
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchState, Casts, Commit, Context, Expect, NewTable, PartitionSpec, PartitionValues,
    Properties, SchemaMode, Table, TableIdent, WrittenFiles,
};

/// Options for a store ([`Metastore::store`], [`Metastore::store_parts`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreOptions {
    /// Compare-and-swap condition.
    pub expect: Option<Expect>,
    /// Strict (default) or merge.
    pub schema_mode: SchemaMode,
    /// The writer's message.
    pub message: Option<String>,
    /// Client metadata.
    pub metadata: Properties,
    /// A retry with the same key stores nothing new and returns the same result.
    pub idempotency_key: Option<String>,
    /// The batches it was built from (lineage): by default what the
    /// metastore's run read since its last store.
    pub inputs: super::Inputs,
}

/// When a store publishes its batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Publish {
    /// In the same call: the short, safe path.
    #[default]
    Now,
    /// Not in this call (write-audit-publish): the batch stays staged,
    /// with its data, for a later [`Metastore::publish`] or a discard.
    Later,
}

/// How a store ends, and the table it may create.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreMode<'a> {
    /// Publish now (default) or leave the batch staged.
    pub publish: Publish,
    /// The table to create when it does not exist (a first write that
    /// names its partition keys). The partition and the data's partition
    /// key columns are checked against it before it is created, so that bad
    /// input creates nothing.
    pub create: Option<&'a NewTable>,
    /// The table as the caller has just read it (from
    /// [`Metastore::table_or_draft`]), so that the store does not read it
    /// again. Publishing checks the schema version it was read at, so a
    /// table changed in between is caught as it would be after a fresh
    /// read.
    pub table: Option<&'a Table>,
}

/// One piece of a store's data; a store of several pieces (`meta put a.csv
/// b.parquet`) writes them all into its one batch.
pub enum Part<'a> {
    /// Record batches, encoded as Parquet by batchmeta (a column may be cast
    /// losslessly to the table's type).
    Batches {
        /// The batches' schema.
        schema: SchemaRef,
        /// The batches.
        stream: BoxStream<'a, Result<RecordBatch>>,
    },
    /// A Parquet file as it was uploaded to the server, stored as it is
    /// (its schema is checked once it is in the warehouse).
    Parquet(super::Body),
    /// An Arrow IPC stream uploaded to the server, decoded and written like
    /// [`Part::Batches`]. The body is read only once the batch is staged.
    Arrow(super::Body),
}

impl<'a> Part<'a> {
    /// Record batches of `schema`.
    pub fn batches<S>(schema: SchemaRef, stream: S) -> Self
    where
        S: Stream<Item = Result<RecordBatch>> + Send + 'a,
    {
        Part::Batches {
            schema,
            stream: stream.boxed(),
        }
    }
}

impl std::fmt::Debug for Part<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Batches { schema, .. } => f
                .debug_struct("Batches")
                .field("schema", schema)
                .finish_non_exhaustive(),
            Part::Parquet(_) => f.write_str("Parquet(..)"),
            Part::Arrow(_) => f.write_str("Arrow(..)"),
        }
    }
}

/// What [`Metastore::store_parts`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreOutcome {
    /// The batch with its files: published, or staged ([`Publish::Later`]).
    pub batch: Batch,
    /// The commit; `None` when the batch was left staged.
    pub commit: Option<Commit>,
    /// Whether this store created the table.
    pub created_table: bool,
}

impl StoreOutcome {
    /// The published batch and its commit.
    pub fn published(self) -> Result<Stored> {
        match self.commit {
            Some(commit) => Ok(Stored {
                batch: self.batch,
                commit,
            }),
            None => Err(Error::Internal(
                "a store meant to publish left its batch staged".into(),
            )),
        }
    }
}

/// The result of [`Metastore::store`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Stored {
    /// The published batch, with its files.
    pub batch: Batch,
    /// The commit (one event).
    pub commit: Commit,
}

impl Metastore {
    /// Stages, writes and publishes one partition: the short, safe path
    /// ([`Metastore::store_parts`] with one stream, published now).
    pub async fn store<S>(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionSpec,
        schema: SchemaRef,
        stream: S,
        options: &StoreOptions,
    ) -> Result<Stored>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        let parts = vec![Part::batches(schema, stream)];
        self.store_parts(ctx, ident, partition, parts, options, StoreMode::default())
            .await?
            .published()
    }

    /// Stages one batch of `partition`, writes every part into it and, with
    /// [`Publish::Now`], publishes it (the files recorded in the publish's
    /// own transaction when it can). A strict schema mismatch of record
    /// batches is refused before anything is staged. A retry with the same
    /// idempotency key whose data was already written writes nothing again;
    /// its publish returns the original commit. When a later step fails,
    /// the batch is discarded and its files removed.
    pub async fn store_parts(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionSpec,
        mut parts: Vec<Part<'_>>,
        options: &StoreOptions,
        mode: StoreMode<'_>,
    ) -> Result<StoreOutcome> {
        if parts.is_empty() {
            return Err(Error::invalid(
                Code::EmptyBatch,
                "give at least one file to store",
            ));
        }
        let read = match mode.table {
            Some(t) if t.ident == *ident => Ok(t.clone()),
            _ => self.table(ident).await,
        };
        let (t, created_table) = match (read, mode.create) {
            (Ok(t), _) => (t, false),
            (Err(e), Some(new)) if e.kind() == ErrorKind::NotFound && new.ident == *ident => {
                check_before_creating(new, partition, &mut parts).await?;
                self.ensure_table(ctx, new).await?
            }
            (Err(e), _) => return Err(e),
        };
        for part in &parts {
            if let Part::Batches { schema, .. } = part {
                check_schema(
                    &t.ident,
                    &t.schema,
                    &data_schema(&t, schema),
                    options.schema_mode,
                    Casts::Lossless,
                )?;
            }
        }
        let (inputs, metadata) = self
            .store_inputs(&options.inputs, &options.metadata)
            .await?;
        let staged = self
            .stage_into(
                ctx,
                &t,
                std::slice::from_ref(partition),
                &StageOptions {
                    idempotency_key: options.idempotency_key.clone(),
                    message: options.message.clone(),
                    metadata,
                },
            )
            .await?;
        let batch = staged
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("stage returned no batch".into()))?;
        // A retry (same idempotency key) whose data was already written skips
        // the write; its publish returns the original commit if it happened.
        let fresh = batch.state == BatchState::Staged && batch.files.is_empty();
        let result = async {
            let (written, pending) = if fresh {
                self.write_parts(&t, &batch, parts, mode.publish, options.schema_mode)
                    .await?
            } else {
                (Vec::new(), Vec::new())
            };
            if mode.publish == Publish::Later {
                return Ok(None);
            }
            let spec = PublishSpec {
                partition: partition.clone(),
                batch: batch.id.clone(),
                expect: options.expect.clone(),
            };
            let opts = PublishOptions {
                schema_mode: options.schema_mode,
                message: None,
                inputs,
            };
            let known = Known {
                table: Some(&t),
                written: &written,
                pending: &pending,
            };
            self.publish_known(ctx, ident, &[spec], &opts, known)
                .await
                .map(Some)
        }
        .await;
        let commit = match result {
            Ok(c) => c,
            Err(e) => {
                if fresh {
                    self.abandon_failed_store(ident, &batch).await;
                }
                return Err(e);
            }
        };
        if commit.is_some() {
            self.stored_in_run().await?;
        }
        let batch = self.catalog.get_batch(ident, &batch.id).await?;
        Ok(StoreOutcome {
            batch,
            commit,
            created_table,
        })
    }

    /// Writes the parts of a store into its staged batch, in order. One
    /// stream to publish now leaves its files for the publish to record
    /// (one transaction); otherwise each part's files are recorded as it
    /// is written, so that the next part writes beside them.
    async fn write_parts(
        &self,
        t: &Table,
        batch: &Batch,
        parts: Vec<Part<'_>>,
        publish: Publish,
        mode: SchemaMode,
    ) -> Result<(Vec<Batch>, Vec<WrittenFiles>)> {
        let single = parts.len() == 1 && publish == Publish::Now;
        let mut current = batch.clone();
        let mut pending = Vec::new();
        for part in parts {
            let part = match part {
                Part::Arrow(body) => {
                    let (schema, stream) = super::decode_ipc(body).await?;
                    Part::Batches { schema, stream }
                }
                other => other,
            };
            current = match part {
                Part::Batches { schema, stream } if single => {
                    match self.write_data(t, &current, schema, stream, mode).await? {
                        super::writes::Written::Recorded(b) => b,
                        super::writes::Written::Pending { batch, files, .. } => {
                            pending.push(files);
                            batch
                        }
                    }
                }
                Part::Batches { schema, stream } => {
                    self.write_into(t, &current, schema, stream, mode).await?
                }
                Part::Parquet(body) => {
                    self.upload_parquet(&t.ident, &current.id, body, mode)
                        .await?
                }
                Part::Arrow(_) => {
                    return Err(Error::Internal("an Arrow part left undecoded".into()));
                }
            };
        }
        Ok((vec![current], pending))
    }

    /// Undoes the staging of a store that failed before anyone saw its batch,
    /// so that the catalog and the store are as they were. The catalog
    /// refuses to discard a batch that did get published, and only then are
    /// its files removed. Best effort: failures are logged.
    pub async fn abandon_failed_store(&self, ident: &TableIdent, batch: &Batch) {
        if let Err(e) = self.discard(ident, batch).await {
            tracing::warn!(batch = %batch.id, error = %e, "could not discard a failed store's batch");
        }
    }

    /// Forgets a staged batch that was never published and removes its
    /// files. Published batches are refused (they are never deleted).
    pub async fn discard(&self, ident: &TableIdent, batch: &Batch) -> Result<()> {
        self.catalog.discard(ident, &batch.id).await?;
        if let Ok(prefix) = crate::storage::object_path(&batch.location) {
            self.remove_unpublished(&prefix).await;
        }
        Ok(())
    }
}

/// Before a store creates its table: the partition must fit the new
/// table's keys and every row's partition key columns must hold its values.
/// The record batches are read here, and handed on for the write.
async fn check_before_creating(
    new: &NewTable,
    partition: &PartitionSpec,
    parts: &mut [Part<'_>],
) -> Result<()> {
    let values = PartitionValues::resolve(&new.partition_keys, partition)?;
    for part in parts {
        if let Part::Batches { stream, .. } = part {
            let batches: Vec<RecordBatch> = stream.try_collect().await?;
            for b in &batches {
                crate::data::partition_columns_check(b, &new.partition_keys, &values)?;
            }
            *stream = futures::stream::iter(batches.into_iter().map(Ok)).boxed();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use object_store::{ObjectStoreExt, PutPayload};

    use super::*;
    use crate::model::{Action, EventQuery, KeyType, NamespaceName, NewNamespace, PartitionKey};
    use crate::storage;

    /// A keyed store whose first attempt died after putting its file but
    /// before recording it: the retry stages the same batch, writes beside
    /// the leftover (never over it), publishes once, and a second retry
    /// returns the original result.
    #[tokio::test]
    async fn a_keyed_store_retried_after_a_crash_before_recording_publishes_once() {
        let dir = tempfile::tempdir().unwrap();
        let ms = Metastore::open_dir(dir.path()).await.unwrap();
        let ctx = Context::new("tester");
        ms.create_namespace(
            &ctx,
            &NewNamespace {
                name: NamespaceName::new("s").unwrap(),
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let ident = TableIdent::new("s", "t").unwrap();
        ms.create_table(
            &ctx,
            &NewTable {
                ident: ident.clone(),
                schema: (*schema).clone(),
                partition_keys: vec![PartitionKey::new("d", KeyType::String).unwrap()],
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap();
        let p = PartitionSpec::parse("d=x").unwrap();
        let opts = StoreOptions {
            idempotency_key: Some("job-1".into()),
            ..Default::default()
        };
        let staged = ms
            .stage(
                &ctx,
                &ident,
                std::slice::from_ref(&p),
                &StageOptions {
                    idempotency_key: opts.idempotency_key.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .remove(0);
        let leftover =
            storage::object_path(&format!("{}/part-00000.parquet", staged.location)).unwrap();
        let store = ms.direct().unwrap().store().clone();
        store
            .put(&leftover, PutPayload::from_static(b"half a file"))
            .await
            .unwrap();
        let rb = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
        )
        .unwrap();
        let data = || futures::stream::iter([Ok(rb.clone())]);
        let first = ms
            .store(&ctx, &ident, &p, schema.clone(), data(), &opts)
            .await
            .unwrap();
        assert_eq!(first.batch.id, staged.id);
        assert_eq!(first.batch.rows, 3);
        assert!(
            first
                .batch
                .files
                .iter()
                .all(|f| f.path != leftover.to_string())
        );
        let again = ms
            .store(&ctx, &ident, &p, schema.clone(), data(), &opts)
            .await
            .unwrap();
        assert_eq!(again, first);
        let publishes = ms
            .events(&EventQuery {
                table: Some(ident.clone()),
                namespace: Some(ident.namespace.clone()),
                action: Some(Action::Publish),
                ..Default::default()
            })
            .await
            .unwrap()
            .items;
        assert_eq!(publishes.len(), 1);
        let left = store.get(&leftover).await.unwrap().bytes().await.unwrap();
        assert_eq!(
            &left[..],
            b"half a file",
            "the leftover was not overwritten"
        );
        assert!(ms.verify().await.unwrap().is_clean());
    }
}
