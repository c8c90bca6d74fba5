//! The PostgreSQL catalog: one database shared by any number of stateless
//! replicas.
//!
//! Same tables, semantics, errors and codes as the SQLite catalog, in its own
//! SQL (`migrations/postgres/`). On connect it refuses a server that could
//! lose acknowledged commits (`fsync`, `full_page_writes` or
//! `synchronous_commit` off) unless told otherwise, and applies pending
//! migrations under an advisory lock.
//!
//! Concurrency: write transactions run at READ COMMITTED and take row locks
//! in one fixed order (see `rows`); a pointer is only read under its
//! partition row's lock and moved by a conditional `UPDATE ... WHERE version
//! = $n` in the transaction that appends its event. Minting batch IDs and
//! appending events happen under one transaction-scoped advisory lock, so
//! IDs strictly increase, event time never decreases along ids, and a reader
//! of the change feed never sees an event id before a smaller one. Reads run
//! in one REPEATABLE READ snapshot each.

mod connect;
mod feeds;
mod lineage;
mod meta;
mod pages;
mod pins;
mod pointer;
mod reads;
mod retention;
mod rows;
mod statements;
mod tokens;
mod verify;
mod writes;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{PgPool, Postgres, Transaction};

use super::migrate::POSTGRES;
use super::{Catalog, Clock, SystemClock, TokenStore, Tokens};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, Commit, Context, DataFile, Direction, Event, EventQuery, LineageEdge,
    MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewPin, NewTable, Page, PartitionInfo,
    PartitionQuery, PartitionValues, Pin, PinName, PublishPlan, Resolved, RollbackRequest,
    RunReads, StageRequest, Table, TableIdent, Version, Violation, WrittenFiles,
};
use crate::redact;

pub use connect::PostgresOptions;

/// A catalog in one PostgreSQL database.
#[derive(Clone)]
pub struct PostgresCatalog {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    /// The URL with its password hidden, for messages.
    shown_url: String,
}

impl fmt::Debug for PostgresCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the pool: its connect options hold the password.
        f.debug_struct("PostgresCatalog")
            .field("url", &self.shown_url)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl PostgresCatalog {
    /// Connects to a `postgres://` (or `postgresql://`) URL with default
    /// options, checks durability and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects with explicit options.
    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self> {
        Self::connect_with_clock(url, &options, Arc::new(SystemClock)).await
    }

    /// Connects with a given clock (tests use one that steps back).
    pub async fn connect_with_clock(
        url: &str,
        options: &PostgresOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let shown_url = redact::url(url);
        let pool = connect::pool(url, options).await?;
        let checked = async {
            connect::check_durability(&pool, &shown_url, options).await?;
            connect::migrate(&pool, POSTGRES).await
        }
        .await;
        if let Err(e) = checked {
            pool.close().await;
            return Err(refine(e));
        }
        Ok(Self {
            pool,
            clock,
            shown_url,
        })
    }

    /// Starts a write transaction (READ COMMITTED; see the module docs).
    pub(super) async fn write(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Starts a read transaction: one consistent snapshot.
    pub(super) async fn read(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?)
    }

    /// The clock's time, at the database's precision (microseconds).
    pub(super) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        super::row::micros(self.clock.now())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Lifts the database errors that are the caller's input problem into
/// invalid-input errors: input SQLite stores but PostgreSQL cannot (text
/// with a NUL character, times beyond `timestamptz`'s range, keys too long
/// for an index) is refused with a clear message instead of a 500.
fn refine(e: Error) -> Error {
    let Error::Database(inner) = &e else {
        return e;
    };
    let Some(sqlx::Error::Database(db)) = inner.downcast_ref::<sqlx::Error>() else {
        return e;
    };
    match db.code().as_deref() {
        // character_not_in_repertoire, untranslatable_character
        Some("22021" | "22P05") => Error::invalid(
            Code::InvalidText,
            "text cannot contain NUL (\\u0000) characters: remove them and retry",
        ),
        // datetime_field_overflow: beyond timestamptz's 4713 BC to 294276 AD
        Some("22008") => Error::invalid(
            Code::InvalidTime,
            "a time is out of the catalog's range: use a time between 4713 BC and 294276 AD",
        ),
        // program_limit_exceeded: e.g. an index row too large
        Some("54000") => Error::invalid(
            Code::ValueTooLong,
            "a name, partition value, key or principal is too long to index: shorten it and retry",
        ),
        _ => e,
    }
}

#[async_trait]
impl Catalog for PostgresCatalog {
    async fn create_namespace(&self, ctx: &Context, ns: &NewNamespace) -> Result<Namespace> {
        self.create_namespace_impl(ctx, ns).await.map_err(refine)
    }
    async fn get_namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.get_namespace_impl(name).await.map_err(refine)
    }
    async fn list_namespaces(&self) -> Result<Vec<Namespace>> {
        self.list_namespaces_impl().await.map_err(refine)
    }
    async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        self.update_namespace_impl(ctx, name, update)
            .await
            .map_err(refine)
    }
    async fn create_table(&self, ctx: &Context, table: &NewTable) -> Result<Table> {
        self.create_table_impl(ctx, table).await.map_err(refine)
    }
    async fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.get_table_impl(ident).await.map_err(refine)
    }
    async fn list_tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        self.list_tables_impl(namespace).await.map_err(refine)
    }
    async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        self.update_table_impl(ctx, ident, update)
            .await
            .map_err(refine)
    }
    async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        self.drop_table_impl(ctx, ident).await.map_err(refine)
    }
    async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        self.stage_impl(ctx, ident, req).await.map_err(refine)
    }
    async fn record_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        files: &[DataFile],
        schema: &arrow_schema::Schema,
    ) -> Result<Batch> {
        self.record_files_impl(ident, batch, files, schema)
            .await
            .map_err(refine)
    }
    async fn discard(&self, ident: &TableIdent, batch: &BatchId) -> Result<()> {
        self.discard_impl(ident, batch).await.map_err(refine)
    }
    async fn get_batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch> {
        self.get_batch_impl(ident, batch).await.map_err(refine)
    }
    async fn get_batches(&self, ident: &TableIdent, batches: &[BatchId]) -> Result<Vec<Batch>> {
        self.get_batches_impl(ident, batches).await.map_err(refine)
    }
    async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        self.publish_impl(ctx, ident, &[], plan)
            .await
            .map_err(refine)
    }
    async fn record_and_publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        self.publish_impl(ctx, ident, written, plan)
            .await
            .map_err(refine)
    }
    async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        self.rollback_impl(ctx, ident, partition, req)
            .await
            .map_err(refine)
    }
    async fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        self.resolve_impl(ident, partitions, version)
            .await
            .map_err(refine)
    }
    async fn list_partitions(
        &self,
        ident: &TableIdent,
        query: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        self.list_partitions_impl(ident, query)
            .await
            .map_err(refine)
    }
    async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        self.history_impl(ident, partition, cursor, limit)
            .await
            .map_err(refine)
    }
    async fn list_batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        self.list_batches_impl(ident, partition)
            .await
            .map_err(refine)
    }
    async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin> {
        self.create_pin_impl(ctx, ident, pin).await.map_err(refine)
    }
    async fn get_pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        self.get_pin_impl(ident, name).await.map_err(refine)
    }
    async fn list_pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        self.list_pins_impl(ident).await.map_err(refine)
    }
    async fn delete_pin(&self, ctx: &Context, ident: &TableIdent, name: &PinName) -> Result<()> {
        self.delete_pin_impl(ctx, ident, name).await.map_err(refine)
    }
    async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>> {
        self.pins_holding_impl(ident, batch).await.map_err(refine)
    }
    async fn events(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.events_impl(query).await.map_err(refine)
    }
    async fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        self.lineage_edges_impl(batches, direction)
            .await
            .map_err(refine)
    }
    async fn run_reads(&self, run: &str) -> Result<Option<RunReads>> {
        self.run_reads_impl(run).await.map_err(refine)
    }
    async fn save_run_reads(&self, run: &str, reads: &RunReads) -> Result<()> {
        self.save_run_reads_impl(run, reads).await.map_err(refine)
    }
    async fn claim_feed(
        &self,
        feed: &str,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<i64>> {
        self.claim_feed_impl(feed, holder, lease)
            .await
            .map_err(refine)
    }
    async fn advance_feed(
        &self,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: std::time::Duration,
    ) -> Result<bool> {
        self.advance_feed_impl(feed, holder, cursor, lease)
            .await
            .map_err(refine)
    }
    async fn record_orphans(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        files: &[(String, u64)],
    ) -> Result<Event> {
        self.record_orphans_impl(ctx, ident, files)
            .await
            .map_err(refine)
    }
    async fn unpublished_partitions(&self, ident: &TableIdent) -> Result<Vec<PartitionValues>> {
        self.unpublished_partitions_impl(ident)
            .await
            .map_err(refine)
    }
    async fn mark_expiring(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &super::retention::GcRules,
    ) -> Result<Batch> {
        self.mark_expiring_impl(ctx, ident, batch, rules)
            .await
            .map_err(refine)
    }
    async fn mark_expired(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Event> {
        self.mark_expired_impl(ctx, ident, batch)
            .await
            .map_err(refine)
    }
    fn tokens(&self) -> &dyn Tokens {
        self
    }
    fn token_store(&self) -> Option<&dyn TokenStore> {
        Some(self)
    }
    async fn check_invariants(&self) -> Result<Vec<Violation>> {
        self.check_invariants_impl().await.map_err(refine)
    }
    async fn committed_batches(&self, after: Option<&BatchId>, limit: u32) -> Result<Vec<Batch>> {
        self.committed_batches_impl(after, limit)
            .await
            .map_err(refine)
    }
}
