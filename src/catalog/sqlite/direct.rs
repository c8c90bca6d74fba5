//! The hot reads (resolve, get a table, get a batch) on plain SQLite
//! connections, run on the calling thread.
//!
//! sqlx runs each SQLite connection on a worker thread of its own, and
//! every statement (`BEGIN` and `COMMIT` included) is a channel round trip:
//! two thread switches. A resolve of one partition through the metastore
//! made about nine of them, and the switches cost more than SQLite's own
//! index searches. Here the same resolve is one short read transaction of
//! cached prepared statements on a connection taken from a small idle list,
//! with no hand-off at all.
//!
//! Running inline on an async worker is sound because these are WAL reads:
//! a reader never waits for a writer (the busy timeout only covers the rare
//! wait while another process recovers the WAL), and each read is a handful
//! of index searches. Writes stay on sqlx, behind the writer lock.
//!
//! Parsed Arrow schemas are cached by their stored JSON text: the text is
//! compared in full, so an entry can never be stale, and a resolve no longer
//! parses the table's and the batch's schemas on every call.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use super::BUSY_TIMEOUT;
use super::rows::{
    BATCH_COLUMNS, BatchRow, NewEvent, PartitionRow, TABLE_COLUMNS, TableRow, from_json, micros,
    never_published, time, to_json,
};
use crate::catalog::Clock;
use crate::error::{Error, Object, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Commit, Context, DataFile, Event, Expect, NamespaceName,
    PartitionKey, PartitionValues, Properties, PublishPlan, Resolved, StageRequest, Table,
    TableIdent, TableName, Version, WrittenFiles, fingerprint, schemas_compatible,
};
use crate::storage;

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full list.
const MAX_IDLE: usize = 8;
/// Parsed schemas kept; the cache starts over when it is full.
const MAX_SCHEMAS: usize = 1024;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(sqlx::Error::AnyDriverError(Box::new(e)))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read connections to one catalog file, and the schema cache.
pub(super) struct Direct {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    schemas: Mutex<HashMap<String, Schema>>,
    /// The write connections (`synchronous=NORMAL` and FULL), opened on
    /// first use; only ever used behind the catalog's writer lock.
    relaxed: Mutex<Option<Connection>>,
    durable: Mutex<Option<Connection>>,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct")
            .field("path", &self.path)
            .field("idle", &lock(&self.idle).len())
            .finish_non_exhaustive()
    }
}

impl Direct {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            schemas: Mutex::new(HashMap::new()),
            relaxed: Mutex::new(None),
            durable: Mutex::new(None),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Readers only: a bug here must not be able to write.
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    /// Runs `f` in one read transaction (one consistent WAL snapshot).
    fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        let popped = lock(&self.idle).pop();
        let mut conn = match popped {
            Some(c) => c,
            None => self.open()?,
        };
        let out = (|| {
            let tx = conn.transaction()?;
            let out = f(&Reader {
                tx: &tx,
                direct: self,
            })?;
            tx.commit()?;
            Ok(out)
        })();
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        out
    }

    /// Drops the idle connections.
    pub(super) fn close(&self) {
        lock(&self.idle).clear();
        lock(&self.relaxed).take();
        lock(&self.durable).take();
    }

    /// The schema stored as `json`, parsed once.
    fn schema(&self, json: &str) -> Result<Schema> {
        if let Some(s) = lock(&self.schemas).get(json) {
            return Ok(s.clone());
        }
        let s: Schema = from_json(json)?;
        let mut cache = lock(&self.schemas);
        if cache.len() >= MAX_SCHEMAS {
            cache.clear();
        }
        cache.insert(json.to_owned(), s.clone());
        Ok(s)
    }

    pub(super) fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.read(|r| Ok(r.live_table(ident)?.table))
    }

    pub(super) fn get_batch(&self, ident: &TableIdent, id: &BatchId) -> Result<Batch> {
        self.read(|r| {
            let t = r.live_table(ident)?;
            r.load_batch(&t, id)
        })
    }

    /// `resolve` for every version but a pin (the caller keeps pins).
    pub(super) fn resolve(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        self.read(|r| {
            let t = r.live_table(ident)?;
            match (version, partitions) {
                (Version::Current, None) => r.all_as_of(&t, None),
                (Version::AsOf(at), None) => r.all_as_of(&t, Some(*at)),
                (Version::Batch(id), ps) => {
                    let b = r.load_batch(&t, id)?;
                    if b.state == BatchState::Abandoned {
                        return Err(Error::not_found_hint(
                            Object::Batch,
                            id.to_string(),
                            "it was abandoned before being published",
                        ));
                    }
                    if let Some(p) = ps.and_then(|ps| ps.iter().find(|p| **p != b.partition)) {
                        return Err(Error::invalid(
                            "batch_partition_mismatch",
                            format!("batch {id} belongs to partition {}, not {p}", b.partition),
                        ));
                    }
                    Ok(vec![Resolved {
                        partition: b.partition.clone(),
                        batch: b,
                    }])
                }
                (Version::Current, Some(ps)) => {
                    let mut out = Vec::with_capacity(ps.len());
                    for values in ps {
                        let batch = r
                            .current_batch(&t, values)?
                            .ok_or_else(|| never_published(&t, values))?;
                        out.push(Resolved {
                            partition: values.clone(),
                            batch,
                        });
                    }
                    Ok(out)
                }
                (Version::AsOf(at), Some(ps)) => {
                    let mut out = Vec::with_capacity(ps.len());
                    for values in ps {
                        let id = match r.partition_id(t.id, values)? {
                            Some(pid) => r.batch_as_of(pid, *at)?,
                            None => None,
                        }
                        .ok_or_else(|| {
                            Error::not_found_hint(
                                Object::Partition,
                                format!("{ident} {values}"),
                                format!("it had not been published at {at}"),
                            )
                        })?;
                        out.push(Resolved {
                            partition: values.clone(),
                            batch: r.load_batch(&t, &id)?,
                        });
                    }
                    Ok(out)
                }
                (Version::Pin(_), _) => Err(Error::Internal(
                    "a pin is resolved through the sqlx path".into(),
                )),
            }
        })
    }
}

/// One transaction (a read, or a write behind the writer lock).
pub(super) struct Reader<'a> {
    tx: &'a Connection,
    direct: &'a Direct,
}

impl Reader<'_> {
    /// The live table `ident`, or a not-found error that says which part is missing.
    fn live_table(&self, ident: &TableIdent) -> Result<TableRow> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {TABLE_COLUMNS} FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
             WHERE n.name = ?1 AND t.name = ?2 AND t.dropped_at IS NULL"
        ))?;
        let mut rows = st.query((ident.namespace.as_str(), ident.name.as_str()))?;
        if let Some(row) = rows.next()? {
            return self.table_from_row(row);
        }
        let ns: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM namespaces WHERE name = ?1")?
            .query_row([ident.namespace.as_str()], |r| r.get(0))
            .optional()?;
        if ns.is_none() {
            let name = &ident.namespace;
            return Err(Error::not_found_hint(
                Object::Namespace,
                name.to_string(),
                format!("create it first with `meta ns create {name}`"),
            ));
        }
        Err(Error::not_found_hint(
            Object::Table,
            ident.to_string(),
            format!("list the tables with `meta table ls {}`", ident.namespace),
        ))
    }

    fn table_from_row(&self, row: &Row<'_>) -> Result<TableRow> {
        let ns: String = row.get("ns")?;
        let name: String = row.get("name")?;
        let schema = self.direct.schema(row.get_ref("schema")?.as_str()?)?;
        let keys: Vec<PartitionKey> = from_json(row.get_ref("partition_keys")?.as_str()?)?;
        Ok(TableRow {
            id: row.get("id")?,
            table: Table {
                ident: TableIdent {
                    namespace: NamespaceName::new(ns)?,
                    name: TableName::new(name)?,
                },
                schema,
                schema_version: row.get("schema_version")?,
                partition_keys: keys,
                location: row.get("location")?,
                description: row.get("description")?,
                owner: row.get("owner")?,
                properties: from_json(row.get_ref("properties")?.as_str()?)?,
                created_at: time(row.get("created_at")?),
                updated_at: time(row.get("updated_at")?),
            },
        })
    }

    fn partition_id(&self, table_id: i64, values: &PartitionValues) -> Result<Option<i64>> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM partitions WHERE table_id = ?1 AND path = ?2")?
            .query_row((table_id, values.path()), |r| r.get(0))
            .optional()?)
    }

    /// The current batch of partition `values` with its files; `None` if
    /// the partition was never published.
    fn current_batch(&self, t: &TableRow, values: &PartitionValues) -> Result<Option<Batch>> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM partitions p JOIN batches b ON b.batch_id = p.current_batch \
             WHERE p.table_id = ?1 AND p.path = ?2"
        ))?;
        let mut rows = st.query((t.id, values.path()))?;
        match rows.next()? {
            Some(row) => Ok(Some(self.batch_row(row, t)?.batch)),
            None => Ok(None),
        }
    }

    /// A batch of table `t` with its files, staged or committed.
    fn load_batch(&self, t: &TableRow, id: &BatchId) -> Result<Batch> {
        Ok(self.load_batch_row(t, id)?.batch)
    }

    /// [`Self::load_batch`] with the row id and commit id.
    fn load_batch_row(&self, t: &TableRow, id: &BatchId) -> Result<BatchRow> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.batch_id = ?1 AND p.table_id = ?2"
        ))?;
        let mut rows = st.query((id.as_str(), t.id))?;
        match rows.next()? {
            Some(row) => self.batch_row(row, t),
            None => Err(Error::not_found_hint(
                Object::Batch,
                format!("{id} of {}", t.table.ident),
                "see a partition's batches with `meta history`",
            )),
        }
    }

    fn batch_row(&self, row: &Row<'_>, t: &TableRow) -> Result<BatchRow> {
        let state: String = row.get("state")?;
        let schema = match row.get_ref("schema")?.as_str_or_null()? {
            Some(s) => Some(self.direct.schema(s)?),
            None => None,
        };
        let pk: i64 = row.get("id")?;
        let batch = Batch {
            id: BatchId::parse(row.get_ref("batch_id")?.as_str()?)?,
            table: t.table.ident.clone(),
            partition: PartitionValues::from_stored(
                &t.table.partition_keys,
                row.get_ref("path")?.as_str()?,
            )?,
            location: row.get("location")?,
            state: BatchState::parse(&state)
                .ok_or_else(|| Error::Internal(format!("unknown batch state {state:?}")))?,
            parent: opt_batch(row.get_ref("parent_batch")?.as_str_or_null()?)?,
            files: self.files(pk)?,
            rows: row.get::<_, i64>("rows")? as u64,
            bytes: row.get::<_, i64>("bytes")? as u64,
            schema,
            schema_fingerprint: row.get("schema_fingerprint")?,
            principal: row.get("principal")?,
            message: row.get("message")?,
            metadata: from_json(row.get_ref("metadata")?.as_str()?)?,
            idempotency_key: row.get("idempotency_key")?,
            created_at: time(row.get("created_at")?),
            committed_at: row.get::<_, Option<i64>>("committed_at")?.map(time),
        };
        Ok(BatchRow {
            pk,
            commit_id: row.get("commit_id")?,
            batch,
        })
    }

    fn files(&self, batch_pk: i64) -> Result<Vec<DataFile>> {
        let mut st = self.tx.prepare_cached(
            "SELECT path, size, rows FROM batch_files WHERE batch_pk = ?1 ORDER BY path",
        )?;
        let files = st.query_map([batch_pk], |r| {
            Ok(DataFile {
                path: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
                rows: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(files.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The batch that was current for partition `pid` at `at`, from the event log.
    fn batch_as_of(&self, pid: i64, at: DateTime<Utc>) -> Result<Option<BatchId>> {
        let id: Option<Option<String>> = self
            .tx
            .prepare_cached(
                "SELECT to_batch FROM events WHERE partition_id = ?1 AND at <= ?2 \
                 ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row((pid, micros(at)), |r| r.get(0))
            .optional()?;
        id.flatten().map(|s| BatchId::parse(&s)).transpose()
    }

    /// Every partition of table `t` that had a batch at `at` (now if
    /// `None`), with that batch.
    fn all_as_of(&self, t: &TableRow, at: Option<DateTime<Utc>>) -> Result<Vec<Resolved>> {
        let mut targets = Vec::new();
        {
            let mut st;
            let mut rows = match at {
                None => {
                    st = self.tx.prepare_cached(
                        "SELECT path, current_batch AS batch FROM partitions \
                         WHERE table_id = ?1 AND current_batch IS NOT NULL ORDER BY sort_key",
                    )?;
                    st.query([t.id])?
                }
                Some(at) => {
                    st = self.tx.prepare_cached(
                        "SELECT p.path, (SELECT e.to_batch FROM events e WHERE e.partition_id = p.id \
                         AND e.at <= ?1 ORDER BY e.at DESC, e.id DESC LIMIT 1) AS batch \
                         FROM partitions p WHERE p.table_id = ?2 ORDER BY p.sort_key",
                    )?;
                    st.query((micros(at), t.id))?
                }
            };
            while let Some(row) = rows.next()? {
                if let Some(b) = row.get_ref(1)?.as_str_or_null()? {
                    let values = PartitionValues::from_stored(
                        &t.table.partition_keys,
                        row.get_ref(0)?.as_str()?,
                    )?;
                    targets.push((values, BatchId::parse(b)?));
                }
            }
        }
        let mut out = Vec::with_capacity(targets.len());
        for (partition, id) in targets {
            let batch = self.load_batch(t, &id)?;
            out.push(Resolved { partition, batch });
        }
        Ok(out)
    }
}

fn opt_batch(s: Option<&str>) -> Result<Option<BatchId>> {
    s.map(BatchId::parse).transpose()
}

impl From<rusqlite::types::FromSqlError> for Error {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        Error::from(rusqlite::Error::from(e))
    }
}

// ---------------------------------------------------------------------------
// Writes: stage, record files, publish.
//
// Each is one call on the thread pool for blocking work (one hand-off
// instead of one per statement), on a write connection of its own, behind
// the catalog's writer lock, which the caller takes first and moves into
// the call: exactly the serialization of the sqlx writes. Staging and
// recording files commit with `synchronous=NORMAL`, the publish with FULL.

impl Direct {
    fn open_writer(&self, relaxed: bool) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", if relaxed { "NORMAL" } else { "FULL" })?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the relaxed
    /// (`synchronous=NORMAL`) or the durable write connection, then hands
    /// the open transaction and `f`'s result to `finish`, which commits.
    /// The caller holds the writer lock.
    fn write<T, U>(
        &self,
        relaxed: bool,
        f: impl FnOnce(&Reader<'_>) -> Result<T>,
        finish: impl FnOnce(rusqlite::Transaction<'_>, T) -> Result<U>,
    ) -> Result<U> {
        let slot = if relaxed {
            &self.relaxed
        } else {
            &self.durable
        };
        let mut slot = lock(slot);
        let conn = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(self.open_writer(relaxed)?),
        };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // On an error the transaction is dropped, which rolls it back.
        let out = f(&Reader {
            tx: &tx,
            direct: self,
        })?;
        finish(tx, out)
    }

    pub(super) fn stage(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        self.write(
            true,
            |w| {
                let t = w.live_table(ident)?;
                let now = clock.now();
                let mut ids = Vec::with_capacity(req.partitions.len());
                for values in &req.partitions {
                    let pid = w.ensure_partition(&t, values, micros(now))?;
                    if let Some(key) = &req.idempotency_key {
                        let existing: Option<String> = w
                            .tx
                            .prepare_cached(
                                "SELECT batch_id FROM batches WHERE partition_id = ?1 AND idempotency_key = ?2",
                            )?
                            .query_row((pid, key), |r| r.get(0))
                            .optional()?;
                        if let Some(id) = existing {
                            ids.push(BatchId::parse(&id)?);
                            continue;
                        }
                    }
                    let last: Option<String> = w
                        .tx
                        .prepare_cached("SELECT max(batch_id) FROM batches")?
                        .query_row([], |r| r.get(0))?;
                    let last = last.map(|s| BatchId::parse(&s)).transpose()?;
                    let id = BatchId::mint(now, last.as_ref());
                    w.tx.prepare_cached(
                        "INSERT INTO batches (batch_id, partition_id, location, state, principal, message, \
                         metadata, idempotency_key, created_at) VALUES (?1, ?2, ?3, 'staged', ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(rusqlite::params![
                        id.as_str(),
                        pid,
                        storage::batch_location(&t.table.location, values, &id),
                        &ctx.principal,
                        &req.message,
                        to_json(&req.metadata)?,
                        &req.idempotency_key,
                        micros(now),
                    ])?;
                    ids.push(id);
                }
                ids.iter().map(|id| w.load_batch(&t, id)).collect()
            },
            commit,
        )
    }

    pub(super) fn record_files(
        &self,
        ident: &TableIdent,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<Batch> {
        self.write(
            true,
            |w| {
                let t = w.live_table(ident)?;
                w.record(&t, id, files, schema)?;
                w.load_batch(&t, id)
            },
            commit,
        )
    }

    /// The publish: the files of `written` recorded first (a store's
    /// files, in the same transaction), validation, the optional schema
    /// change, one compare-and-swap and event per partition, one durable
    /// commit. `None`: the `ack_before_commit` fault handed the commit to
    /// `early` before committing it (after a delay, still holding the
    /// writer lock).
    pub(super) fn publish(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
        early: impl FnOnce(Commit),
    ) -> Result<Option<Commit>> {
        self.write(
            false,
            |w| {
                if !written.is_empty() {
                    let t = w.live_table(ident)?;
                    for f in written {
                        w.record(&t, &f.batch, &f.files, &f.schema)?;
                    }
                }
                w.publish(clock, ctx, ident, plan)
            },
            |tx, commit| {
                crate::faults::crash_point("crash_before_commit");
                if crate::faults::active("ack_before_commit") {
                    // The negative control of the crash loop: answer first,
                    // commit later.
                    early(commit);
                    std::thread::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY);
                    if let Err(e) = tx.commit() {
                        tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
                    }
                    return Ok(None);
                }
                tx.commit()?;
                Ok(Some(commit))
            },
        )
    }
}

fn commit<T>(tx: rusqlite::Transaction<'_>, out: T) -> Result<T> {
    tx.commit()?;
    Ok(out)
}

impl Reader<'_> {
    /// The partition row id for `values`, created (unpublished) if missing.
    fn ensure_partition(&self, t: &TableRow, values: &PartitionValues, now: i64) -> Result<i64> {
        let path = values.path();
        self.tx
            .prepare_cached(
                "INSERT INTO partitions (table_id, path, sort_key, version, updated_at) \
                 VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (table_id, path) DO NOTHING",
            )?
            .execute((t.id, &path, values.sort_key(&t.table.partition_keys), now))?;
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM partitions WHERE table_id = ?1 AND path = ?2")?
            .query_row((t.id, &path), |r| r.get(0))?)
    }

    /// Records files of a staged batch (see `Catalog::record_files`).
    fn record(
        &self,
        t: &TableRow,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<()> {
        let b = self.load_batch_row(t, id)?;
        if b.batch.state != BatchState::Staged {
            return Err(Error::invalid(
                "batch_not_staged",
                format!(
                    "batch {id} is {}: its files can no longer change; stage a new batch",
                    b.batch.state.as_str()
                ),
            ));
        }
        if let Some(existing) = &b.batch.schema {
            schemas_compatible(existing, schema).map_err(|e| Error::SchemaMismatch {
                message: format!("all files of a batch must share one schema: {e}"),
            })?;
        }
        for f in files {
            if !storage::is_inside(&b.batch.location, &f.path) {
                return Err(Error::invalid(
                    "file_outside_prefix",
                    format!(
                        "file {:?} is outside batch {id}'s prefix {}: write a batch's files under its own prefix only",
                        f.path, b.batch.location
                    ),
                ));
            }
            if let Some(old) = b.batch.files.iter().find(|o| o.path == f.path) {
                if old != f {
                    return Err(Error::invalid(
                        "file_changed",
                        format!(
                            "file {:?} was already recorded with another size or row count",
                            f.path
                        ),
                    ));
                }
                continue;
            }
            self.tx
                .prepare_cached(
                    "INSERT INTO batch_files (batch_pk, path, size, rows) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute((b.pk, &f.path, f.size as i64, f.rows as i64))?;
        }
        self.tx.prepare_cached(
            "UPDATE batches SET rows = (SELECT coalesce(sum(rows), 0) FROM batch_files WHERE batch_pk = ?1), \
             bytes = (SELECT coalesce(sum(size), 0) FROM batch_files WHERE batch_pk = ?1), \
             file_count = (SELECT count(*) FROM batch_files WHERE batch_pk = ?1), \
             schema = ?2, schema_fingerprint = ?3 WHERE id = ?1",
        )?
        .execute((b.pk, to_json(schema)?, fingerprint(schema)))?;
        Ok(())
    }

    fn partition_row(
        &self,
        table_id: i64,
        values: &PartitionValues,
    ) -> Result<Option<PartitionRow>> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, current_batch, version FROM partitions WHERE table_id = ?1 AND path = ?2",
        )?;
        let mut rows = st.query((table_id, values.path()))?;
        match rows.next()? {
            Some(r) => Ok(Some(PartitionRow {
                id: r.get(0)?,
                current: opt_batch(r.get_ref(1)?.as_str_or_null()?)?,
                version: r.get(2)?,
            })),
            None => Ok(None),
        }
    }

    fn publish(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        let t = self.live_table(ident)?;
        let mut batches = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let b = self.load_batch_row(&t, &item.batch)?;
            if b.batch.partition != item.partition {
                return Err(Error::invalid(
                    "batch_partition_mismatch",
                    format!(
                        "batch {} belongs to partition {}, not {}",
                        item.batch, b.batch.partition, item.partition
                    ),
                ));
            }
            batches.push(b);
        }
        // A retried publish: every batch is already committed by one commit.
        let committed = batches
            .iter()
            .filter(|b| b.batch.state == BatchState::Committed)
            .count();
        if committed == batches.len() {
            let commit_id = batches[0].commit_id.clone().unwrap_or_default();
            if batches
                .iter()
                .all(|b| b.commit_id.as_deref() == Some(commit_id.as_str()))
            {
                let mut st = self
                    .tx
                    .prepare_cached("SELECT * FROM events WHERE commit_id = ?1 ORDER BY id")?;
                let mut rows = st.query([&commit_id])?;
                let mut events = Vec::new();
                while let Some(r) = rows.next()? {
                    events.push(event_from_row(r)?);
                }
                return Ok(Commit { commit_id, events });
            }
        }
        for b in &batches {
            match b.batch.state {
                BatchState::Staged => {}
                BatchState::Committed => {
                    return Err(Error::invalid(
                        "batch_already_published",
                        format!(
                            "batch {} was already published; to make it current again use rollback --to {}",
                            b.batch.id, b.batch.id
                        ),
                    ));
                }
                BatchState::Abandoned => {
                    return Err(Error::invalid(
                        "batch_abandoned",
                        format!(
                            "batch {} was abandoned; stage and write a new batch",
                            b.batch.id
                        ),
                    ));
                }
            }
            if b.batch.files.is_empty() {
                return Err(Error::invalid(
                    "empty_batch",
                    format!(
                        "batch {} has no files: write data to it before publishing",
                        b.batch.id
                    ),
                ));
            }
        }
        if t.table.schema_version != plan.schema_version {
            return Err(Error::SchemaChanged);
        }
        let now = clock.now();
        if let Some(change) = &plan.schema_change {
            let changed = self
                .tx
                .prepare_cached(
                    "UPDATE tables SET schema = ?1, schema_version = schema_version + 1, updated_at = ?2 \
                     WHERE id = ?3 AND schema_version = ?4",
                )?
                .execute((to_json(&change.schema)?, micros(now), t.id, change.from_version))?;
            if changed != 1 {
                return Err(Error::SchemaChanged);
            }
            let mut e = NewEvent::new(ctx, Action::UpdateSchema).on_table(&t);
            e.details = Some(serde_json::json!({
                "added_columns": change.added,
                "schema_version": change.from_version + 1,
                "schema_fingerprint": fingerprint(&change.schema),
            }));
            self.insert_event(now, e)?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let mut events = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = self
                .partition_row(t.id, &item.partition)?
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            if let Some(expect) = &item.expect {
                let ok = match expect {
                    Expect::Empty => p.current.is_none(),
                    Expect::Batch(e) => p.current.as_ref() == Some(e),
                };
                if !ok {
                    return Err(super::writes::conflict(
                        &t,
                        &item.partition,
                        expect,
                        p.current.as_ref(),
                    ));
                }
            }
            let mut e = NewEvent::new(ctx, Action::Publish).on_table(&t);
            e.partition_id = Some(p.id);
            e.partition = Some(item.partition.path());
            e.from = p.current.as_ref();
            e.to = Some(&b.batch.id);
            e.commit_id = Some(&commit_id);
            e.message = plan.message.as_deref().or(b.batch.message.as_deref());
            e.batch = Some(&b.batch);
            let event = self.insert_event(now, e)?;
            // The compare-and-swap of the pointer: exactly one row must change.
            let updated = self
                .tx
                .prepare_cached(
                    "UPDATE partitions SET current_batch = ?1, version = version + 1, updated_at = ?2 \
                     WHERE id = ?3 AND version = ?4",
                )?
                .execute((b.batch.id.as_str(), micros(event.at), p.id, p.version))?;
            if updated != 1 {
                let current: Option<String> = self
                    .tx
                    .prepare_cached("SELECT current_batch FROM partitions WHERE id = ?1")?
                    .query_row([p.id], |r| r.get(0))?;
                return Err(Error::Conflict {
                    message: format!(
                        "conflict on {} {}: another writer moved the pointer first; hint: retry",
                        t.table.ident, item.partition
                    ),
                    current: current.map(|c| BatchId::parse(&c)).transpose()?,
                });
            }
            self.tx
                .prepare_cached(
                    "UPDATE batches SET state = 'committed', parent_batch = ?1, committed_at = ?2, commit_id = ?3 \
                     WHERE id = ?4 AND state = 'staged'",
                )?
                .execute((
                    p.current.as_ref().map(BatchId::as_str),
                    micros(event.at),
                    &commit_id,
                    b.pk,
                ))?;
            events.push(event);
        }
        Ok(Commit { commit_id, events })
    }

    /// Appends an event. Its time is the clock's, but never earlier than the
    /// previous event's, so event time never decreases along ids (as-of relies on it).
    fn insert_event(&self, now: DateTime<Utc>, e: NewEvent<'_>) -> Result<Event> {
        let last: Option<i64> = self
            .tx
            .prepare_cached("SELECT max(at) FROM events")?
            .query_row([], |r| r.get(0))?;
        let at = micros(now).max(last.unwrap_or(i64::MIN));
        let empty = Properties::new();
        let metadata = e.batch.map(|b| &b.metadata).unwrap_or(&empty);
        let mut st = self.tx.prepare_cached(
            "INSERT INTO events (at, principal, action, namespace, table_name, table_id, partition_id, \
             partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
             metadata, request_id, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING *",
        )?;
        let mut rows = st.query(rusqlite::params![
            at,
            &e.ctx.principal,
            e.action.as_str(),
            e.namespace,
            e.table,
            e.table_id,
            e.partition_id,
            e.partition.as_deref(),
            e.from.map(BatchId::as_str),
            e.to.map(BatchId::as_str),
            e.commit_id,
            e.message,
            e.batch.map(|b| b.rows as i64),
            e.batch.map(|b| b.bytes as i64),
            e.batch.map(|b| b.files.len() as i64),
            e.batch.and_then(|b| b.schema_fingerprint.as_deref()),
            to_json(metadata)?,
            e.ctx.request_id.as_deref(),
            e.details.as_ref().map(to_json).transpose()?,
        ])?;
        let row = rows
            .next()?
            .ok_or_else(|| Error::Internal("INSERT ... RETURNING returned no row".into()))?;
        event_from_row(row)
    }
}

fn event_from_row(row: &Row<'_>) -> Result<Event> {
    let action: String = row.get("action")?;
    let details: Option<String> = row.get("details")?;
    Ok(Event {
        id: row.get("id")?,
        at: time(row.get("at")?),
        principal: row.get("principal")?,
        action: Action::parse(&action)?,
        namespace: row.get("namespace")?,
        table: row.get("table_name")?,
        partition: row.get("partition")?,
        from_batch: opt_batch(row.get_ref("from_batch")?.as_str_or_null()?)?,
        to_batch: opt_batch(row.get_ref("to_batch")?.as_str_or_null()?)?,
        commit_id: row.get("commit_id")?,
        message: row.get("message")?,
        rows: row.get::<_, Option<i64>>("rows")?.map(|v| v as u64),
        bytes: row.get::<_, Option<i64>>("bytes")?.map(|v| v as u64),
        files: row.get::<_, Option<i64>>("files")?.map(|v| v as u64),
        schema_fingerprint: row.get("schema_fingerprint")?,
        metadata: from_json(row.get_ref("metadata")?.as_str()?)?,
        request_id: row.get("request_id")?,
        details: details.map(|d| from_json(&d)).transpose()?,
    })
}
