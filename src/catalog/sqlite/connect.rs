//! The catalog file's connections, run on the calling thread: idle read
//! connections, two write connections, and the parsed-schema cache.
//!
//! Every statement is a cached prepared statement on a plain SQLite
//! connection, with no hand-off to another thread: a resolve of one
//! partition is one short read transaction of a handful of index searches.
//! Running inline on an async worker is sound for reads because they are
//! WAL reads: a reader never waits for a writer (the busy timeout only
//! covers the rare wait while another process recovers the WAL). Writes run
//! behind the catalog's writer lock (see `SqliteCatalog::write`), each in a
//! `BEGIN IMMEDIATE` transaction (a deferred `BEGIN` fails with SQLITE_BUSY
//! under contention instead of waiting).
//!
//! Parsed Arrow schemas are cached by their stored JSON text: the text is
//! compared in full, so an entry can never be stale, and a resolve no longer
//! parses the table's and the batch's schemas on every call.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arrow_schema::Schema;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::statements as sql;
use crate::catalog::row::from_json;
use crate::error::{Error, Result};

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full list.
const MAX_IDLE: usize = 8;
/// Parsed schemas kept; the cache starts over when it is full.
const MAX_SCHEMAS: usize = 1024;

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

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::from(sqlx::Error::AnyDriverError(Box::new(e)))
    }
}

impl From<rusqlite::types::FromSqlError> for Error {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        Error::from(rusqlite::Error::from(e))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How durable a write's commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// `synchronous=NORMAL`: staging and recording files, which the
    /// publish's commit then makes durable (a store costs one WAL fsync
    /// instead of three).
    Normal,
    /// `synchronous=FULL`: everything else.
    Full,
}

/// The connections to one catalog file, and the schema cache.
pub(super) struct Conns {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    schemas: Mutex<HashMap<String, Schema>>,
    /// The write connections, opened on first use; only ever used behind
    /// the catalog's writer lock.
    normal: Mutex<Option<Connection>>,
    full: Mutex<Option<Connection>>,
}

impl fmt::Debug for Conns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conns")
            .field("path", &self.path)
            .field("idle", &lock(&self.idle).len())
            .finish_non_exhaustive()
    }
}

/// One transaction (a read, or a write behind the writer lock).
pub(super) struct Tx<'a> {
    pub(super) conn: &'a Connection,
    pub(super) conns: &'a Conns,
}

impl Conns {
    /// The connection set of the file at `path`; creates the file (in WAL
    /// mode) if it does not exist.
    pub(super) fn open(path: &Path) -> Result<Self> {
        let conns = Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            schemas: Mutex::new(HashMap::new()),
            normal: Mutex::new(None),
            full: Mutex::new(None),
        };
        *lock(&conns.full) = Some(conns.open_writer(Durability::Full, true)?);
        Ok(conns)
    }

    fn open_reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout())?;
        // Readers only: a bug here must not be able to write.
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    fn open_writer(&self, sync: Durability, create: bool) -> Result<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(busy_timeout())?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        let level = match sync {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", level)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs `f` in one read transaction (one consistent WAL snapshot).
    pub(super) fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let popped = lock(&self.idle).pop();
        let conn = match popped {
            Some(c) => c,
            None => self.open_reader()?,
        };
        // BEGIN and COMMIT as cached statements: `Connection::transaction`
        // parses them again on every call.
        let run = |statement: &str| conn.prepare_cached(statement)?.execute([]).map(|_| ());
        run(sql::BEGIN)?;
        let out = f(&Tx {
            conn: &conn,
            conns: self,
        });
        let ended = match &out {
            Ok(_) => run(sql::COMMIT),
            Err(_) => run(sql::ROLLBACK),
        };
        match ended {
            Ok(()) => {
                let mut idle = lock(&self.idle);
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
            }
            // A connection whose transaction did not end is not reused.
            Err(e) if out.is_ok() => return Err(e.into()),
            Err(_) => {}
        }
        out
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on the write connection
    /// of `sync`, then hands the open transaction and `f`'s result to
    /// `finish`, which commits. The caller holds the writer lock.
    pub(super) fn write<T, U>(
        &self,
        sync: Durability,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
        finish: impl FnOnce(rusqlite::Transaction<'_>, T) -> Result<U>,
    ) -> Result<U> {
        let slot = match sync {
            Durability::Normal => &self.normal,
            Durability::Full => &self.full,
        };
        let mut slot = lock(slot);
        let run = || {
            let conn = match slot.as_mut() {
                Some(c) => c,
                None => slot.insert(self.open_writer(sync, false)?),
            };
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // On an error the transaction is dropped, which rolls it back.
            let out = f(&Tx {
                conn: &tx,
                conns: self,
            })?;
            finish(tx, out)
        };
        // A full or read-only disk names the catalog file.
        run().map_err(|e| crate::unavailable::at_catalog_file(e, &self.path))
    }

    /// Drops the idle and write connections.
    pub(super) fn close(&self) {
        lock(&self.idle).clear();
        lock(&self.normal).take();
        lock(&self.full).take();
    }

    /// The schema stored as `json`, parsed once.
    pub(super) fn schema(&self, json: &str) -> Result<Schema> {
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
}

/// Commits a write.
pub(super) fn commit<T>(tx: rusqlite::Transaction<'_>, out: T) -> Result<T> {
    tx.commit()?;
    Ok(out)
}

/// Commits, or under the `ack_before_commit` fault (the crash loop's
/// negative control) hands `out` to `early`, waits, and commits late:
/// `None`.
pub(super) fn commit_or_ack_early<T>(
    tx: rusqlite::Transaction<'_>,
    out: T,
    early: impl FnOnce(T),
) -> Result<Option<T>> {
    if crate::faults::active("ack_before_commit") {
        early(out);
        std::thread::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY);
        if let Err(e) = tx.commit() {
            tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
        }
        return Ok(None);
    }
    tx.commit()?;
    Ok(Some(out))
}
