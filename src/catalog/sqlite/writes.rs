//! Discard and roll back, and the checks the publish (in `direct`) shares:
//! the write protocol of DESIGN §4. Stage, record files and publish run on
//! plain connections, see `direct.rs`.

use std::collections::HashSet;

use sqlx::{Row, SqliteConnection};

use super::SqliteCatalog;
use super::rows::{self, NewEvent, TableRow, micros};
use crate::error::{Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Context, Event, Expect, PartitionValues, PublishPlan,
    RollbackRequest, TableIdent,
};

pub(super) fn conflict(
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

/// The checks of a publish plan that need no database: at least one
/// partition, none twice.
pub(super) fn plan_is_well_formed(plan: &PublishPlan) -> Result<()> {
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
    Ok(())
}

impl SqliteCatalog {
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
