//! The rows every backend reads and writes, and their decoding into model
//! types, written once. A backend runs the SQL and hands each result row to
//! these decoders through [`Columns`], which reads one column by position in
//! the backend's own types (SQLite: integers and JSON text; PostgreSQL:
//! `timestamptz` and `jsonb`). The column lists are the same in both
//! dialects, so they live here too.

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Context, DataFile, Event, Expiry, Namespace, NamespaceName,
    PartitionValues, Pin, PinName, PinTarget, Properties, StoredToken, Table, TableIdent,
    TableName, Token,
};

/// One result row, read by column position.
pub(crate) trait Columns {
    /// A non-null integer.
    fn int(&self, i: usize) -> Result<i64>;
    /// A nullable integer.
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    /// Non-null text.
    fn text(&self, i: usize) -> Result<&str>;
    /// Nullable text.
    fn opt_text(&self, i: usize) -> Result<Option<&str>>;
    /// A non-null time.
    fn time(&self, i: usize) -> Result<DateTime<Utc>>;
    /// A nullable time.
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>>;
    /// A non-null JSON document.
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T>;
    /// A nullable JSON document.
    fn opt_json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>>;
    /// A stored Arrow schema (a backend may cache the parsed ones).
    fn schema(&self, i: usize) -> Result<Schema> {
        self.json(i)
    }
    /// A nullable stored Arrow schema.
    fn opt_schema(&self, i: usize) -> Result<Option<Schema>> {
        self.opt_json(i)
    }
    /// Stored properties (a backend may skip parsing the empty ones).
    fn properties(&self, i: usize) -> Result<Properties> {
        self.json(i)
    }

    /// Non-null text, owned.
    fn string(&self, i: usize) -> Result<String> {
        Ok(self.text(i)?.to_owned())
    }
    /// Nullable text, owned.
    fn opt_string(&self, i: usize) -> Result<Option<String>> {
        Ok(self.opt_text(i)?.map(str::to_owned))
    }
    /// A non-null batch ID.
    fn batch_id(&self, i: usize) -> Result<BatchId> {
        BatchId::parse(self.text(i)?)
    }
    /// A nullable batch ID.
    fn opt_batch_id(&self, i: usize) -> Result<Option<BatchId>> {
        self.opt_text(i)?.map(BatchId::parse).transpose()
    }
    /// A non-negative count (stored as a signed integer).
    fn count(&self, i: usize) -> Result<u64> {
        Ok(count(self.int(i)?))
    }
    /// A nullable non-negative count.
    fn opt_count(&self, i: usize) -> Result<Option<u64>> {
        Ok(self.opt_int(i)?.map(count))
    }
}

/// Non-negative counts are stored as signed 64-bit integers.
pub(crate) fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

/// A value as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot encode json: {e}")))
}

/// JSON text from the catalog decoded into `T`.
pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| Error::Internal(format!("corrupt json in catalog: {e}")))
}

/// A JSON value from the catalog decoded into `T`.
pub(crate) fn from_json_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::Internal(format!("corrupt json in catalog: {e}")))
}

/// `t` truncated to microseconds, the precision of every stored time.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The time of an appended event: the clock's, but never earlier than the
/// previous event's, so event time never decreases along ids (as-of relies
/// on it).
pub(crate) fn event_time(now: DateTime<Utc>, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = micros(now);
    last.map_or(now, |l| now.max(l))
}

/// The columns [`namespace`] reads, in its order (a literal, for `concat!`).
macro_rules! namespace_columns {
    () => {
        "name, description, owner, properties, created_at, updated_at"
    };
}
pub(crate) use namespace_columns;

pub(crate) fn namespace(r: &impl Columns) -> Result<Namespace> {
    Ok(Namespace {
        name: NamespaceName::new(r.string(0)?)?,
        description: r.opt_string(1)?,
        owner: r.opt_string(2)?,
        properties: r.properties(3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
    })
}

/// A table and its row id.
#[derive(Debug, Clone)]
pub(crate) struct TableRow {
    pub(crate) id: i64,
    pub(crate) table: Table,
}

/// The columns [`table`] reads, in its order (a literal, for `concat!`) (`t` a table, `n` its namespace).
macro_rules! table_columns {
    () => {
        "t.id, n.name AS ns, t.name, t.location, t.schema, \
    t.schema_version, t.partition_keys, t.description, t.owner, t.properties, t.created_at, \
    t.updated_at"
    };
}
pub(crate) use table_columns;

pub(crate) fn table(r: &impl Columns) -> Result<TableRow> {
    Ok(TableRow {
        id: r.int(0)?,
        table: Table {
            ident: TableIdent {
                namespace: NamespaceName::new(r.string(1)?)?,
                name: TableName::new(r.string(2)?)?,
            },
            location: r.string(3)?,
            schema: r.schema(4)?,
            schema_version: r.int(5)?,
            partition_keys: r.json(6)?,
            description: r.opt_string(7)?,
            owner: r.opt_string(8)?,
            properties: r.properties(9)?,
            created_at: r.time(10)?,
            updated_at: r.time(11)?,
        },
    })
}

/// A partition row: its pointer and the version the compare-and-swap checks.
#[derive(Debug, Clone)]
pub(crate) struct PartitionRow {
    pub(crate) id: i64,
    pub(crate) current: Option<BatchId>,
    pub(crate) version: i64,
}

/// The columns [`partition`] reads, in its order (a literal, for `concat!`).
macro_rules! partition_columns {
    () => {
        "id, current_batch, version"
    };
}
pub(crate) use partition_columns;

pub(crate) fn partition(r: &impl Columns) -> Result<PartitionRow> {
    Ok(PartitionRow {
        id: r.int(0)?,
        current: r.opt_batch_id(1)?,
        version: r.int(2)?,
    })
}

/// A batch row; its files are attached by the caller.
#[derive(Debug, Clone)]
pub(crate) struct BatchRow {
    pub(crate) pk: i64,
    pub(crate) partition_id: i64,
    pub(crate) commit_id: Option<String>,
    pub(crate) batch: Batch,
}

/// The columns [`batch`] reads, in its order (a literal, for `concat!`) (`b` a batch, `p` its partition).
/// A retention mark (`batch_expiry`) overrides the stored state.
macro_rules! batch_columns {
    () => {
        "b.id, b.batch_id, b.partition_id, p.path, b.location, \
    coalesce((SELECT x.state FROM batch_expiry x WHERE x.batch_pk = b.id), b.state), \
    b.parent_batch, b.rows, b.bytes, b.schema, b.schema_fingerprint, b.principal, \
    b.message, b.metadata, b.idempotency_key, b.created_at, b.committed_at, b.commit_id, \
    (SELECT x.expired_at FROM batch_expiry x WHERE x.batch_pk = b.id), \
    (SELECT x.expired_by FROM batch_expiry x WHERE x.batch_pk = b.id)"
    };
}
pub(crate) use batch_columns;

/// A batch of table `t` without its files.
pub(crate) fn batch(r: &impl Columns, t: &TableRow) -> Result<BatchRow> {
    let state = r.text(5)?;
    Ok(BatchRow {
        pk: r.int(0)?,
        partition_id: r.int(2)?,
        commit_id: r.opt_string(17)?,
        batch: Batch {
            id: r.batch_id(1)?,
            table: t.table.ident.clone(),
            partition: PartitionValues::from_stored(&t.table.partition_keys, r.text(3)?)?,
            location: r.string(4)?,
            state: BatchState::parse(state)
                .ok_or_else(|| Error::Internal(format!("unknown batch state {state:?}")))?,
            parent: r.opt_batch_id(6)?,
            files: Vec::new(),
            rows: r.count(7)?,
            bytes: r.count(8)?,
            schema: r.opt_schema(9)?,
            schema_fingerprint: r.opt_string(10)?,
            principal: r.string(11)?,
            message: r.opt_string(12)?,
            metadata: r.properties(13)?,
            idempotency_key: r.opt_string(14)?,
            created_at: r.time(15)?,
            committed_at: r.opt_time(16)?,
            expired: match (r.opt_time(18)?, r.opt_string(19)?) {
                (Some(at), Some(by)) => Some(Expiry { at, by }),
                _ => None,
            },
        },
    })
}

/// The columns [`file`] reads, in its order (a literal, for `concat!`).
macro_rules! file_columns {
    () => {
        "path, size, rows"
    };
}
pub(crate) use file_columns;

pub(crate) fn file(r: &impl Columns) -> Result<DataFile> {
    Ok(DataFile {
        path: r.string(0)?,
        size: r.count(1)?,
        rows: r.count(2)?,
    })
}

/// The columns [`event`] reads, in its order (a literal, for `concat!`).
macro_rules! event_columns {
    () => {
        "id, at, principal, action, namespace, table_name, \
    partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
    metadata, request_id, details"
    };
}
pub(crate) use event_columns;

pub(crate) fn event(r: &impl Columns) -> Result<Event> {
    Ok(Event {
        id: r.int(0)?,
        at: r.time(1)?,
        principal: r.string(2)?,
        action: Action::parse(r.text(3)?)?,
        namespace: r.opt_string(4)?,
        table: r.opt_string(5)?,
        partition: r.opt_string(6)?,
        from_batch: r.opt_batch_id(7)?,
        to_batch: r.opt_batch_id(8)?,
        commit_id: r.opt_string(9)?,
        message: r.opt_string(10)?,
        rows: r.opt_count(11)?,
        bytes: r.opt_count(12)?,
        files: r.opt_count(13)?,
        schema_fingerprint: r.opt_string(14)?,
        metadata: r.properties(15)?,
        request_id: r.opt_string(16)?,
        details: r.opt_json(17)?,
    })
}

/// The columns [`pin`] reads, in its order (a literal, for `concat!`) (`pn` a pin, `p` its partition
/// if it holds a batch).
macro_rules! pin_columns {
    () => {
        "pn.name, pn.owner, pn.reason, pn.batch_id, pn.as_of, \
    pn.created_at, pn.expires_at, p.path"
    };
}
pub(crate) use pin_columns;

/// A pin of table `t`.
pub(crate) fn pin(r: &impl Columns, t: &TableRow) -> Result<Pin> {
    let target = match r.opt_batch_id(3)? {
        Some(batch) => PinTarget::Batch {
            partition: PartitionValues::from_stored(&t.table.partition_keys, r.text(7)?)?,
            batch,
        },
        None => PinTarget::AsOf { at: r.time(4)? },
    };
    Ok(Pin {
        table: t.table.ident.clone(),
        name: PinName::new(r.string(0)?)?,
        owner: r.opt_string(1)?,
        reason: r.opt_string(2)?,
        target,
        created_at: r.time(5)?,
        expires_at: r.opt_time(6)?,
    })
}

/// The columns [`token`] reads, in its order (a literal, for `concat!`).
macro_rules! token_columns {
    () => {
        "id, name, secret_hash, grants, created_at, created_by, expires_at, revoked_at"
    };
}
pub(crate) use token_columns;

pub(crate) fn token(r: &impl Columns) -> Result<StoredToken> {
    Ok(StoredToken {
        token: Token {
            id: r.string(0)?,
            name: r.string(1)?,
            grants: r.json(3)?,
            created_at: r.time(4)?,
            created_by: r.string(5)?,
            expires_at: r.opt_time(6)?,
            revoked_at: r.opt_time(7)?,
        },
        secret_hash: r.string(2)?,
    })
}

/// An event about to be appended.
#[derive(Debug)]
pub(crate) struct NewEvent<'a> {
    pub(crate) ctx: &'a Context,
    pub(crate) action: Action,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) table: Option<&'a str>,
    pub(crate) table_id: Option<i64>,
    pub(crate) partition_id: Option<i64>,
    pub(crate) partition: Option<String>,
    pub(crate) from: Option<&'a BatchId>,
    pub(crate) to: Option<&'a BatchId>,
    pub(crate) commit_id: Option<&'a str>,
    pub(crate) message: Option<&'a str>,
    pub(crate) batch: Option<&'a Batch>,
    pub(crate) details: Option<serde_json::Value>,
}

impl<'a> NewEvent<'a> {
    pub(crate) fn new(ctx: &'a Context, action: Action) -> Self {
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

    /// An event about table `t`.
    pub(crate) fn on_table(mut self, t: &'a TableRow) -> Self {
        self.namespace = Some(t.table.ident.namespace.as_str());
        self.table = Some(t.table.ident.name.as_str());
        self.table_id = Some(t.id);
        self
    }

    /// The audit event of retention deleting batch `b`'s files: the batch
    /// as `from`, its files and bytes; not a pointer move.
    pub(crate) fn expire(ctx: &'a Context, t: &'a TableRow, b: &'a Batch) -> Self {
        let mut e = Self::new(ctx, Action::Expire).on_table(t);
        e.partition = Some(b.partition.path());
        e.from = Some(&b.id);
        e.batch = Some(b);
        let files: Vec<&str> = b.files.iter().map(|f| f.path.as_str()).collect();
        e.details = Some(serde_json::json!({ "expired_files": files }));
        e
    }

    /// The audit event of retention deleting orphan objects of `t` (files
    /// no batch records: their paths and sizes); no batch, no pointer move.
    pub(crate) fn orphans(ctx: &'a Context, t: &'a TableRow, files: &[(String, u64)]) -> Self {
        let mut e = Self::new(ctx, Action::Expire).on_table(t);
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        let bytes: u64 = files.iter().map(|(_, b)| b).sum();
        e.details = Some(serde_json::json!({ "orphan_files": paths, "bytes": bytes }));
        e
    }

    /// The event of a pointer move of partition `p` of `t` to batch `to`.
    pub(crate) fn pointer_move(
        ctx: &'a Context,
        action: Action,
        t: &'a TableRow,
        p: &'a PartitionRow,
        values: &PartitionValues,
        to: &'a Batch,
    ) -> Self {
        let mut e = Self::new(ctx, action).on_table(t);
        e.partition_id = Some(p.id);
        e.partition = Some(values.path());
        e.from = p.current.as_ref();
        e.to = Some(&to.id);
        e.batch = Some(to);
        e
    }

    /// The event of creating (`reason` its message) or deleting pin `pin`.
    pub(crate) fn pin(
        ctx: &'a Context,
        action: Action,
        t: &'a TableRow,
        pin: &'a Pin,
        reason: Option<&'a str>,
    ) -> Self {
        let mut e = Self::new(ctx, action).on_table(t);
        if let PinTarget::Batch { partition, batch } = &pin.target {
            e.partition = Some(partition.path());
            match action {
                Action::CreatePin => e.to = Some(batch),
                _ => e.from = Some(batch),
            }
        }
        e.message = reason;
        e.details = Some(serde_json::to_value(pin).unwrap_or_default());
        e
    }

    /// The batch's totals, as the event records them.
    pub(crate) fn totals(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        let b = self.batch;
        (
            b.map(|b| b.rows as i64),
            b.map(|b| b.bytes as i64),
            b.map(|b| b.files.len() as i64),
        )
    }

    /// The batch's metadata, or none.
    pub(crate) fn metadata(&self) -> &'a Properties {
        static EMPTY: std::sync::OnceLock<Properties> = std::sync::OnceLock::new();
        match self.batch {
            Some(b) => &b.metadata,
            None => EMPTY.get_or_init(Properties::new),
        }
    }
}
