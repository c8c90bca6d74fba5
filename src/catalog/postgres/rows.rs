//! Row conversions, row locks and the lookups every operation shares.
//!
//! Lock order, the same in every write transaction so that two writers
//! never wait on each other in a cycle: the table row, then partition rows
//! (by id), then batch rows (by id), then the sequence lock (last, held to
//! commit). The sequence lock serializes what must be global: minting batch
//! IDs and appending events.

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

use crate::error::{Code, Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Context, DataFile, Event, NamespaceName, PartitionKey,
    PartitionValues, Properties, Table, TableIdent, TableName,
};

/// The advisory lock that serializes batch-ID minting and event appends
/// ("batchseq" in ASCII). Held until the transaction ends.
const SEQUENCE_LOCK: i64 = 0x6261_7463_6873_6571;

/// Takes the sequence lock for the rest of the transaction. Re-entrant.
/// Whoever holds it sees every earlier minted ID and appended event, so IDs
/// strictly increase and event ids become visible in order.
pub(super) async fn sequence_lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEQUENCE_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `t` truncated to microseconds, the precision of `timestamptz`.
pub(super) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
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
pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Json<&T> {
    Json(v)
}

/// A `jsonb` column decoded into `T`.
pub(super) fn json_col<T: serde::de::DeserializeOwned>(row: &PgRow, col: &str) -> Result<T> {
    let v: Value = row.try_get(col)?;
    serde_json::from_value(v)
        .map_err(|e| Error::Internal(format!("corrupt json in catalog column {col}: {e}")))
}

/// A nullable `jsonb` column decoded into `T`.
pub(super) fn opt_json_col<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    col: &str,
) -> Result<Option<T>> {
    let v: Option<Value> = row.try_get(col)?;
    v.map(|v| {
        serde_json::from_value(v)
            .map_err(|e| Error::Internal(format!("corrupt json in catalog column {col}: {e}")))
    })
    .transpose()
}

pub(super) fn opt_batch(s: Option<String>) -> Result<Option<BatchId>> {
    s.map(|s| BatchId::parse(&s)).transpose()
}

/// Non-negative counts are stored as `bigint`.
pub(super) fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
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

impl TableLock {
    fn clause(self) -> &'static str {
        match self {
            TableLock::None => "",
            TableLock::Share => " FOR SHARE OF t",
            TableLock::Update => " FOR NO KEY UPDATE OF t",
        }
    }
}

/// A live table and its row id.
#[derive(Debug, Clone)]
pub(super) struct TableRow {
    pub(super) id: i64,
    pub(super) table: Table,
}

pub(super) const TABLE_COLUMNS: &str = "t.id, n.name AS ns, t.name, t.location, t.schema, \
    t.schema_version, t.partition_keys, t.description, t.owner, t.properties, t.created_at, t.updated_at";

pub(super) fn table_from_row(row: &PgRow) -> Result<TableRow> {
    let ns: String = row.try_get("ns")?;
    let name: String = row.try_get("name")?;
    let schema: Schema = json_col(row, "schema")?;
    let keys: Vec<PartitionKey> = json_col(row, "partition_keys")?;
    Ok(TableRow {
        id: row.try_get("id")?,
        table: Table {
            ident: TableIdent {
                namespace: NamespaceName::new(ns)?,
                name: TableName::new(name)?,
            },
            schema,
            schema_version: row.try_get("schema_version")?,
            partition_keys: keys,
            location: row.try_get("location")?,
            description: row.try_get("description")?,
            owner: row.try_get("owner")?,
            properties: json_col(row, "properties")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    })
}

/// The live table `ident`, or a not-found error that says which part is missing.
pub(super) async fn live_table(
    conn: &mut PgConnection,
    ident: &TableIdent,
    lock: TableLock,
) -> Result<TableRow> {
    let sql = format!(
        "SELECT {TABLE_COLUMNS} FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
         WHERE n.name = $1 AND t.name = $2 AND t.dropped_at IS NULL{}",
        lock.clause()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(ident.namespace.as_str())
        .bind(ident.name.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => table_from_row(&r),
        None => {
            namespace_id(conn, &ident.namespace).await?;
            Err(crate::catalog::rules::table_not_found(ident))
        }
    }
}

/// The row id of a namespace.
pub(super) async fn namespace_id(conn: &mut PgConnection, name: &NamespaceName) -> Result<i64> {
    let id = sqlx::query_scalar("SELECT id FROM namespaces WHERE name = $1")
        .bind(name.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(id) => Ok(id),
        None => {
            // The error names a close existing namespace (`slaes`: `sales`).
            let names: Vec<String> = sqlx::query_scalar("SELECT name FROM namespaces")
                .fetch_all(&mut *conn)
                .await?;
            Err(crate::model::missing_namespace(name, &names))
        }
    }
}

/// A partition row.
#[derive(Debug, Clone)]
pub(super) struct PartitionRow {
    pub(super) id: i64,
    pub(super) current: Option<BatchId>,
    pub(super) version: i64,
}

fn partition_from_row(r: &PgRow) -> Result<PartitionRow> {
    Ok(PartitionRow {
        id: r.try_get("id")?,
        current: opt_batch(r.try_get("current_batch")?)?,
        version: r.try_get("version")?,
    })
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
    let sql = if lock {
        "SELECT id, current_batch, version FROM partitions WHERE table_id = $1 AND path = $2 \
         FOR NO KEY UPDATE"
    } else {
        "SELECT id, current_batch, version FROM partitions WHERE table_id = $1 AND path = $2"
    };
    let row = sqlx::query(sql)
        .bind(table_id)
        .bind(values.path())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(partition_from_row).transpose()
}

/// Locks partition rows for a pointer move, in id order, and returns them.
pub(super) async fn lock_partitions(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<PartitionRow>> {
    let sql = if crate::faults::active("read_then_update_publish") {
        // The negative control: a read that takes no lock.
        "SELECT id, current_batch, version FROM partitions WHERE id = ANY($1) ORDER BY id"
    } else {
        "SELECT id, current_batch, version FROM partitions WHERE id = ANY($1) \
         ORDER BY id FOR NO KEY UPDATE"
    };
    let rows = sqlx::query(sql).bind(ids).fetch_all(&mut *conn).await?;
    rows.iter().map(partition_from_row).collect()
}

/// The published partition `values`, or a not-found error.
pub(super) async fn published_partition(
    conn: &mut PgConnection,
    t: &TableRow,
    values: &PartitionValues,
    lock: bool,
) -> Result<(PartitionRow, BatchId)> {
    match find_partition(conn, t.id, values, lock).await? {
        Some(p) => match p.current.clone() {
            Some(c) => Ok((p, c)),
            None => Err(never_published(t, values)),
        },
        None => Err(never_published(t, values)),
    }
}

pub(super) fn never_published(t: &TableRow, values: &PartitionValues) -> Error {
    crate::catalog::rules::never_published(&t.table.ident, values)
}

pub(super) const BATCH_COLUMNS: &str = "b.id, b.batch_id, b.partition_id, p.path, b.location, \
    b.state, b.parent_batch, b.rows, b.bytes, b.schema, b.schema_fingerprint, b.principal, \
    b.message, b.metadata, b.idempotency_key, b.created_at, b.committed_at, b.commit_id";

/// A batch row before its files are attached.
pub(super) struct BatchRow {
    pub(super) pk: i64,
    pub(super) partition_id: i64,
    pub(super) commit_id: Option<String>,
    pub(super) batch: Batch,
}

pub(super) fn batch_from_row(row: &PgRow, t: &TableRow) -> Result<BatchRow> {
    let state: String = row.try_get("state")?;
    Ok(BatchRow {
        pk: row.try_get("id")?,
        partition_id: row.try_get("partition_id")?,
        commit_id: row.try_get("commit_id")?,
        batch: Batch {
            id: BatchId::parse(&row.try_get::<String, _>("batch_id")?)?,
            table: t.table.ident.clone(),
            partition: PartitionValues::from_stored(
                &t.table.partition_keys,
                &row.try_get::<String, _>("path")?,
            )?,
            location: row.try_get("location")?,
            state: BatchState::parse(&state)
                .ok_or_else(|| Error::Internal(format!("unknown batch state {state:?}")))?,
            parent: opt_batch(row.try_get("parent_batch")?)?,
            files: Vec::new(),
            rows: count(row.try_get("rows")?),
            bytes: count(row.try_get("bytes")?),
            schema: opt_json_col(row, "schema")?,
            schema_fingerprint: row.try_get("schema_fingerprint")?,
            principal: row.try_get("principal")?,
            message: row.try_get("message")?,
            metadata: json_col(row, "metadata")?,
            idempotency_key: row.try_get("idempotency_key")?,
            created_at: row.try_get("created_at")?,
            committed_at: row.try_get("committed_at")?,
        },
    })
}

pub(super) async fn load_files(conn: &mut PgConnection, batch_pk: i64) -> Result<Vec<DataFile>> {
    let rows =
        sqlx::query("SELECT path, size, rows FROM batch_files WHERE batch_pk = $1 ORDER BY path")
            .bind(batch_pk)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(DataFile {
                path: r.try_get("path")?,
                size: count(r.try_get("size")?),
                rows: count(r.try_get("rows")?),
            })
        })
        .collect()
}

/// A batch of table `t` with its files, staged or committed.
pub(super) async fn load_batch_row(
    conn: &mut PgConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<BatchRow> {
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
         WHERE b.batch_id = $1 AND p.table_id = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .bind(t.id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| crate::catalog::rules::batch_not_found(&t.table.ident, id))?;
    let mut b = batch_from_row(&row, t)?;
    b.batch.files = load_files(conn, b.pk).await?;
    Ok(b)
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
    sqlx::query("SELECT id FROM batches WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(pks)
        .fetch_all(&mut *conn)
        .await?;
    Ok(())
}

/// An event about to be appended.
#[derive(Debug)]
pub(super) struct NewEvent<'a> {
    pub(super) ctx: &'a Context,
    pub(super) action: Action,
    pub(super) namespace: Option<&'a str>,
    pub(super) table: Option<&'a str>,
    pub(super) table_id: Option<i64>,
    pub(super) partition_id: Option<i64>,
    pub(super) partition: Option<String>,
    pub(super) from: Option<&'a BatchId>,
    pub(super) to: Option<&'a BatchId>,
    pub(super) commit_id: Option<&'a str>,
    pub(super) message: Option<&'a str>,
    pub(super) batch: Option<&'a Batch>,
    pub(super) details: Option<Value>,
}

impl<'a> NewEvent<'a> {
    pub(super) fn new(ctx: &'a Context, action: Action) -> Self {
        Self {
            ctx,
            action,
            namespace: None,
            table: None,
            table_id: None,
            partition_id: None,
            partition: None,
            from: None,
            to: None,
            commit_id: None,
            message: None,
            batch: None,
            details: None,
        }
    }

    pub(super) fn on_table(mut self, t: &'a TableRow) -> Self {
        self.namespace = Some(t.table.ident.namespace.as_str());
        self.table = Some(t.table.ident.name.as_str());
        self.table_id = Some(t.id);
        self
    }
}

/// Appends an event under the sequence lock. Its time is the clock's, but
/// never earlier than the previous event's, so event time never decreases
/// along ids (as-of relies on it).
pub(super) async fn insert_event(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    e: NewEvent<'_>,
) -> Result<Event> {
    sequence_lock(conn).await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT max(at) FROM events")
        .fetch_one(&mut *conn)
        .await?;
    let now = micros(now);
    let at = last.map_or(now, |l| now.max(l));
    let empty = Properties::new();
    let metadata = e.batch.map(|b| &b.metadata).unwrap_or(&empty);
    let row = sqlx::query(
        "INSERT INTO events (at, principal, action, namespace, table_name, table_id, partition_id, \
         partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
         metadata, request_id, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
         RETURNING *",
    )
    .bind(at)
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
    .bind(e.batch.map(|b| b.rows as i64))
    .bind(e.batch.map(|b| b.bytes as i64))
    .bind(e.batch.map(|b| b.files.len() as i64))
    .bind(e.batch.and_then(|b| b.schema_fingerprint.as_deref()))
    .bind(to_json(metadata))
    .bind(e.ctx.request_id.as_deref())
    .bind(e.details.as_ref())
    .fetch_one(&mut *conn)
    .await?;
    event_from_row(&row)
}

pub(super) fn event_from_row(row: &PgRow) -> Result<Event> {
    let action: String = row.try_get("action")?;
    Ok(Event {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        principal: row.try_get("principal")?,
        action: Action::parse(&action)?,
        namespace: row.try_get("namespace")?,
        table: row.try_get("table_name")?,
        partition: row.try_get("partition")?,
        from_batch: opt_batch(row.try_get("from_batch")?)?,
        to_batch: opt_batch(row.try_get("to_batch")?)?,
        commit_id: row.try_get("commit_id")?,
        message: row.try_get("message")?,
        rows: row.try_get::<Option<i64>, _>("rows")?.map(count),
        bytes: row.try_get::<Option<i64>, _>("bytes")?.map(count),
        files: row.try_get::<Option<i64>, _>("files")?.map(count),
        schema_fingerprint: row.try_get("schema_fingerprint")?,
        metadata: json_col(row, "metadata")?,
        request_id: row.try_get("request_id")?,
        details: row.try_get("details")?,
    })
}

/// Encodes a page cursor (opaque to callers).
pub(super) fn encode_cursor(s: &str) -> String {
    hex::encode(s.as_bytes())
}

/// Decodes a page cursor.
pub(super) fn decode_cursor(s: &str) -> Result<String> {
    hex::decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::invalid(
                Code::InvalidCursor,
                "invalid page cursor: pass back the next_cursor of the previous page unchanged",
            )
        })
}

/// The page size to use.
pub(super) fn page_size(limit: Option<u32>) -> Result<i64> {
    match limit {
        None => Ok(i64::from(crate::model::DEFAULT_PAGE)),
        Some(0) => Err(Error::invalid(
            Code::InvalidLimit,
            "limit must be at least 1",
        )),
        Some(n) if n > crate::model::MAX_PAGE => Err(Error::invalid(
            Code::InvalidLimit,
            format!("limit must be at most {}", crate::model::MAX_PAGE),
        )),
        Some(n) => Ok(i64::from(n)),
    }
}
