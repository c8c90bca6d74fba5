//! Stage, record files, publish, roll back: the write protocol of DESIGN §4.
//!
//! Transactions run at READ COMMITTED. What SQLite gets from one writer at
//! a time, these get from row locks taken in one order (table, partitions,
//! batches, then the sequence lock; see `rows`): a pointer is read under its
//! partition row's lock, so a compare-and-swap decides on the committed
//! pointer, and the conditional `UPDATE ... WHERE version = $n` must still
//! change exactly one row.

use std::collections::HashSet;

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PostgresCatalog;
use super::pointer::{PointerMove, move_pointer};
use super::rows::{self, NewEvent, TableLock, TableRow, to_json};
use crate::catalog::rules::retry_expectation_holds;
use crate::error::{Code, Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Commit, Context, DataFile, Event, Expect, PartitionValues,
    PublishPlan, RollbackRequest, StageRequest, TableIdent, fingerprint, schemas_compatible,
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
        // No conflict target: every unique index is an arbiter. With only
        // (table_id, path) named, a concurrent insert of the same partition
        // would fail on the (table_id, sort_key) index instead of waiting.
        sqlx::query(
            "INSERT INTO partitions (table_id, path, sort_key, version, updated_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
        )
        .bind(t.id)
        .bind(values.path())
        .bind(values.sort_key(&t.table.partition_keys))
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM partitions WHERE table_id = $1 AND path = $2 FOR KEY SHARE",
        )
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

fn not_staged(id: &BatchId, state: BatchState) -> Error {
    Error::invalid(
        Code::BatchNotStaged,
        format!(
            "batch {id} is {}: its files can no longer change; stage a new batch",
            state.as_str()
        ),
    )
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
        let mut pids = std::collections::HashMap::new();
        for values in order {
            if let std::collections::hash_map::Entry::Vacant(slot) = pids.entry(values.path()) {
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
                let existing: Option<String> = sqlx::query_scalar(
                    "SELECT batch_id FROM batches WHERE partition_id = $1 AND idempotency_key = $2",
                )
                .bind(pid)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = existing {
                    ids.push(BatchId::parse(&id)?);
                    continue;
                }
            }
            let last: Option<String> = sqlx::query_scalar("SELECT max(batch_id) FROM batches")
                .fetch_one(&mut *tx)
                .await?;
            let last = last.map(|s| BatchId::parse(&s)).transpose()?;
            let id = BatchId::mint(now, last.as_ref());
            sqlx::query(
                "INSERT INTO batches (batch_id, partition_id, location, state, principal, message, \
                 metadata, idempotency_key, created_at) \
                 VALUES ($1, $2, $3, 'staged', $4, $5, $6, $7, $8)",
            )
            .bind(id.as_str())
            .bind(pid)
            .bind(storage::batch_location(&t.table.location, values, &id))
            .bind(&ctx.principal)
            .bind(&req.message)
            .bind(to_json(&req.metadata))
            .bind(&req.idempotency_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(rows::load_batch(&mut tx, &t, id).await?);
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
        if found.batch.state != BatchState::Staged {
            return Err(not_staged(id, found.batch.state));
        }
        // Lock the batch row, then read it again: a publish or another write
        // may have committed in between.
        rows::lock_batches(&mut tx, &[found.pk]).await?;
        let b = rows::load_batch_row(&mut tx, &t, id).await?;
        if b.batch.state != BatchState::Staged {
            return Err(not_staged(id, b.batch.state));
        }
        if let Some(existing) = &b.batch.schema {
            schemas_compatible(existing, schema).map_err(|e| Error::SchemaMismatch {
                hint: None,
                message: format!("all files of a batch must share one schema: {e}"),
            })?;
        }
        for f in files {
            if !storage::is_inside(&b.batch.location, &f.path) {
                return Err(Error::invalid(
                    Code::FileOutsidePrefix,
                    format!(
                        "file {:?} is outside batch {id}'s prefix {}: write a batch's files under its own prefix only",
                        f.path, b.batch.location
                    ),
                ));
            }
            if let Some(old) = b.batch.files.iter().find(|o| o.path == f.path) {
                if old != f {
                    return Err(Error::invalid(
                        Code::FileChanged,
                        format!(
                            "file {:?} was already recorded with another size or row count",
                            f.path
                        ),
                    ));
                }
                continue;
            }
            sqlx::query(
                "INSERT INTO batch_files (batch_pk, path, size, rows) VALUES ($1, $2, $3, $4)",
            )
            .bind(b.pk)
            .bind(&f.path)
            .bind(f.size as i64)
            .bind(f.rows as i64)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE batches SET \
             rows = (SELECT coalesce(sum(rows), 0)::bigint FROM batch_files WHERE batch_pk = $1), \
             bytes = (SELECT coalesce(sum(size), 0)::bigint FROM batch_files WHERE batch_pk = $1), \
             file_count = (SELECT count(*) FROM batch_files WHERE batch_pk = $1), \
             schema = $2, schema_fingerprint = $3 WHERE id = $1",
        )
        .bind(b.pk)
        .bind(to_json(schema))
        .bind(fingerprint(schema))
        .execute(&mut *tx)
        .await?;
        let out = rows::load_batch(&mut tx, &t, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn discard_impl(&self, ident: &TableIdent, id: &BatchId) -> Result<()> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let found = rows::load_batch_row(&mut tx, &t, id).await?;
        let published = || {
            Error::invalid(
                Code::BatchNotStaged,
                format!("batch {id} was published; published batches are never discarded"),
            )
        };
        if found.batch.state != BatchState::Staged {
            return Err(published());
        }
        // The partition first (it may be deleted below), then the batch.
        let pid = found.partition_id;
        sqlx::query("SELECT id FROM partitions WHERE id = $1 FOR UPDATE")
            .bind(pid)
            .execute(&mut *tx)
            .await?;
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM batches WHERE id = $1 FOR UPDATE")
                .bind(found.pk)
                .fetch_optional(&mut *tx)
                .await?;
        match state.as_deref() {
            Some("staged") => {}
            // Another discard of the same batch won the race.
            None => return Ok(()),
            Some(_) => return Err(published()),
        }
        sqlx::query("DELETE FROM batch_files WHERE batch_pk = $1")
            .bind(found.pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM batches WHERE id = $1 AND state = 'staged'")
            .bind(found.pk)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM partitions WHERE id = $1 AND current_batch IS NULL AND version = 0 \
             AND NOT EXISTS (SELECT 1 FROM batches WHERE partition_id = $1)",
        )
        .bind(pid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn publish_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        if plan.items.is_empty() {
            return Err(Error::invalid(
                Code::EmptyPublish,
                "a publish needs at least one partition",
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = plan.items.iter().find(|i| !seen.insert(i.partition.path())) {
            return Err(Error::invalid(
                Code::DuplicatePartition,
                format!("partition {} appears twice in one publish", dup.partition),
            ));
        }
        let mut tx = self.write().await?;
        // A schema change rewrites the table row: lock it for update up
        // front, so that two merging publishes queue instead of deadlocking.
        let lock = if plan.schema_change.is_some() {
            TableLock::Update
        } else {
            TableLock::Share
        };
        let t = rows::live_table(&mut tx, ident, lock).await?;
        let mut found = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let b = rows::load_batch_row(&mut tx, &t, &item.batch).await?;
            if b.batch.partition != item.partition {
                return Err(crate::catalog::rules::wrong_partition(
                    &t.table.ident,
                    &item.batch,
                    &b.batch.partition,
                    &item.partition,
                ));
            }
            found.push(b);
        }
        // Lock the partitions and the batches, then read the batches again:
        // everything below decides on committed, locked rows.
        let pids: Vec<i64> = found.iter().map(|b| b.partition_id).collect();
        let parts = rows::lock_partitions(&mut tx, &pids).await?;
        if crate::faults::active("read_then_update_publish") {
            // Hold the window between the read and the write open until
            // another writer has read the same pointer: the lost update
            // then happens every run, not only when timing allows.
            for p in &parts {
                crate::faults::rendezvous_read(&self.pool, p.id, p.version).await;
            }
        }
        let pks: Vec<i64> = found.iter().map(|b| b.pk).collect();
        rows::lock_batches(&mut tx, &pks).await?;
        let mut batches = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            batches.push(rows::load_batch_row(&mut tx, &t, &item.batch).await?);
        }
        // A retried publish: every batch is already committed by one commit.
        let committed = batches
            .iter()
            .filter(|b| b.batch.state == BatchState::Committed)
            .count();
        if committed == batches.len() {
            let commit_id = batches[0].commit_id.clone().unwrap_or_default();
            if batches
                .iter()
                .all(|b| b.commit_id.as_deref() == Some(commit_id.as_str()))
            {
                for (item, b) in plan.items.iter().zip(&batches) {
                    if let Some(expect) = &item.expect
                        && !retry_expectation_holds(expect, b.batch.parent.as_ref())
                    {
                        let current = rows::find_partition(&mut tx, t.id, &item.partition, false)
                            .await?
                            .and_then(|p| p.current);
                        return Err(crate::catalog::rules::conflict(
                            &t.table.ident,
                            &item.partition,
                            expect,
                            current.as_ref(),
                        ));
                    }
                }
                let evs = sqlx::query("SELECT * FROM events WHERE commit_id = $1 ORDER BY id")
                    .bind(&commit_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let events = evs
                    .iter()
                    .map(rows::event_from_row)
                    .collect::<Result<Vec<_>>>()?;
                return Ok(Commit { commit_id, events });
            }
        }
        for b in &batches {
            match b.batch.state {
                BatchState::Staged => {}
                BatchState::Committed => {
                    return Err(Error::invalid(
                        Code::BatchAlreadyPublished,
                        format!(
                            "batch {} was already published; to make it current again use rollback --to {}",
                            b.batch.id, b.batch.id
                        ),
                    ));
                }
                BatchState::Abandoned => {
                    return Err(Error::invalid(
                        Code::BatchAbandoned,
                        format!(
                            "batch {} was abandoned; stage and write a new batch",
                            b.batch.id
                        ),
                    ));
                }
            }
            if b.batch.files.is_empty() {
                return Err(Error::invalid(
                    Code::EmptyBatch,
                    format!(
                        "batch {} has no files: write data to it before publishing",
                        b.batch.id
                    ),
                ));
            }
        }
        if t.table.schema_version != plan.schema_version {
            return Err(Error::SchemaChanged);
        }
        let now = self.now();
        if let Some(change) = &plan.schema_change {
            let changed = sqlx::query(
                "UPDATE tables SET schema = $1, schema_version = schema_version + 1, updated_at = $2 \
                 WHERE id = $3 AND schema_version = $4",
            )
            .bind(to_json(&change.schema))
            .bind(now)
            .bind(t.id)
            .bind(change.from_version)
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() != 1 {
                return Err(Error::SchemaChanged);
            }
            let mut e = NewEvent::new(ctx, Action::UpdateSchema).on_table(&t);
            e.details = Some(serde_json::json!({
                "added_columns": change.added,
                "schema_version": change.from_version + 1,
                "schema_fingerprint": fingerprint(&change.schema),
            }));
            rows::insert_event(&mut tx, now, e).await?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let mut events = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = parts
                .iter()
                .find(|p| p.id == b.partition_id)
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            if let Some(expect) = &item.expect {
                let ok = match expect {
                    Expect::Empty => p.current.is_none(),
                    Expect::Batch(e) => p.current.as_ref() == Some(e),
                };
                if !ok {
                    return Err(crate::catalog::rules::conflict(
                        &t.table.ident,
                        &item.partition,
                        expect,
                        p.current.as_ref(),
                    ));
                }
            }
            let event = move_pointer(
                &mut tx,
                now,
                PointerMove {
                    ctx,
                    t: &t,
                    partition_id: p.id,
                    partition: &item.partition,
                    version: p.version,
                    from: p.current.as_ref(),
                    to: &b.batch,
                    action: Action::Publish,
                    commit_id: Some(&commit_id),
                    message: plan.message.as_deref().or(b.batch.message.as_deref()),
                },
            )
            .await?;
            sqlx::query(
                "UPDATE batches SET state = 'committed', parent_batch = $1, committed_at = $2, \
                 commit_id = $3 WHERE id = $4 AND state = 'staged'",
            )
            .bind(p.current.as_ref().map(BatchId::as_str))
            .bind(event.at)
            .bind(&commit_id)
            .bind(b.pk)
            .execute(&mut *tx)
            .await?;
            events.push(event);
        }
        crate::faults::crash_point("crash_before_commit");
        if crate::faults::active("ack_before_commit") {
            // The negative control of the crash loop: answer first, commit
            // later (the row locks stay held until then).
            tokio::spawn(async move {
                tokio::time::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY).await;
                if let Err(e) = tx.commit().await {
                    tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
                }
            });
            return Ok(Commit { commit_id, events });
        }
        tx.commit().await?;
        Ok(Commit { commit_id, events })
    }

    pub(super) async fn rollback_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let (p, current) = rows::published_partition(&mut tx, &t, partition, true).await?;
        if let Some(expect) = req.expect.as_ref().filter(|e| **e != current) {
            return Err(crate::catalog::rules::conflict(
                &t.table.ident,
                partition,
                &Expect::Batch(expect.clone()),
                Some(&current),
            ));
        }
        let target_id = match &req.to {
            Some(to) => to.clone(),
            None => {
                let cur = rows::load_batch(&mut tx, &t, &current).await?;
                cur.parent.ok_or_else(|| {
                    crate::catalog::rules::no_earlier_batch(&t.table.ident, partition, &current)
                })?
            }
        };
        let target = rows::load_batch(&mut tx, &t, &target_id).await?;
        if target.partition != *partition {
            return Err(crate::catalog::rules::wrong_partition(
                &t.table.ident,
                &target_id,
                &target.partition,
                partition,
            ));
        }
        if target.state != BatchState::Committed {
            return Err(Error::invalid(
                Code::BatchNotCommitted,
                format!(
                    "batch {target_id} was never published ({}); only published batches can be rolled back to",
                    target.state.as_str()
                ),
            ));
        }
        if target_id == current {
            return Err(Error::invalid(
                Code::AlreadyCurrent,
                format!(
                    "batch {target_id} is already the current batch of {} {partition}",
                    t.table.ident
                ),
            ));
        }
        let event = move_pointer(
            &mut tx,
            self.now(),
            PointerMove {
                ctx,
                t: &t,
                partition_id: p.id,
                partition,
                version: p.version,
                from: Some(&current),
                to: &target,
                action: Action::Rollback,
                commit_id: None,
                message: req.message.as_deref(),
            },
        )
        .await?;
        if crate::faults::active("ack_before_commit") {
            // The negative control of the crash loop: answer first, commit
            // later (the row locks stay held until then).
            tokio::spawn(async move {
                tokio::time::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY).await;
                if let Err(e) = tx.commit().await {
                    tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
                }
            });
            return Ok(event);
        }
        tx.commit().await?;
        Ok(event)
    }
}
