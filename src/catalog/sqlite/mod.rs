//! The SQLite catalog: the embedded default.
//!
//! WAL journal, `synchronous=FULL` (NORMAL only for staging and recording
//! files, which the publish's commit then makes durable: a store costs one
//! WAL fsync instead of three), `foreign_keys=on`. The hot paths (resolve,
//! get a table or batch; stage, record files, publish) run on plain SQLite
//! connections, see `direct.rs`; the rest through sqlx. Every write runs in a
//! `BEGIN IMMEDIATE` transaction (a deferred `BEGIN` fails with SQLITE_BUSY
//! under contention instead of waiting) and, within one process, behind one
//! async mutex so that only other processes ever meet the busy handler.

mod direct;
mod meta;
mod pins;
mod plans;
mod reads;
mod rows;
mod tokens;
mod verify;
mod writes;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::Mutex;

use super::migrate::{Migration, SQLITE};
use super::{Catalog, Clock, SystemClock};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, Commit, Context, DataFile, Event, EventQuery, MetadataUpdate, Namespace,
    NamespaceName, NewNamespace, NewPin, NewTable, Page, PartitionInfo, PartitionQuery,
    PartitionValues, Pin, PinName, PublishPlan, Resolved, RollbackRequest, StageRequest,
    StoredToken, Table, TableIdent, Token, Version, Violation, WrittenFiles,
};
use writes::plan_is_well_formed;

/// How long a writer waits for another process's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The busy timeout of every connection: [`BUSY_TIMEOUT`], or none at all
/// under the `sqlite_no_busy_timeout` fault (the negative control of the
/// two-processes test, `cli/tests/scale_out.rs`).
fn busy_timeout() -> Duration {
    if crate::faults::active("sqlite_no_busy_timeout") {
        Duration::ZERO
    } else {
        BUSY_TIMEOUT
    }
}

/// A catalog in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    writer: Arc<Mutex<()>>,
    /// Plain connections for the hot reads, run on the calling thread
    /// (see `direct`).
    direct: Arc<direct::Direct>,
}

/// A write transaction and the in-process writer lock it holds.
pub(super) struct WriteTx {
    pub(super) tx: Transaction<'static, Sqlite>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl SqliteCatalog {
    /// Opens (creating if needed) the catalog in the file at `path` and
    /// applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with_clock(path, Arc::new(SystemClock)).await
    }

    /// Opens a `sqlite://path` URL (or `sqlite:path`).
    pub async fn connect(url: &str) -> Result<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                Error::invalid(
                    Code::InvalidDatabaseUrl,
                    "a SQLite database url looks like sqlite:///path/to/catalog.db",
                )
            })?;
        Self::open(Path::new(path)).await
    }

    /// Opens with a given clock (tests use one that steps back).
    pub async fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::invalid(
                    Code::InvalidDatabaseUrl,
                    format!(
                        "cannot create the catalog directory {}: {e}; check the path and its permissions",
                        dir.display()
                    ),
                )
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let catalog = Self {
            pool,
            clock,
            writer: Arc::new(Mutex::new(())),
            direct: Arc::new(direct::Direct::new(path)),
        };
        catalog.migrate(SQLITE).await?;
        Ok(catalog)
    }

    async fn migrate(&self, migrations: &[Migration]) -> Result<()> {
        let mut w = self.write().await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS batchmeta_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .execute(&mut *w.tx)
        .await?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM batchmeta_migrations")
                .fetch_one(&mut *w.tx)
                .await?;
        let applied = applied.unwrap_or(0);
        if let Some(newer) = migrations.last().filter(|m| m.version < applied) {
            return Err(Error::Internal(format!(
                "the catalog was migrated to version {applied} by a newer batchmeta (this one knows up to {}): upgrade batchmeta",
                newer.version
            )));
        }
        // When a migration ran is a fact about this machine, not part of the
        // catalog's timeline: the wall clock, as PostgreSQL's `now()`.
        let now = chrono::Utc::now();
        for m in migrations.iter().filter(|m| m.version > applied) {
            sqlx::raw_sql(m.sql).execute(&mut *w.tx).await?;
            sqlx::query(
                "INSERT INTO batchmeta_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(rows::micros(now))
            .execute(&mut *w.tx)
            .await?;
        }
        w.tx.commit().await?;
        Ok(())
    }

    /// Starts a write transaction: the in-process lock, then `BEGIN IMMEDIATE`.
    pub(super) async fn write(&self) -> Result<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| crate::unavailable::at_catalog_file(e.into(), self.direct.path()))?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Starts a read transaction: one consistent snapshot (WAL).
    pub(super) async fn read(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin().await?)
    }

    pub(super) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.direct.close();
        self.pool.close().await;
    }
}

impl SqliteCatalog {
    /// One durable write transaction: records `written`, then publishes
    /// `plan` (see `Direct::publish`).
    async fn publish_with(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: Vec<WrittenFiles>,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        plan_is_well_formed(plan)?;
        if crate::faults::active("ack_before_commit") {
            return self.publish_acked_early(ctx, ident, written, plan).await;
        }
        let _guard = self.writer.lock().await;
        in_place(|| {
            self.direct
                .publish(&*self.clock, ctx, ident, &written, plan, |_| {})
        })?
        .ok_or_else(|| Error::Internal("a publish answered early".into()))
    }

    /// The publish of the `ack_before_commit` fault (the crash loop's
    /// negative control): it answers, then commits in the background.
    async fn publish_acked_early(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: Vec<WrittenFiles>,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        let (ctx, ident, plan) = (ctx.clone(), ident.clone(), plan.clone());
        self.acked_early(move |direct, clock, early| {
            direct.publish(clock, &ctx, &ident, &written, &plan, early)
        })
        .await
    }

    /// Runs a write of the `ack_before_commit` fault on a blocking thread,
    /// holding the writer lock until it has committed, and answers with
    /// what it handed to `early` (before its commit).
    async fn acked_early<T: Send + 'static>(
        &self,
        write: impl FnOnce(&direct::Direct, &dyn Clock, Box<dyn FnOnce(T) + Send>) -> Result<Option<T>>
        + Send
        + 'static,
    ) -> Result<T> {
        let guard = self.writer.clone().lock_owned().await;
        let (direct, clock) = (self.direct.clone(), self.clock.clone());
        let (early_tx, early_rx) = tokio::sync::oneshot::channel();
        let done = tokio::task::spawn_blocking(move || {
            let _guard = guard;
            write(
                &direct,
                &*clock,
                Box::new(move |out| {
                    let _ = early_tx.send(out);
                }),
            )
        });
        if let Ok(out) = early_rx.await {
            return Ok(out);
        }
        match done.await {
            Ok(Ok(Some(out))) => Ok(out),
            Ok(Ok(None)) => Err(Error::Internal("a write answered twice".into())),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(Error::Internal(format!("the write task failed: {e}"))),
        }
    }
}

/// Runs a short blocking catalog call (a write transaction, its commit's
/// sync included) on the calling thread: with no hand-off to another
/// thread, a loaded machine adds no scheduling delay. On a multi-thread
/// runtime, `block_in_place` first moves this worker's other tasks to
/// another thread; elsewhere (a current-thread runtime, no runtime) the
/// call simply runs.
fn in_place<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn create_namespace(&self, ctx: &Context, ns: &NewNamespace) -> Result<Namespace> {
        self.create_namespace_impl(ctx, ns).await
    }
    async fn get_namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.get_namespace_impl(name).await
    }
    async fn list_namespaces(&self) -> Result<Vec<Namespace>> {
        self.list_namespaces_impl().await
    }
    async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        self.update_namespace_impl(ctx, name, update).await
    }
    async fn create_table(&self, ctx: &Context, table: &NewTable) -> Result<Table> {
        self.create_table_impl(ctx, table).await
    }
    async fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.direct.get_table(ident)
    }
    async fn list_tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        self.list_tables_impl(namespace).await
    }
    async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        self.update_table_impl(ctx, ident, update).await
    }
    async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        self.drop_table_impl(ctx, ident).await
    }
    async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        let _guard = self.writer.lock().await;
        in_place(|| self.direct.stage(&*self.clock, ctx, ident, req))
    }
    async fn record_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        files: &[DataFile],
        schema: &arrow_schema::Schema,
    ) -> Result<Batch> {
        let _guard = self.writer.lock().await;
        in_place(|| self.direct.record_files(ident, batch, files, schema))
    }
    async fn discard(&self, ident: &TableIdent, batch: &BatchId) -> Result<()> {
        self.discard_impl(ident, batch).await
    }
    async fn get_batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch> {
        self.direct.get_batch(ident, batch)
    }
    async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        self.publish_with(ctx, ident, Vec::new(), plan).await
    }
    async fn record_and_publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        self.publish_with(ctx, ident, written.to_vec(), plan).await
    }
    async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        if crate::faults::active("ack_before_commit") {
            let (ctx, ident, partition, req) =
                (ctx.clone(), ident.clone(), partition.clone(), req.clone());
            return self
                .acked_early(move |direct, clock, early| {
                    direct.rollback(clock, &ctx, &ident, &partition, &req, early)
                })
                .await;
        }
        let _guard = self.writer.lock().await;
        in_place(|| {
            self.direct
                .rollback(&*self.clock, ctx, ident, partition, req, |_| {})
        })?
        .ok_or_else(|| Error::Internal("a rollback answered early".into()))
    }
    async fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        match version {
            // A pin is read (and its expiry checked) on the sqlx path.
            Version::Pin(_) => self.resolve_impl(ident, partitions, version).await,
            _ => self.direct.resolve(ident, partitions, version),
        }
    }
    async fn list_partitions(
        &self,
        ident: &TableIdent,
        query: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        self.direct.list_partitions(ident, query)
    }
    async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        self.direct.history(ident, partition, cursor, limit)
    }
    async fn list_batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        self.list_batches_impl(ident, partition).await
    }
    async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin> {
        self.create_pin_impl(ctx, ident, pin).await
    }
    async fn get_pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        self.get_pin_impl(ident, name).await
    }
    async fn list_pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        self.list_pins_impl(ident).await
    }
    async fn delete_pin(&self, ctx: &Context, ident: &TableIdent, name: &PinName) -> Result<()> {
        self.delete_pin_impl(ctx, ident, name).await
    }
    async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>> {
        self.pins_holding_impl(ident, batch).await
    }
    async fn events(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.direct.events(query)
    }
    async fn create_token(&self, token: &StoredToken) -> Result<Token> {
        self.create_token_impl(token).await
    }
    async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.token_by_id_impl(id).await
    }
    async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        self.list_tokens_impl(include_revoked).await
    }
    async fn revoke_token(&self, _ctx: &Context, name: &str) -> Result<Token> {
        self.revoke_token_impl(name).await
    }
    async fn check_invariants(&self) -> Result<Vec<Violation>> {
        self.check_invariants_impl().await
    }
    async fn committed_batches(&self, after: Option<&BatchId>, limit: u32) -> Result<Vec<Batch>> {
        self.committed_batches_impl(after, limit).await
    }
}
