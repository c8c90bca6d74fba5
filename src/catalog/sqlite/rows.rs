//! Reading SQLite rows (for the shared decoders of `catalog::row`) and the
//! lookups every operation shares. Times are stored as microseconds since
//! the epoch, JSON as text.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row};
use serde::de::DeserializeOwned;

use super::connect::Tx;
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::row::{self, BatchRow, Columns, NewEvent, PartitionRow, TableRow, from_json};
use crate::error::{Error, Result};
use crate::model::{
    Batch, BatchId, DataFile, Event, NamespaceName, PartitionValues, Properties, TableIdent,
};

/// Microseconds since the epoch, the stored form of every time.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`micros`].
pub(super) fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A result row, with the schema cache of its connection set.
pub(super) struct Cols<'r, 's> {
    row: &'r Row<'s>,
    tx: &'r Tx<'r>,
}

impl Columns for Cols<'_, '_> {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.row.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.row.get(i)?)
    }
    fn text(&self, i: usize) -> Result<&str> {
        Ok(self.row.get_ref(i)?.as_str()?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.row.get_ref(i)?.as_str_or_null()?)
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>> {
        Ok(time(self.int(i)?))
    }
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        Ok(self.opt_int(i)?.map(time))
    }
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T> {
        from_json(self.text(i)?)
    }
    fn opt_json<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>> {
        self.opt_text(i)?.map(from_json).transpose()
    }
    fn schema(&self, i: usize) -> Result<arrow_schema::Schema> {
        self.tx.conns.schema(self.text(i)?)
    }
    fn opt_schema(&self, i: usize) -> Result<Option<arrow_schema::Schema>> {
        self.opt_text(i)?
            .map(|s| self.tx.conns.schema(s))
            .transpose()
    }
    fn properties(&self, i: usize) -> Result<Properties> {
        // Most rows have none.
        match self.text(i)? {
            "{}" => Ok(Properties::new()),
            json => from_json(json),
        }
    }
}

impl<'a> Tx<'a> {
    /// `row` for the shared decoders.
    pub(super) fn cols<'r, 's>(&'r self, row: &'r Row<'s>) -> Cols<'r, 's>
    where
        'a: 'r,
    {
        Cols { row, tx: self }
    }

    /// Runs `statement` with `params` and decodes each row with `decode`.
    pub(super) fn all<T>(
        &self,
        statement: &str,
        params: impl rusqlite::Params,
        mut decode: impl FnMut(&Cols<'_, '_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut st = self.conn.prepare_cached(statement)?;
        let mut rows = st.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(decode(&self.cols(r))?);
        }
        Ok(out)
    }

    /// Runs `statement` with `params` and decodes its first row, if any.
    pub(super) fn first<T>(
        &self,
        statement: &str,
        params: impl rusqlite::Params,
        decode: impl FnOnce(&Cols<'_, '_>) -> Result<T>,
    ) -> Result<Option<T>> {
        let mut st = self.conn.prepare_cached(statement)?;
        let mut rows = st.query(params)?;
        match rows.next()? {
            Some(r) => Ok(Some(decode(&self.cols(r))?)),
            None => Ok(None),
        }
    }

    /// The single value of a one-row, one-column statement, if any row.
    pub(super) fn value<T: rusqlite::types::FromSql>(
        &self,
        statement: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<T>> {
        Ok(self
            .conn
            .prepare_cached(statement)?
            .query_row(params, |r| r.get(0))
            .optional()?)
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub(super) fn run(&self, statement: &str, params: impl rusqlite::Params) -> Result<usize> {
        Ok(self.conn.prepare_cached(statement)?.execute(params)?)
    }

    /// The live table `ident`, or a not-found error that says which part is missing.
    pub(super) fn live_table(&self, ident: &TableIdent) -> Result<TableRow> {
        let found = self.first(
            sql::LIVE_TABLE,
            (ident.namespace.as_str(), ident.name.as_str()),
            |r| row::table(r),
        )?;
        match found {
            Some(t) => Ok(t),
            None => {
                self.namespace_id(&ident.namespace)?;
                Err(errors::table_not_found(ident))
            }
        }
    }

    /// A table by row id, dropped or not (verify covers dropped tables too).
    pub(super) fn table_by_id(&self, id: i64) -> Result<TableRow> {
        self.first(sql::TABLE_BY_ID, [id], |r| row::table(r))?
            .ok_or_else(|| Error::Internal(format!("no table with row id {id}")))
    }

    /// The row id of a namespace.
    pub(super) fn namespace_id(&self, name: &NamespaceName) -> Result<i64> {
        match self.value(sql::NAMESPACE_ID, [name.as_str()])? {
            Some(id) => Ok(id),
            None => {
                // The error names a close existing namespace (`slaes`: `sales`).
                let names = self.all(sql::NAMESPACE_NAMES, [], |r| r.string(0))?;
                Err(crate::model::missing_namespace(name, &names))
            }
        }
    }

    pub(super) fn partition(
        &self,
        table_id: i64,
        values: &PartitionValues,
    ) -> Result<Option<PartitionRow>> {
        self.first(sql::PARTITION, (table_id, values.path()), |r| {
            row::partition(r)
        })
    }

    pub(super) fn partition_id(
        &self,
        table_id: i64,
        values: &PartitionValues,
    ) -> Result<Option<i64>> {
        self.value(sql::PARTITION_ID, (table_id, values.path()))
    }

    /// The published partition `values` and its current batch, or a not-found error.
    pub(super) fn published_partition(
        &self,
        t: &TableRow,
        values: &PartitionValues,
    ) -> Result<(PartitionRow, BatchId)> {
        match self.partition(t.id, values)? {
            Some(p) => match p.current.clone() {
                Some(c) => Ok((p, c)),
                None => Err(errors::never_published(&t.table.ident, values)),
            },
            None => Err(errors::never_published(&t.table.ident, values)),
        }
    }

    pub(super) fn files(&self, batch_pk: i64) -> Result<Vec<DataFile>> {
        self.all(sql::FILES, [batch_pk], |r| row::file(r))
    }

    /// A batch row with its files.
    pub(super) fn with_files(&self, r: &Cols<'_, '_>, t: &TableRow) -> Result<BatchRow> {
        let mut b = row::batch(r, t)?;
        b.batch.files = self.files(b.pk)?;
        Ok(b)
    }

    /// A batch of table `t` with its files, staged or committed.
    pub(super) fn load_batch_row(&self, t: &TableRow, id: &BatchId) -> Result<BatchRow> {
        self.first(sql::BATCH, (id.as_str(), t.id), |r| self.with_files(r, t))?
            .ok_or_else(|| errors::batch_not_found(&t.table.ident, id))
    }

    pub(super) fn load_batch(&self, t: &TableRow, id: &BatchId) -> Result<Batch> {
        Ok(self.load_batch_row(t, id)?.batch)
    }

    /// The current batch of partition `values` with its files; `None` if
    /// the partition was never published.
    pub(super) fn current_batch(
        &self,
        t: &TableRow,
        values: &PartitionValues,
    ) -> Result<Option<Batch>> {
        let found = self.first(sql::CURRENT_BATCH_OF, (t.id, values.path()), |r| {
            self.with_files(r, t)
        })?;
        Ok(found.map(|b| b.batch))
    }

    /// The batch that was current for partition `pid` at `at`, from the event log.
    pub(super) fn batch_as_of(&self, pid: i64, at: DateTime<Utc>) -> Result<Option<BatchId>> {
        let id: Option<Option<String>> = self.value(sql::BATCH_AS_OF, (pid, micros(at)))?;
        id.flatten().map(|s| BatchId::parse(&s)).transpose()
    }

    /// Appends an event (see [`row::event_time`]).
    pub(super) fn insert_event(&self, now: DateTime<Utc>, e: NewEvent<'_>) -> Result<Event> {
        let last: Option<i64> = self.value(sql::LAST_EVENT_TIME, [])?.flatten();
        let at = micros(row::event_time(now, last.map(time)));
        let (rows, bytes, files) = e.totals();
        let details = e.details.as_ref().map(row::to_json).transpose()?;
        self.first(
            sql::INSERT_EVENT,
            rusqlite::params![
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
                rows,
                bytes,
                files,
                e.batch.and_then(|b| b.schema_fingerprint.as_deref()),
                row::to_json(e.metadata())?,
                e.ctx.request_id.as_deref(),
                details,
            ],
            |r| row::event(r),
        )?
        .ok_or_else(|| Error::Internal("INSERT ... RETURNING returned no row".into()))
    }
}
