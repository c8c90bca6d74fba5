//! The hot catalog paths on plain SQLite connections, run on the calling
//! thread: reads (resolve, get a table, get a batch) in `reads`, writes
//! (stage, record files, publish, roll back) in `writes`.
//!
//! sqlx runs each SQLite connection on a worker thread of its own, and
//! every statement (`BEGIN` and `COMMIT` included) is a channel round trip:
//! two thread switches. A resolve of one partition through the metastore
//! made about nine of them, and the switches cost more than SQLite's own
//! index searches. Here the same resolve is one short read transaction of
//! cached prepared statements on a connection taken from a small idle list,
//! with no hand-off at all.
//!
//! Running inline on an async worker is sound for reads because they are
//! WAL reads: a reader never waits for a writer (the busy timeout only
//! covers the rare wait while another process recovers the WAL), and each
//! read is a handful of index searches. Writes run behind the catalog's
//! writer lock, on a write connection of their own (see `writes`).
//!
//! Parsed Arrow schemas are cached by their stored JSON text: the text is
//! compared in full, so an entry can never be stale, and a resolve no longer
//! parses the table's and the batch's schemas on every call.

mod pages;
mod reads;
mod writes;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use arrow_schema::Schema;
use rusqlite::{Connection, OpenFlags};

use super::busy_timeout;
use super::rows::from_json;
use crate::error::{Error, Result};
use crate::model::BatchId;

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full list.
const MAX_IDLE: usize = 8;
/// Parsed schemas kept; the cache starts over when it is full.
const MAX_SCHEMAS: usize = 1024;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::from(sqlx::Error::AnyDriverError(Box::new(e)))
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

    pub(super) fn open(&self) -> Result<Connection> {
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

    /// Runs `f` in one read transaction (one consistent WAL snapshot).
    pub(super) fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        let popped = lock(&self.idle).pop();
        let conn = match popped {
            Some(c) => c,
            None => self.open()?,
        };
        // BEGIN and COMMIT as cached statements: `Connection::transaction`
        // parses them again on every call.
        let run = |sql: &str| conn.prepare_cached(sql)?.execute([]).map(|_| ());
        run("BEGIN")?;
        let out = f(&Reader {
            tx: &conn,
            direct: self,
        });
        let ended = match &out {
            Ok(_) => run("COMMIT"),
            Err(_) => run("ROLLBACK"),
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

    /// Drops the idle connections.
    pub(super) fn close(&self) {
        lock(&self.idle).clear();
        lock(&self.relaxed).take();
        lock(&self.durable).take();
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

/// One transaction (a read, or a write behind the writer lock).
pub(super) struct Reader<'a> {
    tx: &'a Connection,
    direct: &'a Direct,
}

fn opt_batch(s: Option<&str>) -> Result<Option<BatchId>> {
    s.map(BatchId::parse).transpose()
}

impl From<rusqlite::types::FromSqlError> for Error {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        Error::from(rusqlite::Error::from(e))
    }
}

// Write connections: `synchronous=NORMAL` for staging and recording files,
// FULL for the publish; only ever used behind the catalog's writer lock.

impl Direct {
    pub(super) fn open_writer(&self, relaxed: bool) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout())?;
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
    pub(super) fn write<T, U>(
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
        let run = || {
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
        };
        // A full or read-only disk names the catalog file.
        run().map_err(|e| crate::unavailable::at_catalog_file(e, &self.path))
    }

    /// The catalog file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}
