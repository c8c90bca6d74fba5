//! Stage, record files, discard: the first steps of the write protocol of
//! DESIGN §4 (the publish and the rollback are in `pointer`). Each runs in
//! one `BEGIN IMMEDIATE` transaction behind the catalog's writer lock, so
//! one writer at a time needs no row locks.

use arrow_schema::Schema;
use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::row::{TableRow, to_json};
use crate::catalog::rules;
use crate::error::Result;
use crate::model::{
    Batch, BatchId, Context, DataFile, PartitionValues, StageRequest, TableIdent, fingerprint,
};
use crate::storage;

impl Tx<'_> {
    pub(super) fn stage(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        let t = self.live_table(ident)?;
        let mut ids = Vec::with_capacity(req.partitions.len());
        for values in &req.partitions {
            let pid = self.ensure_partition(&t, values, micros(now))?;
            if let Some(key) = &req.idempotency_key {
                let existing: Option<String> = self.value(sql::IDEMPOTENT_BATCH, (pid, key))?;
                if let Some(id) = existing {
                    ids.push(BatchId::parse(&id)?);
                    continue;
                }
            }
            let last: Option<String> = self.value(sql::LAST_BATCH_ID, [])?.flatten();
            let last = last.map(|s| BatchId::parse(&s)).transpose()?;
            let id = BatchId::mint(now, last.as_ref());
            self.run(
                sql::INSERT_BATCH,
                rusqlite::params![
                    id.as_str(),
                    pid,
                    storage::batch_location(&t.table.location, values, &id),
                    &ctx.principal,
                    &req.message,
                    to_json(&req.metadata)?,
                    &req.idempotency_key,
                    micros(now),
                ],
            )?;
            ids.push(id);
        }
        ids.iter().map(|id| self.load_batch(&t, id)).collect()
    }

    /// The partition row id for `values`, created (unpublished) if missing.
    fn ensure_partition(&self, t: &TableRow, values: &PartitionValues, now: i64) -> Result<i64> {
        let path = values.path();
        self.run(
            sql::INSERT_PARTITION,
            (t.id, &path, values.sort_key(&t.table.partition_keys), now),
        )?;
        self.partition_id(t.id, values)?
            .ok_or_else(|| crate::Error::Internal("a partition row vanished".into()))
    }

    pub(super) fn record_files(
        &self,
        ident: &TableIdent,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<Batch> {
        let t = self.live_table(ident)?;
        self.record(&t, id, files, schema)?;
        self.load_batch(&t, id)
    }

    /// Records files of a staged batch (see `Catalog::record_files`).
    pub(super) fn record(
        &self,
        t: &TableRow,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<()> {
        let b = self.load_batch_row(t, id)?;
        for f in rules::files_to_record(&b.batch, files, schema)? {
            self.run(
                sql::INSERT_FILE,
                (b.pk, &f.path, f.size as i64, f.rows as i64),
            )?;
        }
        self.run(
            sql::UPDATE_TOTALS,
            (b.pk, to_json(schema)?, fingerprint(schema)),
        )?;
        Ok(())
    }

    pub(super) fn discard(&self, ident: &TableIdent, id: &BatchId) -> Result<()> {
        let t = self.live_table(ident)?;
        let b = self.load_batch_row(&t, id)?;
        rules::discardable(&b.batch)?;
        self.run(sql::DELETE_FILES, [b.pk])?;
        self.run(sql::DELETE_BATCH, [b.pk])?;
        self.run(sql::DELETE_UNUSED_PARTITION, [b.partition_id])?;
        Ok(())
    }
}
