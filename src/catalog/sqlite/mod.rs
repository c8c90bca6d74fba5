//! The SQLite catalog: the embedded default, on plain SQLite connections
//! (`connect`) run on the calling thread.
//!
//! WAL journal, `synchronous=FULL` (NORMAL only for staging and recording
//! files, which the publish's commit then makes durable: a store costs one
//! WAL fsync instead of three), `foreign_keys=on`. Every write runs in a
//! `BEGIN IMMEDIATE` transaction (a deferred `BEGIN` fails with SQLITE_BUSY
//! under contention instead of waiting) and, within one process, behind one
//! async mutex so that only other processes ever meet the busy handler.

mod connect;
mod feeds;
mod lineage;
mod meta;
mod pages;
mod pins;
mod plans;
mod pointer;
mod reads;
mod retention;
mod rows;
mod statements;
mod tokens;
mod verify;
mod writes;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;

use self::connect::{Conns, Durability, Tx, commit, commit_or_ack_early};
use self::statements as sql;
use super::migrate::{SQLITE, pending};
use super::{Catalog, Clock, SystemClock, TokenStore, Tokens, rules};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, Commit, Context, DataFile, Direction, Event, EventQuery, LineageEdge,
    MetadataUpdate, Namespace, NamespaceName, NewNamespace, NewPin, NewTable, Page, PartitionInfo,
    PartitionQuery, PartitionValues, Pin, PinName, PublishPlan, Resolved, RollbackRequest,
    RunReads, StageRequest, Table, TableIdent, Version, Violation, WrittenFiles,
};

/// A catalog in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteCatalog {
    conns: Arc<Conns>,
    clock: Arc<dyn Clock>,
    writer: Arc<Mutex<()>>,
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
        let catalog = Self {
            conns: Arc::new(in_place(|| Conns::open(path))?),
            clock,
            writer: Arc::new(Mutex::new(())),
        };
        catalog.write(Durability::Full, migrate).await?;
        Ok(catalog)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.conns.close();
    }

    /// Runs `f` in one write transaction behind the writer lock, on the
    /// calling thread, and commits.
    async fn write<T>(&self, sync: Durability, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let _guard = self.writer.lock().await;
        in_place(|| self.conns.write(sync, f, commit))
    }

    /// A durable write that the `ack_before_commit` fault (the crash loop's
    /// negative control) answers before it commits: then it runs on a
    /// blocking thread, holding the writer lock until it has committed, and
    /// answers with its result (before its commit).
    async fn acked<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Tx<'_>, &dyn Clock) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let guard = self.writer.clone().lock_owned().await;
        if !crate::faults::active("ack_before_commit") {
            let _guard = guard;
            return in_place(|| {
                self.conns.write(
                    Durability::Full,
                    |w| f(w, &*self.clock),
                    |tx, out| commit(tx, out),
                )
            });
        }
        let (conns, clock) = (self.conns.clone(), self.clock.clone());
        let (early_tx, early_rx) = tokio::sync::oneshot::channel();
        let done = tokio::task::spawn_blocking(move || {
            let _guard = guard;
            conns.write(
                Durability::Full,
                |w| f(w, &*clock),
                |tx, out| {
                    commit_or_ack_early(tx, out, move |out| {
                        let _ = early_tx.send(out);
                    })
                },
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

/// Applies pending migrations. When a migration ran is a fact about this
/// machine, not part of the catalog's timeline: the wall clock, as
/// PostgreSQL's `now()`.
fn migrate(w: &Tx<'_>) -> Result<()> {
    w.conn.execute_batch(sql::CREATE_MIGRATIONS)?;
    let applied: Option<i64> = w.value(sql::LAST_MIGRATION, [])?.flatten();
    let now = rows::micros(chrono::Utc::now());
    for m in pending(SQLITE, applied)? {
        w.conn.execute_batch(m.sql)?;
        w.run(sql::RECORD_MIGRATION, (m.version, m.name, now))?;
    }
    Ok(())
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
        self.write(Durability::Full, |w| {
            w.create_namespace(self.now(), ctx, ns)
        })
        .await
    }
    async fn get_namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.conns.read(|r| r.namespace(name))
    }
    async fn list_namespaces(&self) -> Result<Vec<Namespace>> {
        self.conns.read(|r| r.namespaces())
    }
    async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        self.write(Durability::Full, |w| {
            w.update_namespace(self.now(), ctx, name, update)
        })
        .await
    }
    async fn create_table(&self, ctx: &Context, table: &NewTable) -> Result<Table> {
        self.write(Durability::Full, |w| w.create_table(self.now(), ctx, table))
            .await
    }
    async fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.get_table_impl(ident)
    }
    async fn list_tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        self.conns.read(|r| r.tables(namespace))
    }
    async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        self.write(Durability::Full, |w| {
            w.update_table(self.now(), ctx, ident, update)
        })
        .await
    }
    async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        self.write(Durability::Full, |w| w.drop_table(self.now(), ctx, ident))
            .await
    }
    async fn stage(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        self.write(Durability::Normal, |w| w.stage(self.now(), ctx, ident, req))
            .await
    }
    async fn record_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        files: &[DataFile],
        schema: &arrow_schema::Schema,
    ) -> Result<Batch> {
        self.write(Durability::Normal, |w| {
            w.record_files(ident, batch, files, schema)
        })
        .await
    }
    async fn discard(&self, ident: &TableIdent, batch: &BatchId) -> Result<()> {
        self.write(Durability::Full, |w| w.discard(ident, batch))
            .await
    }
    async fn get_batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch> {
        self.get_batch_impl(ident, batch)
    }
    async fn publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        self.record_and_publish(ctx, ident, &[], plan).await
    }
    async fn record_and_publish(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        rules::plan_is_well_formed(plan)?;
        let (ctx, ident, written, plan) =
            (ctx.clone(), ident.clone(), written.to_vec(), plan.clone());
        self.acked(move |w, clock| {
            let commit = w.publish(clock.now(), &ctx, &ident, &written, &plan)?;
            crate::faults::crash_point("crash_before_commit");
            Ok(commit)
        })
        .await
    }
    async fn rollback(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let (ctx, ident, partition, req) =
            (ctx.clone(), ident.clone(), partition.clone(), req.clone());
        self.acked(move |w, clock| w.rollback(clock.now(), &ctx, &ident, &partition, &req))
            .await
    }
    async fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        self.resolve_impl(ident, partitions, version)
    }
    async fn list_partitions(
        &self,
        ident: &TableIdent,
        query: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        self.list_partitions_impl(ident, query)
    }
    async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        self.history_impl(ident, partition, cursor, limit)
    }
    async fn list_batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        self.list_batches_impl(ident, partition)
    }
    async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin> {
        let (ctx, ident, pin) = (ctx.clone(), ident.clone(), pin.clone());
        self.acked(move |w, clock| w.create_pin(clock.now(), &ctx, &ident, &pin))
            .await
    }
    async fn get_pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            r.pin(&t, name)
        })
    }
    async fn list_pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        self.conns.read(|r| r.pins(ident))
    }
    async fn delete_pin(&self, ctx: &Context, ident: &TableIdent, name: &PinName) -> Result<()> {
        self.write(Durability::Full, |w| {
            w.delete_pin(self.now(), ctx, ident, name)
        })
        .await
    }
    async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>> {
        self.conns
            .read(|r| r.pins_holding(self.now(), ident, batch))
    }
    async fn events(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.events_impl(query)
    }
    async fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        self.conns.read(|r| r.lineage_edges(batches, direction))
    }
    async fn run_reads(&self, run: &str) -> Result<Option<RunReads>> {
        self.conns.read(|r| r.run_reads(run))
    }
    async fn save_run_reads(&self, run: &str, reads: &RunReads) -> Result<()> {
        self.write(Durability::Full, |w| {
            w.save_run_reads(self.now(), run, reads)
        })
        .await
    }
    async fn claim_feed(
        &self,
        feed: &str,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<i64>> {
        self.write(Durability::Full, |w| {
            w.claim_feed(self.now(), feed, holder, lease)
        })
        .await
    }
    async fn advance_feed(
        &self,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: std::time::Duration,
    ) -> Result<bool> {
        self.write(Durability::Full, |w| {
            w.advance_feed(self.now(), feed, holder, cursor, lease)
        })
        .await
    }
    async fn record_orphans(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        files: &[(String, u64)],
    ) -> Result<Event> {
        self.write(Durability::Full, |w| {
            w.record_orphans(self.now(), ctx, ident, files)
        })
        .await
    }
    async fn unpublished_partitions(&self, ident: &TableIdent) -> Result<Vec<PartitionValues>> {
        self.conns.read(|r| r.unpublished_partitions(ident))
    }
    async fn mark_expiring(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &super::retention::GcRules,
    ) -> Result<Batch> {
        self.write(Durability::Full, |w| {
            w.mark_expiring(self.now(), ctx, ident, batch, rules)
        })
        .await
    }
    async fn mark_expired(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Event> {
        self.write(Durability::Full, |w| {
            w.mark_expired(self.now(), ctx, ident, batch)
        })
        .await
    }
    fn tokens(&self) -> &dyn Tokens {
        self
    }
    fn token_store(&self) -> Option<&dyn TokenStore> {
        Some(self)
    }
    async fn check_invariants(&self) -> Result<Vec<Violation>> {
        self.conns.read(|r| r.check_invariants())
    }
    async fn committed_batches(&self, after: Option<&BatchId>, limit: u32) -> Result<Vec<Batch>> {
        self.committed_batches_impl(after, limit)
    }
}
