//! Reading PostgreSQL rows (for the shared decoders of `catalog::row`), row
//! locks and the lookups every operation shares.
//!
//! Lock order, the same in every write transaction so that two writers
//! never wait on each other in a cycle: the table row, then partition rows
//! (by id), then batch rows (by id), then the sequence lock (last, held to
//! commit). The sequence lock serializes what must be global: minting batch
//! IDs and appending events.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::row::{self, BatchRow, Columns, NewEvent, PartitionRow, TableRow};
use crate::error::Result;
use crate::model::{Batch, BatchId, DataFile, Event, NamespaceName, PartitionValues, TableIdent};

impl Columns for PgRow {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<&str> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.try_get(i)?)
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>> {
        Ok(self.try_get(i)?)
    }
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(i)?)
    }
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T> {
        row::from_json_value(self.try_get(i)?)
    }
    fn opt_json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>> {
        let v: Option<serde_json::Value> = self.try_get(i)?;
        v.map(row::from_json_value).transpose()
    }
}

/// The advisory lock that serializes batch-ID minting and event appends
/// ("batchseq" in ASCII). Held until the transaction ends.
const SEQUENCE_LOCK: i64 = 0x6261_7463_6873_6571;

/// Takes the sequence lock for the rest of the transaction. Re-entrant.
/// Whoever holds it sees every earlier minted ID and appended event, so IDs
/// strictly increase and event ids become visible in order.
pub(super) async fn sequence_lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query(sql::ADVISORY_LOCK)
        .bind(SEQUENCE_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A caller's time as a query bound. `timestamptz` starts in 4713 BC, far
/// earlier than any event, so clamping earlier times there changes no
/// answer (SQLite takes them as they are).
pub(super) fn query_time(t: DateTime<Utc>) -> DateTime<Utc> {
    match chrono::NaiveDate::from_ymd_opt(-4000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)) {
        Some(earliest) => t.max(earliest.and_utc()),
        None => t,
    }
}

/// A value as a `jsonb` parameter.
pub(super) fn jsonb<T: serde::Serialize>(v: &T) -> Json<&T> {
    Json(v)
}

/// The row lock a read of the table row takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TableLock {
    /// Reads in a snapshot; no lock.
    None,
    /// Keeps the table from being dropped or its schema changed meanwhile.
    Share,
    /// Before changing the table row itself.
    Update,
}

/// The live table `ident`, or a not-found error that says which part is missing.
pub(super) async fn live_table(
    conn: &mut PgConnection,
    ident: &TableIdent,
    lock: TableLock,
) -> Result<TableRow> {
    let statement = match lock {
        TableLock::None => sql::LIVE_TABLE,
        TableLock::Share => sql::LIVE_TABLE_FOR_SHARE,
        TableLock::Update => sql::LIVE_TABLE_FOR_UPDATE,
    };
    let found = sqlx::query(statement)
        .bind(ident.namespace.as_str())
        .bind(ident.name.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some(r) => row::table(&r),
        None => {
            namespace_id(conn, &ident.namespace).await?;
            Err(errors::table_not_found(ident))
        }
    }
}

/// A table by row id, dropped or not (verify covers dropped tables too).
pub(super) async fn table_by_id(conn: &mut PgConnection, id: i64) -> Result<TableRow> {
    let r = sqlx::query(sql::TABLE_BY_ID)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    row::table(&r)
}

/// The row id of a namespace.
pub(super) async fn namespace_id(conn: &mut PgConnection, name: &NamespaceName) -> Result<i64> {
    let id = sqlx::query_scalar(sql::NAMESPACE_ID)
        .bind(name.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(id) => Ok(id),
        None => {
            // The error names a close existing namespace (`slaes`: `sales`).
            let names: Vec<String> = sqlx::query_scalar(sql::NAMESPACE_NAMES)
                .fetch_all(&mut *conn)
                .await?;
            Err(crate::model::missing_namespace(name, &names))
        }
    }
}

/// The partition row for `values`; with `lock`, locked against other
/// pointer moves until the transaction ends (and read after any that
/// committed meanwhile).
pub(super) async fn find_partition(
    conn: &mut PgConnection,
    table_id: i64,
    values: &PartitionValues,
    lock: bool,
) -> Result<Option<PartitionRow>> {
    let statement = if lock {
        sql::PARTITION_FOR_UPDATE
    } else {
        sql::PARTITION
    };
    let found = sqlx::query(statement)
        .bind(table_id)
        .bind(values.path())
        .fetch_optional(&mut *conn)
        .await?;
    found.as_ref().map(row::partition).transpose()
}

/// Locks partition rows for a pointer move, in id order, and returns them.
pub(super) async fn lock_partitions(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<PartitionRow>> {
    let statement = if crate::faults::active("read_then_update_publish") {
        sql::READ_PARTITIONS_UNLOCKED
    } else {
        sql::LOCK_PARTITIONS
    };
    let rows = sqlx::query(statement)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row::partition).collect()
}

/// The published partition `values` and its current batch, or a not-found error.
pub(super) async fn published_partition(
    conn: &mut PgConnection,
    t: &TableRow,
    values: &PartitionValues,
    lock: bool,
) -> Result<(PartitionRow, BatchId)> {
    match find_partition(conn, t.id, values, lock).await? {
        Some(p) => match p.current.clone() {
            Some(c) => Ok((p, c)),
            None => Err(errors::never_published(&t.table.ident, values)),
        },
        None => Err(errors::never_published(&t.table.ident, values)),
    }
}

pub(super) async fn load_files(conn: &mut PgConnection, batch_pk: i64) -> Result<Vec<DataFile>> {
    let rows = sqlx::query(sql::FILES)
        .bind(batch_pk)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row::file).collect()
}

/// A batch row with its files.
pub(super) async fn with_files(
    conn: &mut PgConnection,
    r: &PgRow,
    t: &TableRow,
) -> Result<BatchRow> {
    let mut b = row::batch(r, t)?;
    b.batch.files = load_files(conn, b.pk).await?;
    Ok(b)
}

/// A batch of table `t` with its files, staged or committed.
pub(super) async fn load_batch_row(
    conn: &mut PgConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<BatchRow> {
    let mut b = find_batch_row(conn, t, id).await?;
    b.batch.files = load_files(conn, b.pk).await?;
    Ok(b)
}

/// A batch row of table `t` without its files (`batch.files` is empty):
/// where a batch is, for locking it before reading it whole.
pub(super) async fn find_batch_row(
    conn: &mut PgConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<BatchRow> {
    let r = sqlx::query(sql::BATCH)
        .bind(id.as_str())
        .bind(t.id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| errors::batch_not_found(&t.table.ident, id))?;
    row::batch(&r, t)
}

pub(super) async fn load_batch(
    conn: &mut PgConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<Batch> {
    Ok(load_batch_row(conn, t, id).await?.batch)
}

/// Locks batch rows against concurrent writes, publishes and discards, in id order.
pub(super) async fn lock_batches(conn: &mut PgConnection, pks: &[i64]) -> Result<()> {
    sqlx::query(sql::LOCK_BATCHES)
        .bind(pks)
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// Appends an event under the sequence lock (see [`row::event_time`]).
pub(super) async fn insert_event(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    e: NewEvent<'_>,
) -> Result<Event> {
    sequence_lock(conn).await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(sql::LAST_EVENT_TIME)
        .fetch_one(&mut *conn)
        .await?;
    let (rows, bytes, files) = e.totals();
    let r = sqlx::query(sql::INSERT_EVENT)
        .bind(row::event_time(now, last))
        .bind(&e.ctx.principal)
        .bind(e.action.as_str())
        .bind(e.namespace)
        .bind(e.table)
        .bind(e.table_id)
        .bind(e.partition_id)
        .bind(e.partition.as_deref())
        .bind(e.from.map(BatchId::as_str))
        .bind(e.to.map(BatchId::as_str))
        .bind(e.commit_id)
        .bind(e.message)
        .bind(rows)
        .bind(bytes)
        .bind(files)
        .bind(e.batch.and_then(|b| b.schema_fingerprint.as_deref()))
        .bind(jsonb(e.metadata()))
        .bind(e.ctx.request_id.as_deref())
        .bind(e.details.as_ref())
        .fetch_one(&mut *conn)
        .await?;
    row::event(&r)
}
