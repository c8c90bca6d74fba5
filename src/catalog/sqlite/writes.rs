//! Stage, record files, publish, roll back: the write protocol of DESIGN §4.

use std::collections::HashSet;

use arrow_schema::Schema;
use sqlx::{Row, SqliteConnection};

use super::SqliteCatalog;
use super::rows::{self, NewEvent, TableRow, micros, to_json};
use crate::error::{Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Commit, Context, DataFile, Event, Expect, PartitionValues,
    PublishPlan, RollbackRequest, StageRequest, TableIdent, fingerprint, schemas_compatible,
};
use crate::storage;

/// The partition row id for `values`, created (unpublished) if missing.
async fn ensure_partition(
    conn: &mut SqliteConnection,
    t: &TableRow,
    values: &PartitionValues,
    now: i64,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO partitions (table_id, path, sort_key, version, updated_at) VALUES (?, ?, ?, 0, ?) \
         ON CONFLICT (table_id, path) DO NOTHING",
    )
    .bind(t.id)
    .bind(values.path())
    .bind(values.sort_key(&t.table.partition_keys))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM partitions WHERE table_id = ? AND path = ?")
            .bind(t.id)
            .bind(values.path())
            .fetch_one(&mut *conn)
            .await?,
    )
}

fn conflict(
    t: &TableRow,
    values: &PartitionValues,
    expect: &Expect,
    current: Option<&BatchId>,
) -> Error {
    let wanted = match expect {
        Expect::Empty => "no batch (a first publish)".to_owned(),
        Expect::Batch(b) => format!("batch {b}"),
    };
    let (now, hint) = match current {
        Some(c) => (
            format!("its current batch is {c}"),
            format!("re-read the partition and retry with expected batch {c}"),
        ),
        None => (
            "it has never been published".to_owned(),
            "retry expecting an empty partition".to_owned(),
        ),
    };
    Error::Conflict {
        message: format!(
            "conflict on {} {values}: expected {wanted}, but {now}; hint: {hint}",
            t.table.ident
        ),
        current: current.cloned(),
    }
}

impl SqliteCatalog {
    pub(super) async fn stage_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        let mut w = self.write_relaxed().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let now = self.now();
        let mut ids = Vec::with_capacity(req.partitions.len());
        for values in &req.partitions {
            let pid = ensure_partition(&mut w.tx, &t, values, micros(now)).await?;
            if let Some(key) = &req.idempotency_key {
                let existing: Option<String> = sqlx::query_scalar(
                    "SELECT batch_id FROM batches WHERE partition_id = ? AND idempotency_key = ?",
                )
                .bind(pid)
                .bind(key)
                .fetch_optional(&mut *w.tx)
                .await?;
                if let Some(id) = existing {
                    ids.push(BatchId::parse(&id)?);
                    continue;
                }
            }
            let last: Option<String> = sqlx::query_scalar("SELECT max(batch_id) FROM batches")
                .fetch_one(&mut *w.tx)
                .await?;
            let last = last.map(|s| BatchId::parse(&s)).transpose()?;
            let id = BatchId::mint(now, last.as_ref());
            sqlx::query(
                "INSERT INTO batches (batch_id, partition_id, location, state, principal, message, \
                 metadata, idempotency_key, created_at) VALUES (?, ?, ?, 'staged', ?, ?, ?, ?, ?)",
            )
            .bind(id.as_str())
            .bind(pid)
            .bind(storage::batch_location(&t.table.location, values, &id))
            .bind(&ctx.principal)
            .bind(&req.message)
            .bind(to_json(&req.metadata)?)
            .bind(&req.idempotency_key)
            .bind(micros(now))
            .execute(&mut *w.tx)
            .await?;
            ids.push(id);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(rows::load_batch(&mut w.tx, &t, id).await?);
        }
        w.tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn record_files_impl(
        &self,
        ident: &TableIdent,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<Batch> {
        let mut w = self.write_relaxed().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let b = rows::load_batch_row(&mut w.tx, &t, id).await?;
        if b.batch.state != BatchState::Staged {
            return Err(Error::invalid(
                "batch_not_staged",
                format!(
                    "batch {id} is {}: its files can no longer change; stage a new batch",
                    b.batch.state.as_str()
                ),
            ));
        }
        if let Some(existing) = &b.batch.schema {
            schemas_compatible(existing, schema).map_err(|e| Error::SchemaMismatch {
                message: format!("all files of a batch must share one schema: {e}"),
            })?;
        }
        for f in files {
            if !storage::is_inside(&b.batch.location, &f.path) {
                return Err(Error::invalid(
                    "file_outside_prefix",
                    format!(
                        "file {:?} is outside batch {id}'s prefix {}: write a batch's files under its own prefix only",
                        f.path, b.batch.location
                    ),
                ));
            }
            if let Some(old) = b.batch.files.iter().find(|o| o.path == f.path) {
                if old != f {
                    return Err(Error::invalid(
                        "file_changed",
                        format!(
                            "file {:?} was already recorded with another size or row count",
                            f.path
                        ),
                    ));
                }
                continue;
            }
            sqlx::query("INSERT INTO batch_files (batch_pk, path, size, rows) VALUES (?, ?, ?, ?)")
                .bind(b.pk)
                .bind(&f.path)
                .bind(f.size as i64)
                .bind(f.rows as i64)
                .execute(&mut *w.tx)
                .await?;
        }
        sqlx::query(
            "UPDATE batches SET rows = (SELECT coalesce(sum(rows), 0) FROM batch_files WHERE batch_pk = ?1), \
             bytes = (SELECT coalesce(sum(size), 0) FROM batch_files WHERE batch_pk = ?1), \
             file_count = (SELECT count(*) FROM batch_files WHERE batch_pk = ?1), \
             schema = ?2, schema_fingerprint = ?3 WHERE id = ?1",
        )
        .bind(b.pk)
        .bind(to_json(schema)?)
        .bind(fingerprint(schema))
        .execute(&mut *w.tx)
        .await?;
        let out = rows::load_batch(&mut w.tx, &t, id).await?;
        w.tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn discard_impl(&self, ident: &TableIdent, id: &BatchId) -> Result<()> {
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let b = rows::load_batch_row(&mut w.tx, &t, id).await?;
        if b.batch.state != BatchState::Staged {
            return Err(Error::invalid(
                "batch_not_staged",
                format!("batch {id} was published; published batches are never discarded"),
            ));
        }
        let pid: i64 = sqlx::query_scalar("SELECT partition_id FROM batches WHERE id = ?")
            .bind(b.pk)
            .fetch_one(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM batch_files WHERE batch_pk = ?")
            .bind(b.pk)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM batches WHERE id = ? AND state = 'staged'")
            .bind(b.pk)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "DELETE FROM partitions WHERE id = ? AND current_batch IS NULL AND version = 0 \
             AND NOT EXISTS (SELECT 1 FROM batches WHERE partition_id = ?)",
        )
        .bind(pid)
        .bind(pid)
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
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
                "empty_publish",
                "a publish needs at least one partition",
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = plan.items.iter().find(|i| !seen.insert(i.partition.path())) {
            return Err(Error::invalid(
                "duplicate_partition",
                format!("partition {} appears twice in one publish", dup.partition),
            ));
        }
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let mut batches = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let b = rows::load_batch_row(&mut w.tx, &t, &item.batch).await?;
            if b.batch.partition != item.partition {
                return Err(Error::invalid(
                    "batch_partition_mismatch",
                    format!(
                        "batch {} belongs to partition {}, not {}",
                        item.batch, b.batch.partition, item.partition
                    ),
                ));
            }
            batches.push(b);
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
                let evs = sqlx::query("SELECT * FROM events WHERE commit_id = ? ORDER BY id")
                    .bind(&commit_id)
                    .fetch_all(&mut *w.tx)
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
                        "batch_already_published",
                        format!(
                            "batch {} was already published; to make it current again use rollback --to {}",
                            b.batch.id, b.batch.id
                        ),
                    ));
                }
                BatchState::Abandoned => {
                    return Err(Error::invalid(
                        "batch_abandoned",
                        format!(
                            "batch {} was abandoned; stage and write a new batch",
                            b.batch.id
                        ),
                    ));
                }
            }
            if b.batch.files.is_empty() {
                return Err(Error::invalid(
                    "empty_batch",
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
                "UPDATE tables SET schema = ?, schema_version = schema_version + 1, updated_at = ? \
                 WHERE id = ? AND schema_version = ?",
            )
            .bind(to_json(&change.schema)?)
            .bind(micros(now))
            .bind(t.id)
            .bind(change.from_version)
            .execute(&mut *w.tx)
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
            rows::insert_event(&mut w.tx, now, e).await?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let mut events = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = rows::find_partition(&mut w.tx, t.id, &item.partition)
                .await?
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            if let Some(expect) = &item.expect {
                let ok = match expect {
                    Expect::Empty => p.current.is_none(),
                    Expect::Batch(e) => p.current.as_ref() == Some(e),
                };
                if !ok {
                    return Err(conflict(&t, &item.partition, expect, p.current.as_ref()));
                }
            }
            let event = move_pointer(
                &mut w.tx,
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
                "UPDATE batches SET state = 'committed', parent_batch = ?, committed_at = ?, commit_id = ? \
                 WHERE id = ? AND state = 'staged'",
            )
            .bind(p.current.as_ref().map(BatchId::as_str))
            .bind(micros(event.at))
            .bind(&commit_id)
            .bind(b.pk)
            .execute(&mut *w.tx)
            .await?;
            events.push(event);
        }
        crate::faults::crash_point("crash_before_commit");
        if crate::faults::active("ack_before_commit") {
            // The negative control of the crash loop: answer first, commit
            // later (the writer lock stays held until then).
            tokio::spawn(async move {
                tokio::time::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY).await;
                if let Err(e) = w.tx.commit().await {
                    tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
                }
            });
            return Ok(Commit { commit_id, events });
        }
        w.tx.commit().await?;
        Ok(Commit { commit_id, events })
    }

    pub(super) async fn rollback_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let (p, current) = rows::published_partition(&mut w.tx, &t, partition).await?;
        if let Some(expect) = req.expect.as_ref().filter(|e| **e != current) {
            return Err(conflict(
                &t,
                partition,
                &Expect::Batch(expect.clone()),
                Some(&current),
            ));
        }
        let target_id = match &req.to {
            Some(to) => to.clone(),
            None => {
                let cur = rows::load_batch(&mut w.tx, &t, &current).await?;
                cur.parent.ok_or_else(|| {
                    Error::invalid(
                        "no_parent",
                        format!(
                            "{} {partition} has no earlier batch to roll back to: its current batch {current} was its first publish; hint: use rollback --to BATCH to pick one from `meta history`",
                            t.table.ident
                        ),
                    )
                })?
            }
        };
        let target = rows::load_batch(&mut w.tx, &t, &target_id).await?;
        if target.partition != *partition {
            return Err(Error::invalid(
                "batch_partition_mismatch",
                format!(
                    "batch {target_id} belongs to partition {}, not {partition}",
                    target.partition
                ),
            ));
        }
        if target.state != BatchState::Committed {
            return Err(Error::invalid(
                "batch_not_committed",
                format!(
                    "batch {target_id} was never published ({}); only published batches can be rolled back to",
                    target.state.as_str()
                ),
            ));
        }
        if target_id == current {
            return Err(Error::invalid(
                "already_current",
                format!(
                    "batch {target_id} is already the current batch of {} {partition}",
                    t.table.ident
                ),
            ));
        }
        let event = move_pointer(
            &mut w.tx,
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
        w.tx.commit().await?;
        Ok(event)
    }
}

struct PointerMove<'a> {
    ctx: &'a Context,
    t: &'a TableRow,
    partition_id: i64,
    partition: &'a PartitionValues,
    version: i64,
    from: Option<&'a BatchId>,
    to: &'a Batch,
    action: Action,
    commit_id: Option<&'a str>,
    message: Option<&'a str>,
}

/// The compare-and-swap of one pointer and its event, in the caller's
/// transaction: exactly one row must change, or it is a conflict.
async fn move_pointer(
    conn: &mut SqliteConnection,
    now: chrono::DateTime<chrono::Utc>,
    m: PointerMove<'_>,
) -> Result<Event> {
    let mut e = NewEvent::new(m.ctx, m.action).on_table(m.t);
    e.partition_id = Some(m.partition_id);
    e.partition = Some(m.partition.path());
    e.from = m.from;
    e.to = Some(&m.to.id);
    e.commit_id = m.commit_id;
    e.message = m.message;
    e.batch = Some(m.to);
    let event = rows::insert_event(conn, now, e).await?;
    let updated = sqlx::query(
        "UPDATE partitions SET current_batch = ?, version = version + 1, updated_at = ? \
         WHERE id = ? AND version = ?",
    )
    .bind(m.to.id.as_str())
    .bind(micros(event.at))
    .bind(m.partition_id)
    .bind(m.version)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        let current: Option<String> =
            sqlx::query("SELECT current_batch FROM partitions WHERE id = ?")
                .bind(m.partition_id)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
        return Err(Error::Conflict {
            message: format!(
                "conflict on {} {}: another writer moved the pointer first; hint: retry",
                m.t.table.ident, m.partition
            ),
            current: current.map(|c| BatchId::parse(&c)).transpose()?,
        });
    }
    Ok(event)
}
