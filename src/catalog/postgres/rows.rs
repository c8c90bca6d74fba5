//! Reading PostgreSQL rows (for the shared decoders of `catalog::row`), row
//! locks and the lookups every operation shares.
//!
//! Lock order, the same in every write transaction so that two writers
//! never wait on each other in a cycle: the table row, then partition rows
//! (by id), then batch rows (by id), then the sequence lock (last, held to
//! commit). The sequence lock serializes what must be global: minting batch
//! IDs and appending events.

use std::collections::HashMap;

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
    Ok(files_of(conn, &[batch_pk])
        .await?
        .remove(&batch_pk)
        .unwrap_or_default())
}

/// The files of batches (by row id), each batch's in path order, in one
/// round trip; a batch without files is absent.
async fn files_of(conn: &mut PgConnection, pks: &[i64]) -> Result<HashMap<i64, Vec<DataFile>>> {
    let rows = match pks {
        [one] => sqlx::query(sql::FILES_OF_ONE).bind(one),
        _ => sqlx::query(sql::FILES).bind(pks),
    }
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<i64, Vec<DataFile>> = HashMap::new();
    for r in &rows {
        // The batch's row id follows the file columns.
        let pk: i64 = r.try_get(FILE_COLUMNS)?;
        out.entry(pk).or_default().push(row::file(r)?);
    }
    Ok(out)
}

/// How many columns `file_columns!` names.
const FILE_COLUMNS: usize = 3;

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
    one(load_batch_rows(conn, t, std::slice::from_ref(id)).await?)
}

/// Batches of table `t` with their files, in the order of `ids`, in two
/// round trips; the first missing one is `batch_not_found`.
pub(super) async fn load_batch_rows(
    conn: &mut PgConnection,
    t: &TableRow,
    ids: &[BatchId],
) -> Result<Vec<BatchRow>> {
    let mut found = find_batch_rows(conn, t, ids).await?;
    let pks: Vec<i64> = found.iter().map(|b| b.pk).collect();
    let files = files_of(conn, &pks).await?;
    // `get`, not `remove`: a batch named twice (one partition given twice
    // to a stage with an idempotency key) gets its files both times.
    for b in &mut found {
        b.batch.files = files.get(&b.pk).cloned().unwrap_or_default();
    }
    Ok(found)
}

/// Batch rows of table `t` without their files (`batch.files` is empty),
/// in one round trip, in the order of `ids`: where batches are, for locking
/// them before reading them whole. The first missing one is `batch_not_found`.
pub(super) async fn find_batch_rows(
    conn: &mut PgConnection,
    t: &TableRow,
    ids: &[BatchId],
) -> Result<Vec<BatchRow>> {
    let keys: Vec<&str> = ids.iter().map(BatchId::as_str).collect();
    let rows = match keys.as_slice() {
        [one] => sqlx::query(sql::BATCH).bind(*one),
        _ => sqlx::query(sql::BATCHES).bind(&keys),
    }
    .bind(t.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_id = HashMap::with_capacity(rows.len());
    for r in &rows {
        let b = row::batch(r, t)?;
        by_id.insert(b.batch.id.clone(), b);
    }
    ids.iter()
        .map(|id| {
            by_id
                .get(id)
                .cloned()
                .ok_or_else(|| errors::batch_not_found(&t.table.ident, id))
        })
        .collect()
}

/// The one row a one-key lookup returns.
pub(super) fn one<T>(mut rows: Vec<T>) -> Result<T> {
    match (rows.pop(), rows.is_empty()) {
        (Some(r), true) => Ok(r),
        _ => Err(crate::error::Error::Internal(
            "a one-row lookup returned another count".into(),
        )),
    }
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
    one(insert_events(conn, now, &[e]).await?)
}

/// One text column of `events`, as an array parameter.
fn text_column<'x, 'e: 'x>(
    events: &'x [NewEvent<'e>],
    f: fn(&'x NewEvent<'e>) -> Option<&'x str>,
) -> Vec<Option<&'x str>> {
    events.iter().map(f).collect()
}

/// Appends events under the sequence lock, in one round trip after the
/// lock: all at one time (see [`row::event_time`]), ids increasing in the
/// order given, returned in that order.
pub(super) async fn insert_events(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    events: &[NewEvent<'_>],
) -> Result<Vec<Event>> {
    sequence_lock(conn).await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(sql::LAST_EVENT_TIME)
        .fetch_one(&mut *conn)
        .await?;
    let totals: Vec<_> = events.iter().map(NewEvent::totals).collect();
    let column = |f| text_column(events, f);
    let statement = match events.len() {
        1 => sql::INSERT_EVENT,
        _ => sql::INSERT_EVENTS,
    };
    let rs = sqlx::query(statement)
        .bind(row::event_time(now, last))
        .bind(column(|e| Some(e.ctx.principal.as_str())))
        .bind(column(|e| Some(e.action.as_str())))
        .bind(column(|e| e.namespace))
        .bind(column(|e| e.table))
        .bind(events.iter().map(|e| e.table_id).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.partition_id).collect::<Vec<_>>())
        .bind(column(|e| e.partition.as_deref()))
        .bind(column(|e| e.from.map(BatchId::as_str)))
        .bind(column(|e| e.to.map(BatchId::as_str)))
        .bind(column(|e| e.commit_id))
        .bind(column(|e| e.message))
        .bind(totals.iter().map(|t| t.0).collect::<Vec<_>>())
        .bind(totals.iter().map(|t| t.1).collect::<Vec<_>>())
        .bind(totals.iter().map(|t| t.2).collect::<Vec<_>>())
        .bind(column(|e| {
            e.batch.and_then(|b| b.schema_fingerprint.as_deref())
        }))
        .bind(
            events
                .iter()
                .map(|e| jsonb(e.metadata()))
                .collect::<Vec<_>>(),
        )
        .bind(column(|e| e.ctx.request_id.as_deref()))
        .bind(
            events
                .iter()
                .map(|e| e.details.as_ref())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *conn)
        .await?;
    let mut out = rs.iter().map(row::event).collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|e| e.id);
    if out.len() != events.len() {
        return Err(crate::error::Error::Internal(format!(
            "appended {} events of {}",
            out.len(),
            events.len()
        )));
    }
    Ok(out)
}
