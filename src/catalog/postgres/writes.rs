//! Stage, record files, discard: the first steps of the write protocol of
//! DESIGN §4 (the publish and the rollback are in `pointer`).
//!
//! Transactions run at READ COMMITTED. What SQLite gets from one writer at
//! a time, these get from row locks taken in one order (table, partitions,
//! batches, then the sequence lock; see `rows`).

use std::collections::HashMap;

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

/// The partition row ids of `values` (distinct, in path order), created
/// (unpublished) where missing, and key-share locked so that a concurrent
/// discard cannot remove them before this transaction's batches refer to
/// them. Keyed by path.
async fn ensure_partitions(
    conn: &mut PgConnection,
    t: &TableRow,
    values: &[&PartitionValues],
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::with_capacity(values.len());
    let mut missing: Vec<&PartitionValues> = values.to_vec();
    // A discard may delete a row between the insert and the lock; then the
    // lock misses it and the insert runs again for what is missing.
    for _ in 0..16 {
        let paths: Vec<String> = missing.iter().map(|v| v.path()).collect();
        let sort_keys: Vec<String> = missing
            .iter()
            .map(|v| v.sort_key(&t.table.partition_keys))
            .collect();
        sqlx::query(sql::INSERT_PARTITIONS)
            .bind(t.id)
            .bind(&paths)
            .bind(&sort_keys)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        let locked: Vec<(i64, String)> = sqlx::query_as(sql::PARTITIONS_KEY_SHARE)
            .bind(t.id)
            .bind(&paths)
            .fetch_all(&mut *conn)
            .await?;
        for (id, path) in locked {
            ids.insert(path, id);
        }
        missing.retain(|v| !ids.contains_key(&v.path()));
        if missing.is_empty() {
            return Ok(ids);
        }
    }
    Err(Error::Internal(format!(
        "partition {} of {} kept disappearing while staging; retry",
        missing[0], t.table.ident
    )))
}

impl PostgresCatalog {
    /// A fixed number of round trips however many partitions it stages.
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
        order.dedup_by_key(|v| v.path());
        let pids = ensure_partitions(&mut tx, &t, &order, now).await?;
        // Idempotency lookups and minting happen under the sequence lock, so
        // a concurrent retry with the same key sees this one's batch.
        rows::sequence_lock(&mut tx).await?;
        let mut existing: HashMap<i64, String> = HashMap::new();
        if let Some(key) = &req.idempotency_key {
            let all: Vec<i64> = pids.values().copied().collect();
            let found: Vec<(i64, String)> = sqlx::query_as(sql::IDEMPOTENT_BATCHES)
                .bind(&all)
                .bind(key)
                .fetch_all(&mut *tx)
                .await?;
            existing.extend(found);
        }
        let last: Option<String> = sqlx::query_scalar(sql::LAST_BATCH_ID)
            .fetch_one(&mut *tx)
            .await?;
        let mut last = last.map(|s| BatchId::parse(&s)).transpose()?;
        let mut ids = Vec::with_capacity(req.partitions.len());
        let (mut minted, mut minted_pids, mut locations) = (Vec::new(), Vec::new(), Vec::new());
        for values in &req.partitions {
            let pid = pids
                .get(&values.path())
                .copied()
                .ok_or_else(|| Error::Internal("a staged partition without its row".into()))?;
            if let Some(id) = existing.get(&pid) {
                ids.push(BatchId::parse(id)?);
                continue;
            }
            let id = BatchId::mint(now, last.as_ref());
            if req.idempotency_key.is_some() {
                // The same partition named again in this request gets this batch.
                existing.insert(pid, id.as_str().to_owned());
            }
            locations.push(storage::batch_location(&t.table.location, values, &id));
            minted.push(id.as_str().to_owned());
            minted_pids.push(pid);
            last = Some(id.clone());
            ids.push(id);
        }
        if !minted.is_empty() {
            sqlx::query(sql::INSERT_BATCHES)
                .bind(&minted)
                .bind(&minted_pids)
                .bind(&locations)
                .bind(&ctx.principal)
                .bind(&req.message)
                .bind(jsonb(&req.metadata))
                .bind(&req.idempotency_key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        // A batch minted here has no files yet: its row alone is all of it.
        // Only a batch an earlier request staged (same idempotency key) may.
        let out = if ids.len() > minted.len() {
            rows::load_batch_rows(&mut tx, &t, &ids).await?
        } else {
            rows::find_batch_rows(&mut tx, &t, &ids).await?
        };
        tx.commit().await?;
        Ok(out.into_iter().map(|b| b.batch).collect())
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
        record_locked(&mut tx, &[(&b, files, schema)]).await?;
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

/// Records files of staged batches whose rows this transaction has locked
/// and read again (`b`, its files, their schema; a batch at most once), in
/// two round trips; the caller reads the batches again to see them.
pub(super) async fn record_locked(
    conn: &mut PgConnection,
    writes: &[(&BatchRow, &[DataFile], &Schema)],
) -> Result<()> {
    let (mut pks, mut paths, mut sizes, mut counts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut batches, mut schemas, mut fingerprints) = (Vec::new(), Vec::new(), Vec::new());
    for (b, files, schema) in writes {
        for f in rules::files_to_record(&b.batch, files, schema)? {
            pks.push(b.pk);
            paths.push(f.path.as_str());
            sizes.push(f.size as i64);
            counts.push(f.rows as i64);
        }
        batches.push(b.pk);
        schemas.push(jsonb(*schema));
        fingerprints.push(fingerprint(schema));
    }
    if !pks.is_empty() {
        sqlx::query(sql::INSERT_FILES)
            .bind(&pks)
            .bind(&paths)
            .bind(&sizes)
            .bind(&counts)
            .execute(&mut *conn)
            .await?;
    }
    let statement = match batches.len() {
        1 => sql::UPDATE_TOTALS_OF_ONE,
        _ => sql::UPDATE_TOTALS,
    };
    sqlx::query(statement)
        .bind(&batches)
        .bind(&schemas)
        .bind(&fingerprints)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
