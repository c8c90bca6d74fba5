//! Row conversions and the lookups every operation shares.

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::{Code, Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Context, DataFile, Event, NamespaceName, PartitionKey,
    PartitionValues, Properties, Table, TableIdent, TableName,
};

/// Microseconds since the epoch, the stored form of every time.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`micros`].
pub(super) fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot encode json: {e}")))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Internal(format!("corrupt json in catalog: {e}")))
}

fn opt_batch(s: Option<String>) -> Result<Option<BatchId>> {
    s.map(|s| BatchId::parse(&s)).transpose()
}

/// A live table and its row id.
#[derive(Debug, Clone)]
pub(super) struct TableRow {
    pub(super) id: i64,
    pub(super) table: Table,
}

pub(super) const TABLE_COLUMNS: &str = "t.id, n.name AS ns, t.name, t.location, t.schema, \
    t.schema_version, t.partition_keys, t.description, t.owner, t.properties, t.created_at, t.updated_at";

pub(super) fn table_from_row(row: &SqliteRow) -> Result<TableRow> {
    let ns: String = row.try_get("ns")?;
    let name: String = row.try_get("name")?;
    let schema: Schema = from_json(&row.try_get::<String, _>("schema")?)?;
    let keys: Vec<PartitionKey> = from_json(&row.try_get::<String, _>("partition_keys")?)?;
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
            properties: from_json(&row.try_get::<String, _>("properties")?)?,
            created_at: time(row.try_get("created_at")?),
            updated_at: time(row.try_get("updated_at")?),
        },
    })
}

/// The live table `ident`, or a not-found error that says which part is missing.
pub(super) async fn live_table(
    conn: &mut SqliteConnection,
    ident: &TableIdent,
) -> Result<TableRow> {
    let sql = format!(
        "SELECT {TABLE_COLUMNS} FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
         WHERE n.name = ? AND t.name = ? AND t.dropped_at IS NULL"
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
pub(super) async fn namespace_id(conn: &mut SqliteConnection, name: &NamespaceName) -> Result<i64> {
    let id = sqlx::query_scalar("SELECT id FROM namespaces WHERE name = ?")
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

pub(super) async fn find_partition(
    conn: &mut SqliteConnection,
    table_id: i64,
    values: &PartitionValues,
) -> Result<Option<PartitionRow>> {
    let row = sqlx::query(
        "SELECT id, current_batch, version FROM partitions WHERE table_id = ? AND path = ?",
    )
    .bind(table_id)
    .bind(values.path())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(PartitionRow {
            id: r.try_get("id")?,
            current: opt_batch(r.try_get("current_batch")?)?,
            version: r.try_get("version")?,
        })
    })
    .transpose()
}

/// The published partition `values`, or a not-found error.
pub(super) async fn published_partition(
    conn: &mut SqliteConnection,
    t: &TableRow,
    values: &PartitionValues,
) -> Result<(PartitionRow, BatchId)> {
    match find_partition(conn, t.id, values).await? {
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

pub(super) const BATCH_COLUMNS: &str = "b.id, b.batch_id, p.path, b.location, b.state, b.parent_batch, \
    b.rows, b.bytes, b.schema, b.schema_fingerprint, b.principal, b.message, b.metadata, \
    b.idempotency_key, b.created_at, b.committed_at, b.commit_id";

/// A batch row before its files are attached.
pub(super) struct BatchRow {
    pub(super) pk: i64,
    pub(super) commit_id: Option<String>,
    pub(super) batch: Batch,
}

pub(super) fn batch_from_row(row: &SqliteRow, t: &TableRow) -> Result<BatchRow> {
    let state: String = row.try_get("state")?;
    let schema: Option<String> = row.try_get("schema")?;
    Ok(BatchRow {
        pk: row.try_get("id")?,
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
            rows: row.try_get::<i64, _>("rows")? as u64,
            bytes: row.try_get::<i64, _>("bytes")? as u64,
            schema: schema.map(|s| from_json(&s)).transpose()?,
            schema_fingerprint: row.try_get("schema_fingerprint")?,
            principal: row.try_get("principal")?,
            message: row.try_get("message")?,
            metadata: from_json(&row.try_get::<String, _>("metadata")?)?,
            idempotency_key: row.try_get("idempotency_key")?,
            created_at: time(row.try_get("created_at")?),
            committed_at: row.try_get::<Option<i64>, _>("committed_at")?.map(time),
        },
    })
}

pub(super) async fn load_files(
    conn: &mut SqliteConnection,
    batch_pk: i64,
) -> Result<Vec<DataFile>> {
    let rows =
        sqlx::query("SELECT path, size, rows FROM batch_files WHERE batch_pk = ? ORDER BY path")
            .bind(batch_pk)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(DataFile {
                path: r.try_get("path")?,
                size: r.try_get::<i64, _>("size")? as u64,
                rows: r.try_get::<i64, _>("rows")? as u64,
            })
        })
        .collect()
}

/// A batch of table `t` with its files, staged or committed.
pub(super) async fn load_batch_row(
    conn: &mut SqliteConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<BatchRow> {
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
         WHERE b.batch_id = ? AND p.table_id = ?"
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
    conn: &mut SqliteConnection,
    t: &TableRow,
    id: &BatchId,
) -> Result<Batch> {
    Ok(load_batch_row(conn, t, id).await?.batch)
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
    pub(super) details: Option<serde_json::Value>,
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

/// Appends an event. Its time is the clock's, but never earlier than the
/// previous event's, so event time never decreases along ids (as-of relies on it).
pub(super) async fn insert_event(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    e: NewEvent<'_>,
) -> Result<Event> {
    let last: Option<i64> = sqlx::query_scalar("SELECT max(at) FROM events")
        .fetch_one(&mut *conn)
        .await?;
    let at = micros(now).max(last.unwrap_or(i64::MIN));
    let empty = Properties::new();
    let metadata = e.batch.map(|b| &b.metadata).unwrap_or(&empty);
    let row = sqlx::query(
        "INSERT INTO events (at, principal, action, namespace, table_name, table_id, partition_id, \
         partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
         metadata, request_id, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
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
    .bind(to_json(metadata)?)
    .bind(e.ctx.request_id.as_deref())
    .bind(e.details.as_ref().map(to_json).transpose()?)
    .fetch_one(&mut *conn)
    .await?;
    event_from_row(&row)
}

pub(super) fn event_from_row(row: &SqliteRow) -> Result<Event> {
    let action: String = row.try_get("action")?;
    let details: Option<String> = row.try_get("details")?;
    Ok(Event {
        id: row.try_get("id")?,
        at: time(row.try_get("at")?),
        principal: row.try_get("principal")?,
        action: Action::parse(&action)?,
        namespace: row.try_get("namespace")?,
        table: row.try_get("table_name")?,
        partition: row.try_get("partition")?,
        from_batch: opt_batch(row.try_get("from_batch")?)?,
        to_batch: opt_batch(row.try_get("to_batch")?)?,
        commit_id: row.try_get("commit_id")?,
        message: row.try_get("message")?,
        rows: row.try_get::<Option<i64>, _>("rows")?.map(|v| v as u64),
        bytes: row.try_get::<Option<i64>, _>("bytes")?.map(|v| v as u64),
        files: row.try_get::<Option<i64>, _>("files")?.map(|v| v as u64),
        schema_fingerprint: row.try_get("schema_fingerprint")?,
        metadata: from_json(&row.try_get::<String, _>("metadata")?)?,
        request_id: row.try_get("request_id")?,
        details: details.map(|d| from_json(&d)).transpose()?,
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
