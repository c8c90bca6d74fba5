//! Stage, record files, discard: the first steps of the write protocol of
//! DESIGN §4 (the publish and the rollback are in `pointer`).
//!
//! Transactions run at READ COMMITTED. What SQLite gets from one writer at
//! a time, these get from row locks taken in one order (table, partitions,
//! batches, then the sequence lock; see `rows`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PostgresCatalog;
use super::rows::{self, TableLock, jsonb};
use super::statements as sql;
use crate::catalog::row::{BatchRow, TableRow};
use crate::catalog::{errors, rules};
use crate::error::{Error, Result};
use crate::model::{
    Batch, BatchId, Context, DataFile, PartitionValues, StageRequest, TableIdent, fingerprint,
};
use crate::storage;

/// The partition row id for `values`, created (unpublished) if missing, and
/// key-share locked so that a concurrent discard cannot remove it before
/// this transaction's batch refers to it.
async fn ensure_partition(
    conn: &mut PgConnection,
    t: &TableRow,
    values: &PartitionValues,
    now: DateTime<Utc>,
) -> Result<i64> {
    // A discard may delete the row between the insert and the lock; then the
    // lock finds nothing and the insert runs again.
    for _ in 0..16 {
        sqlx::query(sql::INSERT_PARTITION)
            .bind(t.id)
            .bind(values.path())
            .bind(values.sort_key(&t.table.partition_keys))
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(sql::PARTITION_KEY_SHARE)
            .bind(t.id)
            .bind(values.path())
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(id) = id {
            return Ok(id);
        }
    }
    Err(Error::Internal(format!(
        "partition {values} of {} kept disappearing while staging; retry",
        t.table.ident
    )))
}

impl PostgresCatalog {
    pub(super) async fn stage_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let now = self.now();
        // Partition rows in path order, so two stagers never wait on each
        // other's new rows in a cycle.
        let mut order: Vec<&PartitionValues> = req.partitions.iter().collect();
        order.sort_by_key(|v| v.path());
        let mut pids = HashMap::new();
        for values in order {
            if let Entry::Vacant(slot) = pids.entry(values.path()) {
                slot.insert(ensure_partition(&mut tx, &t, values, now).await?);
            }
        }
        // Idempotency lookups and minting happen under the sequence lock, so
        // a concurrent retry with the same key sees this one's batch.
        rows::sequence_lock(&mut tx).await?;
        let mut ids = Vec::with_capacity(req.partitions.len());
        for values in &req.partitions {
            let pid = pids
                .get(&values.path())
                .copied()
                .ok_or_else(|| Error::Internal("a staged partition without its row".into()))?;
            if let Some(key) = &req.idempotency_key {
                let existing: Option<String> = sqlx::query_scalar(sql::IDEMPOTENT_BATCH)
                    .bind(pid)
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(id) = existing {
                    ids.push((BatchId::parse(&id)?, false));
                    continue;
                }
            }
            let last: Option<String> = sqlx::query_scalar(sql::LAST_BATCH_ID)
                .fetch_one(&mut *tx)
                .await?;
            let last = last.map(|s| BatchId::parse(&s)).transpose()?;
            let id = BatchId::mint(now, last.as_ref());
            sqlx::query(sql::INSERT_BATCH)
                .bind(id.as_str())
                .bind(pid)
                .bind(storage::batch_location(&t.table.location, values, &id))
                .bind(&ctx.principal)
                .bind(&req.message)
                .bind(jsonb(&req.metadata))
                .bind(&req.idempotency_key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            ids.push((id, true));
        }
        // A batch minted here has no files yet: its row alone is all of it.
        let mut out = Vec::with_capacity(ids.len());
        for (id, minted) in &ids {
            out.push(if *minted {
                rows::find_batch_row(&mut tx, &t, id).await?.batch
            } else {
                rows::load_batch(&mut tx, &t, id).await?
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn record_files_impl(
        &self,
        ident: &TableIdent,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<Batch> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let found = rows::load_batch_row(&mut tx, &t, id).await?;
        if found.batch.state != crate::model::BatchState::Staged {
            return Err(errors::not_staged(id, found.batch.state));
        }
        // Lock the batch row, then read it again: a publish or another write
        // may have committed in between.
        rows::lock_batches(&mut tx, &[found.pk]).await?;
        let b = rows::load_batch_row(&mut tx, &t, id).await?;
        record_locked(&mut tx, &b, files, schema).await?;
        let out = rows::load_batch(&mut tx, &t, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn discard_impl(&self, ident: &TableIdent, id: &BatchId) -> Result<()> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let found = rows::load_batch_row(&mut tx, &t, id).await?;
        rules::discardable(&found.batch)?;
        // The partition first (it may be deleted below), then the batch.
        let pid = found.partition_id;
        sqlx::query(sql::LOCK_PARTITION_FOR_DELETE)
            .bind(pid)
            .execute(&mut *tx)
            .await?;
        let state: Option<String> = sqlx::query_scalar(sql::BATCH_STATE_FOR_UPDATE)
            .bind(found.pk)
            .fetch_optional(&mut *tx)
            .await?;
        match state.as_deref() {
            Some("staged") => {}
            // Another discard of the same batch won the race.
            None => return Ok(()),
            Some(_) => return Err(errors::never_discarded(id)),
        }
        sqlx::query(sql::DELETE_FILES)
            .bind(found.pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::DELETE_BATCH)
            .bind(found.pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::DELETE_UNUSED_PARTITION)
            .bind(pid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Records files of a staged batch whose row this transaction has locked
/// and read again (`b`); the caller reads the batch again to see them.
pub(super) async fn record_locked(
    conn: &mut PgConnection,
    b: &BatchRow,
    files: &[DataFile],
    schema: &Schema,
) -> Result<()> {
    for f in rules::files_to_record(&b.batch, files, schema)? {
        sqlx::query(sql::INSERT_FILE)
            .bind(b.pk)
            .bind(&f.path)
            .bind(f.size as i64)
            .bind(f.rows as i64)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(sql::UPDATE_TOTALS)
        .bind(b.pk)
        .bind(jsonb(schema))
        .bind(fingerprint(schema))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
