//! The pointer moves: publish and roll back, each a compare-and-swap of
//! partition pointers and their events in one transaction (DESIGN §4).
//!
//! A pointer is read under its partition row's lock, so a compare-and-swap
//! decides on the committed pointer, and the conditional `UPDATE ... WHERE
//! version = $n` must still change exactly one row.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use super::PostgresCatalog;
use super::rows::{self, TableLock, jsonb};
use super::statements as sql;
use crate::catalog::lineage;
use crate::catalog::row::{self, BatchRow, NewEvent, PartitionRow, TableRow};
use crate::catalog::rules::{self, Retried};
use crate::error::{Error, Result};
use crate::model::{
    Action, BatchId, Commit, Context, Event, PartitionValues, PublishPlan, RollbackRequest,
    TableIdent, WrittenFiles,
};

/// Appends the events `moves` (each moves partition `p`'s pointer to
/// `e.to`) and compare-and-swaps the pointers in the caller's transaction,
/// in a fixed number of round trips: every row must change, or another
/// writer moved one first.
async fn move_pointers(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    t: &TableRow,
    moves: Vec<(&PartitionValues, &PartitionRow, NewEvent<'_>)>,
) -> Result<Vec<Event>> {
    let mut targets = Vec::with_capacity(moves.len());
    for (_, _, e) in &moves {
        let to =
            e.to.ok_or_else(|| Error::Internal("a pointer move without a target".into()))?;
        targets.push(to.as_str().to_owned());
    }
    let (places, events): (Vec<_>, Vec<_>) = moves.into_iter().map(|(v, p, e)| ((v, p), e)).unzip();
    let events = rows::insert_events(conn, now, &events).await?;
    let statement = match (
        crate::faults::active("read_then_update_publish"),
        places.len(),
    ) {
        (true, 1) => sql::MOVE_POINTER_UNCHECKED,
        (true, _) => sql::MOVE_POINTERS_UNCHECKED,
        (false, 1) => sql::MOVE_POINTER,
        (false, _) => sql::MOVE_POINTERS,
    };
    let moved: Vec<i64> = sqlx::query_scalar(statement)
        .bind(&targets)
        .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(places.iter().map(|(_, p)| p.id).collect::<Vec<_>>())
        .bind(places.iter().map(|(_, p)| p.version).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
    let moved: HashSet<i64> = moved.into_iter().collect();
    if let Some((values, p)) = places.iter().find(|(_, p)| !moved.contains(&p.id)) {
        let current: Option<String> = sqlx::query_scalar(sql::CURRENT_BATCH)
            .bind(p.id)
            .fetch_one(&mut *conn)
            .await?;
        return Err(crate::catalog::errors::lost_race(
            &t.table.ident,
            values,
            current.map(|c| BatchId::parse(&c)).transpose()?,
        ));
    }
    Ok(events)
}

/// Commits, or under the `ack_before_commit` fault (the crash loop's
/// negative control) answers first and commits later (the row locks stay
/// held until then).
pub(super) async fn commit<T>(tx: Transaction<'static, Postgres>, out: T) -> Result<T> {
    if crate::faults::active("ack_before_commit") {
        tokio::spawn(async move {
            tokio::time::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY).await;
            if let Err(e) = tx.commit().await {
                tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
            }
        });
        return Ok(out);
    }
    tx.commit().await?;
    Ok(out)
}

impl PostgresCatalog {
    pub(super) async fn publish_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        rules::plan_is_well_formed(plan)?;
        if written
            .iter()
            .any(|w| !plan.items.iter().any(|i| i.batch == w.batch))
        {
            return Err(Error::Internal(
                "files to record for a batch this commit does not publish".into(),
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
        let ids: Vec<BatchId> = plan.items.iter().map(|i| i.batch.clone()).collect();
        let found = rows::find_batch_rows(&mut tx, &t, &ids).await?;
        for (item, b) in plan.items.iter().zip(&found) {
            rules::in_its_partition(&t.table.ident, item, &b.batch)?;
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
        let mut batches = rows::load_batch_rows(&mut tx, &t, &ids).await?;
        if !written.is_empty() {
            // A store's files are recorded here, in the publish's
            // transaction, under the batch locks just taken (one commit
            // instead of two); then the batches are read again with them.
            let by_id: HashMap<&BatchId, &BatchRow> =
                batches.iter().map(|b| (&b.batch.id, b)).collect();
            let mut seen = HashSet::with_capacity(written.len());
            let mut writes = Vec::with_capacity(written.len());
            for w in written {
                let b = by_id
                    .get(&w.batch)
                    .ok_or_else(|| Error::Internal("written files of an unknown batch".into()))?;
                if !seen.insert(b.pk) {
                    return Err(Error::Internal(
                        "files of one batch handed over twice in one publish".into(),
                    ));
                }
                writes.push((*b, w.files.as_slice(), &w.schema));
            }
            super::writes::record_locked(&mut tx, &writes).await?;
            batches = rows::load_batch_rows(&mut tx, &t, &ids).await?;
        }
        match rules::retried(plan, &batches) {
            Retried::No => {}
            Retried::Answer(commit_id) => {
                let rs = sqlx::query(sql::COMMIT_EVENTS)
                    .bind(commit_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let events = rs.iter().map(row::event).collect::<Result<Vec<_>>>()?;
                return Ok(Commit {
                    commit_id: commit_id.to_owned(),
                    events,
                });
            }
            Retried::Conflict(item, expect) => {
                let current = rows::find_partition(&mut tx, t.id, &item.partition, false)
                    .await?
                    .and_then(|p| p.current);
                return Err(crate::catalog::errors::conflict(
                    &t.table.ident,
                    &item.partition,
                    expect,
                    current.as_ref(),
                ));
            }
        }
        rules::publishable(&t, plan, &batches)?;
        let inputs = lineage::plan_inputs(plan)?;
        let input_pks = super::lineage::input_pks(&mut tx, &inputs).await?;
        let now = self.now();
        if let Some(change) = &plan.schema_change {
            let changed = sqlx::query(sql::CHANGE_SCHEMA)
                .bind(jsonb(&change.schema))
                .bind(now)
                .bind(t.id)
                .bind(change.from_version)
                .execute(&mut *tx)
                .await?;
            if changed.rows_affected() != 1 {
                return Err(Error::SchemaChanged);
            }
            let mut e = NewEvent::new(ctx, Action::UpdateSchema).on_table(&t);
            e.details = Some(rules::schema_change_details(change));
            rows::insert_event(&mut tx, now, e).await?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let part_of: HashMap<i64, &PartitionRow> = parts.iter().map(|p| (p.id, p)).collect();
        let mut moves = Vec::with_capacity(batches.len());
        let mut parents = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = *part_of
                .get(&b.partition_id)
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            rules::check_cas(&t.table.ident, item, p.current.as_ref())?;
            let mut e =
                NewEvent::pointer_move(ctx, Action::Publish, &t, p, &item.partition, &b.batch);
            e.commit_id = Some(&commit_id);
            e.message = rules::publish_message(plan, &b.batch);
            e.details = lineage::publish_details(&inputs);
            moves.push((&item.partition, p, e));
            parents.push(p.current.as_ref().map(BatchId::as_str));
        }
        let events = move_pointers(&mut tx, now, &t, moves).await?;
        let pks: Vec<i64> = batches.iter().map(|b| b.pk).collect();
        super::lineage::insert_inputs(&mut tx, &pks, &input_pks).await?;
        let statement = match pks.len() {
            1 => sql::COMMIT_BATCH,
            _ => sql::COMMIT_BATCHES,
        };
        sqlx::query(statement)
            .bind(&parents)
            .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
            .bind(&pks)
            .bind(&commit_id)
            .execute(&mut *tx)
            .await?;
        crate::faults::crash_point("crash_before_commit");
        commit(tx, Commit { commit_id, events }).await
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
        rules::rollback_expectation(&t.table.ident, partition, req, &current)?;
        let target_id = match &req.to {
            Some(to) => to.clone(),
            None => {
                let parent = rows::load_batch(&mut tx, &t, &current).await?.parent;
                rules::previous(&t.table.ident, partition, &current, parent)?
            }
        };
        let target = rows::load_batch(&mut tx, &t, &target_id).await?;
        rules::rollback_target(&t.table.ident, partition, &target, &current)?;
        let mut e = NewEvent::pointer_move(ctx, Action::Rollback, &t, &p, partition, &target);
        e.message = req.message.as_deref();
        let event = move_pointers(&mut tx, self.now(), &t, vec![(partition, &p, e)]).await?;
        commit(tx, rows::one(event)?).await
    }
}
