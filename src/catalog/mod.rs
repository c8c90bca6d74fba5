//! The metadata catalog: the [`Catalog`] trait and its implementations.
//!
//! A catalog owns the database side of the metastore: namespaces, tables,
//! partitions and their pointers, batches and their files, the append-only
//! event log and pins. It knows nothing about object stores or Parquet; the
//! [`crate::Metastore`] facade checks files and schemas before it calls
//! [`Catalog::publish`], and the catalog makes the pointer move and the audit
//! row one transaction.
//!
//! Every implementation runs the conformance suite in `tests/it/`.

mod clock;
pub(crate) mod errors;
pub(crate) mod feeds;
pub(crate) mod lineage;
mod migrate;
mod page;
pub mod postgres;
pub mod retention;
mod row;
pub(crate) mod rules;
pub mod sqlite;
mod tokens;
mod verify;

use async_trait::async_trait;

pub use clock::{Clock, SystemClock};
pub use postgres::{PostgresCatalog, PostgresOptions};
pub use sqlite::SqliteCatalog;
pub use tokens::{TokenStore, Tokens};

use std::sync::Arc;

use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, Commit, Context, DataFile, Direction, Event, EventQuery, LineageEdge,
    MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewPin, NewTable, Page, PartitionInfo,
    PartitionQuery, PartitionValues, Pin, PinName, PublishPlan, Resolved, RollbackRequest,
    RunReads, StageRequest, Table, TableIdent, Version, Violation, WrittenFiles,
};

/// Connects to the catalog a database URL names: `sqlite://path` (or
/// `sqlite:path`) or `postgres://...` / `postgresql://...`, with default
/// options. Errors never show the URL's password.
pub async fn connect_catalog(url: &str) -> Result<Arc<dyn Catalog>> {
    connect_catalog_with(url, &PostgresOptions::default()).await
}

/// [`connect_catalog`] with the options of a PostgreSQL catalog.
pub async fn connect_catalog_with(
    url: &str,
    postgres: &PostgresOptions,
) -> Result<Arc<dyn Catalog>> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Arc::new(SqliteCatalog::connect(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(
            PostgresCatalog::connect_with(url, postgres.clone()).await?,
        )),
        _ => Err(Error::invalid(
            Code::InvalidDatabaseUrl,
            format!(
                "unsupported database url {}: use sqlite:///path/to/catalog.db or postgres://user@host/dbname",
                crate::redact::url(url)
            ),
        )),
    }
}

/// The metadata operations of the metastore. Implementations: SQLite,
/// PostgreSQL (here) and the HTTP client (later), all held to one conformance suite.
///
/// Inputs are validated model types; implementations still enforce every
/// invariant that involves stored state (existence, states, compare-and-swap).
#[async_trait]
pub trait Catalog: Send + Sync + std::fmt::Debug {
    /// Creates a namespace (an event).
    async fn create_namespace(&self, ctx: &Context, ns: &NewNamespace) -> Result<Namespace>;
    /// Gets a namespace.
    async fn get_namespace(&self, name: &NamespaceName) -> Result<Namespace>;
    /// Lists namespaces by name.
    async fn list_namespaces(&self) -> Result<Vec<Namespace>>;
    /// Updates a namespace's description, owner or properties (an event).
    async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace>;

    /// Creates a table (an event).
    async fn create_table(&self, ctx: &Context, table: &NewTable) -> Result<Table>;
    /// Gets a live (not dropped) table.
    async fn get_table(&self, ident: &TableIdent) -> Result<Table>;
    /// Lists the live tables of a namespace by name.
    async fn list_tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>>;
    /// Updates a table's description, owner or properties (an event).
    async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table>;
    /// Drops a table: it leaves listings; its data and history stay (an event).
    async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()>;

    /// Allocates one staged batch per partition (with an idempotency key, a
    /// retry returns the same batches). Mints strictly increasing batch IDs.
    async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>>;
    /// Records the files written to a staged batch and their schema. Files
    /// must lie inside the batch's prefix; the facade has checked them.
    async fn record_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        files: &[DataFile],
        schema: &arrow_schema::Schema,
    ) -> Result<Batch>;
    /// Forgets a staged batch that was never published (a failed store): its
    /// file rows, its row, and its partition row if nothing else uses it.
    /// Committed batches are never discarded.
    async fn discard(&self, ident: &TableIdent, batch: &BatchId) -> Result<()>;
    /// Gets a batch of a table, staged or committed, with its files.
    async fn get_batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch>;
    /// Gets batches of a table, in the order given ([`Catalog::get_batch`]
    /// each; a backend answers them in one read).
    async fn get_batches(&self, ident: &TableIdent, batches: &[BatchId]) -> Result<Vec<Batch>> {
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            out.push(self.get_batch(ident, b).await?);
        }
        Ok(out)
    }
    /// Publishes staged batches in one transaction: compare-and-swap each
    /// pointer, mark each batch committed with its parent, append one event
    /// per partition. All or nothing. Publishing already committed batches
    /// again returns their original commit and appends nothing.
    async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit>;
    /// A store's last step: records the files of staged batches that `plan`
    /// publishes (as [`Catalog::record_files`] does for each) and publishes
    /// `plan` (as
    /// [`Catalog::publish`]). A catalog that can makes both one transaction
    /// and one durable commit; the default records, then publishes.
    async fn record_and_publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        for w in written {
            self.record_files(ident, &w.batch, &w.files, &w.schema)
                .await?;
        }
        self.publish(ctx, ident, plan).await
    }
    /// Moves a partition's pointer to its current batch's parent, or to
    /// `req.to`; one event.
    async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event>;

    /// Resolves partitions (all published ones when `None`) to batches.
    async fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>>;
    /// Lists published partitions in key order, a page at a time.
    async fn list_partitions(
        &self,
        ident: &TableIdent,
        query: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>>;
    /// The pointer moves of one partition, newest first.
    async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>>;
    /// Lists the batches (staged and committed) of a partition, newest first.
    async fn list_batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>>;

    /// Creates a pin (an event).
    async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin>;
    /// Gets a pin.
    async fn get_pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin>;
    /// Lists the pins of a table, or of every table.
    async fn list_pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>>;
    /// Deletes a pin (an event).
    async fn delete_pin(&self, ctx: &Context, ident: &TableIdent, name: &PinName) -> Result<()>;
    /// The unexpired pins that hold a batch, directly or through an as-of time.
    async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>>;

    /// Queries the audit trail.
    async fn events(&self, query: &EventQuery) -> Result<Page<Event>>;

    /// The server a remote catalog talks to, for what runs there whole
    /// (retention deletes in the server's warehouse); `None` for a database.
    #[cfg(feature = "client")]
    fn server(&self) -> Option<&crate::client::RemoteCatalog> {
        None
    }

    /// Appends the audit event of retention having deleted orphan objects
    /// of a table (`files`: their paths and sizes).
    async fn record_orphans(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        files: &[(String, u64)],
    ) -> Result<Event>;
    /// The partitions of a table that were never published: retention
    /// collects the abandoned batches staged into them.
    async fn unpublished_partitions(&self, ident: &TableIdent) -> Result<Vec<PartitionValues>>;
    /// Marks a batch `expiring` for retention in one transaction that
    /// re-checks every rule ([`retention::recheck`]) on what it reads there;
    /// refused (`batch_protected`) when the batch is no longer collectable.
    /// A batch already expiring is returned as it is (a resumed gc).
    async fn mark_expiring(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &retention::GcRules,
    ) -> Result<Batch>;
    /// Marks an `expiring` batch `expired` once its files are deleted, with
    /// its audit event (files, bytes) in the same transaction.
    async fn mark_expired(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Event>;
    /// One step of lineage (`catalog::lineage` walks further): with
    /// [`Direction::Up`], the recorded edges whose built batch is one of
    /// `batches` (their inputs); with [`Direction::Down`], the edges whose
    /// input is one of them. Batches without edges (or unknown) add none.
    /// Retention asks this for the inputs of pinned batches.
    async fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>>;
    /// What the run `run` has read since its last store, if it read anything.
    async fn run_reads(&self, run: &str) -> Result<Option<RunReads>>;
    /// Saves what the run `run` has read.
    async fn save_run_reads(&self, run: &str, reads: &RunReads) -> Result<()>;
    /// Claims the delivery feed `feed` for `holder` (see [`feeds`]),
    /// creating it at the end of the event log when it is new, or renews
    /// the claim; the lease runs `lease` from now. Returns the feed's cursor
    /// (the id of the last event delivered), or `None` while another
    /// holder's lease runs.
    async fn claim_feed(
        &self,
        feed: &str,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<i64>>;
    /// Moves the cursor of `feed` forward to `cursor` and renews the lease,
    /// if `holder` still holds the feed; `false` when another server has
    /// claimed it since.
    async fn advance_feed(
        &self,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: std::time::Duration,
    ) -> Result<bool>;

    /// Waits until the partition's current batch is a batch other than
    /// `after` (any batch when `after` is `None`), up to `timeout`. Returns
    /// `None` on timeout. The default polls; a remote catalog long-polls the
    /// server.
    async fn wait_for(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        after: Option<&BatchId>,
        timeout: std::time::Duration,
    ) -> Result<Option<Resolved>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = std::time::Duration::from_millis(10);
        loop {
            match self
                .resolve(
                    ident,
                    Some(std::slice::from_ref(partition)),
                    &Version::Current,
                )
                .await
            {
                Ok(mut r) => {
                    if let Some(first) = r.pop().filter(|r| Some(&r.batch.id) != after) {
                        return Ok(Some(first));
                    }
                }
                Err(e)
                    if e.kind() == crate::ErrorKind::NotFound && e.is(Code::PartitionNotFound) => {}
                Err(e) => return Err(e),
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(100));
        }
    }

    /// The catalog's tokens (see [`Tokens`]).
    fn tokens(&self) -> &dyn Tokens;
    /// Where the catalog keeps token hashes, if it does: a remote catalog
    /// does not, they stay on the server.
    fn token_store(&self) -> Option<&dyn TokenStore> {
        None
    }

    /// Checks the metadata invariants (pointers, event replay, batch states)
    /// and returns every violation found.
    async fn check_invariants(&self) -> Result<Vec<Violation>>;
    /// Committed batches with their files, in batch-ID order after `after`,
    /// for checks against the store.
    async fn committed_batches(&self, after: Option<&BatchId>, limit: u32) -> Result<Vec<Batch>>;
}
