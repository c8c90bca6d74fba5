//! Publish: staged batches made current in one all-or-nothing commit,
//! after each batch's files and schema are checked; and roll back.

use std::collections::HashMap;

use object_store::ObjectStoreExt;

use super::Metastore;
use super::writes::check_schema;
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, Casts, Commit, Context, Event, Expect, PartitionSpec,
    PartitionValues, PublishItem, PublishPlan, RollbackRequest, SchemaChange, SchemaMode, Table,
    TableIdent, WrittenFiles,
};
use crate::storage;

/// How many times a publish is retried when a concurrent schema merge
/// changed the table between the check and the commit.
const SCHEMA_RETRIES: usize = 5;

/// One partition to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishSpec {
    /// The partition.
    pub partition: PartitionSpec,
    /// The staged batch.
    pub batch: BatchId,
    /// Compare-and-swap condition; `None` publishes unconditionally.
    pub expect: Option<Expect>,
}

/// What a store already holds when it publishes (see `publish_known`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Known<'a> {
    /// The table as loaded before staging (first attempt only).
    pub(super) table: Option<&'a Table>,
    /// Batches written by this store, with their files.
    pub(super) written: &'a [Batch],
    /// Files this store wrote that the catalog records in the publish's
    /// own transaction.
    pub(super) pending: &'a [WrittenFiles],
}

/// Options for a publish.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishOptions {
    /// Strict (default) or merge.
    pub schema_mode: SchemaMode,
    /// Message for the events (defaults to each batch's message).
    pub message: Option<String>,
    /// The committed batches the published batches were built from.
    pub inputs: Vec<BatchId>,
}

impl Metastore {
    /// Publishes staged batches in one all-or-nothing commit. Each batch's
    /// files must exist with their recorded sizes inside its own prefix, and
    /// its schema must match the table's (or merge into it).
    pub async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        specs: &[PublishSpec],
        options: &PublishOptions,
    ) -> Result<Commit> {
        self.publish_known(ctx, ident, specs, options, Known::default())
            .await
    }

    /// [`Metastore::publish`], starting from what the caller already holds:
    /// the table as loaded before staging and batches it has just written
    /// (their files need no second check; pending files are recorded in the
    /// publish's transaction). A table changed meanwhile makes the catalog
    /// answer `SchemaChanged`, and the retry loads the table again.
    pub(super) async fn publish_known(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        specs: &[PublishSpec],
        options: &PublishOptions,
        known: Known<'_>,
    ) -> Result<Commit> {
        let mut attempt = 0;
        let mut known = known;
        loop {
            match self.publish_once(ctx, ident, specs, options, known).await {
                Err(Error::SchemaChanged) if attempt < SCHEMA_RETRIES => {
                    attempt += 1;
                    known.table = None;
                }
                other => {
                    if other.is_ok() {
                        crate::faults::crash_point("crash_after_commit");
                    }
                    return other;
                }
            }
        }
    }

    async fn publish_once(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        specs: &[PublishSpec],
        options: &PublishOptions,
        known: Known<'_>,
    ) -> Result<Commit> {
        let t = match known.table {
            Some(t) => t.clone(),
            None => self.table(ident).await?,
        };
        let written: HashMap<&BatchId, &Batch> = known.written.iter().map(|b| (&b.id, b)).collect();
        let mut items = Vec::with_capacity(specs.len());
        let mut table_schema = t.schema.clone();
        let mut added = Vec::new();
        for s in specs {
            let partition = PartitionValues::resolve(&t.partition_keys, &s.partition)?;
            let written = written.get(&s.batch).copied();
            let b = match written {
                Some(b) => std::borrow::Cow::Borrowed(b),
                None => std::borrow::Cow::Owned(self.catalog.get_batch(ident, &s.batch).await?),
            };
            if b.partition != partition {
                return Err(crate::catalog::rules::wrong_partition(
                    ident,
                    &b.id,
                    &b.partition,
                    &partition,
                ));
            }
            if b.state == BatchState::Staged {
                if written.is_none() {
                    self.check_files(&b).await?;
                }
                let schema = b.schema.as_ref().ok_or_else(|| {
                    Error::invalid(
                        Code::EmptyBatch,
                        format!(
                            "batch {} has no files: write data to it before publishing",
                            b.id
                        ),
                    )
                })?;
                if let Some((merged, cols)) = check_schema(
                    ident,
                    &table_schema,
                    schema,
                    options.schema_mode,
                    Casts::None,
                )? {
                    table_schema = merged;
                    added.extend(cols);
                }
            }
            items.push(PublishItem {
                partition,
                batch: s.batch.clone(),
                expect: s.expect.clone(),
            });
        }
        let schema_change = (table_schema != t.schema).then_some(SchemaChange {
            from_version: t.schema_version,
            schema: table_schema,
            added,
        });
        let plan = PublishPlan {
            items,
            schema_change,
            schema_version: t.schema_version,
            schema_mode: options.schema_mode,
            message: options.message.clone(),
            inputs: options.inputs.clone(),
        };
        if known.pending.is_empty() {
            self.catalog.publish(ctx, ident, &plan).await
        } else {
            self.catalog
                .record_and_publish(ctx, ident, known.pending, &plan)
                .await
        }
    }

    /// Every file of a staged batch exists in the store with its recorded
    /// size. A client without storage access leaves this to the server.
    async fn check_files(&self, b: &Batch) -> Result<()> {
        let Some(storage) = self.storage() else {
            return Ok(());
        };
        for f in &b.files {
            if !storage::is_inside(&b.location, &f.path) {
                return Err(Error::invalid(
                    Code::FileOutsidePrefix,
                    format!(
                        "file {:?} of batch {} lies outside its prefix {}",
                        f.path, b.id, b.location
                    ),
                ));
            }
            match storage.store().head(&storage::object_path(&f.path)?).await {
                Ok(meta) if meta.size == f.size => {}
                Ok(meta) => {
                    return Err(Error::invalid(
                        Code::BatchFileSizeMismatch,
                        format!(
                            "file {:?} of batch {} is {} bytes, but {} were written: it changed after writing; stage and write a new batch",
                            f.path, b.id, meta.size, f.size
                        ),
                    ));
                }
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(Error::invalid(
                        Code::BatchFileMissing,
                        format!(
                            "file {:?} of batch {} is missing from the warehouse; stage and write a new batch",
                            f.path, b.id
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Rolls a partition back to its current batch's parent, or to `req.to`.
    pub async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionSpec,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let p = self.partition(ident, partition).await?;
        self.catalog.rollback(ctx, ident, &p, req).await
    }
}
