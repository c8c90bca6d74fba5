//! Reads: a table, a batch, resolve (every version but a pin).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row};

use super::{Direct, Reader, opt_batch};
use crate::catalog::sqlite::rows::{
    BATCH_COLUMNS, BatchRow, TABLE_COLUMNS, TableRow, from_json, micros, never_published, time,
};
use crate::error::{Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, DataFile, NamespaceName, PartitionKey, PartitionValues, Resolved,
    Table, TableIdent, TableName, Version,
};

impl Direct {
    pub(in crate::catalog::sqlite) fn get_table(&self, ident: &TableIdent) -> Result<Table> {
        self.read(|r| Ok(r.live_table(ident)?.table))
    }

    pub(in crate::catalog::sqlite) fn get_batch(
        &self,
        ident: &TableIdent,
        id: &BatchId,
    ) -> Result<Batch> {
        self.read(|r| {
            let t = r.live_table(ident)?;
            r.load_batch(&t, id)
        })
    }

    /// `resolve` for every version but a pin (the caller keeps pins).
    pub(in crate::catalog::sqlite) fn resolve(
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
                        return Err(crate::catalog::rules::batch_abandoned(id));
                    }
                    if let Some(p) = ps.and_then(|ps| ps.iter().find(|p| **p != b.partition)) {
                        return Err(crate::catalog::rules::wrong_partition(
                            &t.table.ident,
                            id,
                            &b.partition,
                            p,
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
                            crate::catalog::rules::not_published_at(ident, values, *at)
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

impl Reader<'_> {
    /// The live table `ident`, or a not-found error that says which part is missing.
    pub(super) fn live_table(&self, ident: &TableIdent) -> Result<TableRow> {
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
            let mut st = self.tx.prepare_cached("SELECT name FROM namespaces")?;
            let names = st
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            return Err(crate::model::missing_namespace(&ident.namespace, &names));
        }
        Err(crate::catalog::rules::table_not_found(ident))
    }

    pub(super) fn table_from_row(&self, row: &Row<'_>) -> Result<TableRow> {
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

    pub(super) fn partition_id(
        &self,
        table_id: i64,
        values: &PartitionValues,
    ) -> Result<Option<i64>> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM partitions WHERE table_id = ?1 AND path = ?2")?
            .query_row((table_id, values.path()), |r| r.get(0))
            .optional()?)
    }

    /// The current batch of partition `values` with its files; `None` if
    /// the partition was never published.
    pub(super) fn current_batch(
        &self,
        t: &TableRow,
        values: &PartitionValues,
    ) -> Result<Option<Batch>> {
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
    pub(super) fn load_batch(&self, t: &TableRow, id: &BatchId) -> Result<Batch> {
        Ok(self.load_batch_row(t, id)?.batch)
    }

    /// [`Self::load_batch`] with the row id and commit id.
    pub(super) fn load_batch_row(&self, t: &TableRow, id: &BatchId) -> Result<BatchRow> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.batch_id = ?1 AND p.table_id = ?2"
        ))?;
        let mut rows = st.query((id.as_str(), t.id))?;
        match rows.next()? {
            Some(row) => self.batch_row(row, t),
            None => Err(crate::catalog::rules::batch_not_found(&t.table.ident, id)),
        }
    }

    pub(super) fn batch_row(&self, row: &Row<'_>, t: &TableRow) -> Result<BatchRow> {
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

    pub(super) fn files(&self, batch_pk: i64) -> Result<Vec<DataFile>> {
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
    pub(super) fn batch_as_of(&self, pid: i64, at: DateTime<Utc>) -> Result<Option<BatchId>> {
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
    pub(super) fn all_as_of(
        &self,
        t: &TableRow,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<Resolved>> {
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
