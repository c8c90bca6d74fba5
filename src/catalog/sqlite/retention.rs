//! Retention marks (docs/retention.md): a batch becomes `expiring` in a
//! transaction that re-checks every rule on the rows it reads (a
//! `BEGIN IMMEDIATE` write transaction: no publish, rollback or pin runs
//! beside it), then `expired` with its audit event once its files are gone.

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::retention::{self, GcRules, PartitionFacts};
use crate::catalog::row::{self, Columns, NewEvent};
use crate::error::{Error, Result};
use crate::model::{Batch, BatchId, BatchState, Context, Event, PartitionValues, TableIdent};

impl Tx<'_> {
    pub(super) fn record_orphans(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        files: &[(String, u64)],
    ) -> Result<Event> {
        let t = self.live_table(ident)?;
        self.insert_event(now, NewEvent::orphans(ctx, &t, files))
    }

    pub(super) fn unpublished_partitions(
        &self,
        ident: &TableIdent,
    ) -> Result<Vec<PartitionValues>> {
        let t = self.live_table(ident)?;
        self.all(sql::UNPUBLISHED_PARTITIONS, [t.id], |r| {
            PartitionValues::from_stored(&t.table.partition_keys, r.text(0)?)
        })
    }

    pub(super) fn mark_expiring(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &GcRules,
    ) -> Result<Batch> {
        let t = self.live_table(ident)?;
        let b = self.load_batch_row(&t, batch)?;
        if b.batch.state == BatchState::Expiring {
            return Ok(b.batch);
        }
        let p = self
            .partition(t.id, &b.batch.partition)?
            .ok_or_else(|| Error::Internal("a batch without its partition".into()))?;
        let batches = self.all(sql::PARTITION_BATCHES, [b.partition_id], |r| {
            Ok(row::batch(r, &t)?.batch)
        })?;
        let left = self.all(sql::LEFT_CURRENT, [b.partition_id], |r| {
            Ok((r.batch_id(0)?, r.time(1)?))
        })?;
        let pins = self.pins_holding(now, ident, batch)?;
        let facts = PartitionFacts {
            current: p.current.as_ref(),
            batches: &batches,
            left: &left,
        };
        retention::recheck(&b.batch, facts, &pins, rules, now)?;
        self.run(
            sql::MARK_EXPIRING,
            rusqlite::params![
                b.pk,
                micros(now),
                &ctx.principal,
                b.batch.files.len() as i64,
                b.batch.files.iter().map(|f| f.size).sum::<u64>() as i64,
            ],
        )?;
        self.load_batch(&t, batch)
    }

    pub(super) fn mark_expired(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Event> {
        let t = self.live_table(ident)?;
        let b = self.load_batch_row(&t, batch)?;
        retention::expirable(&b.batch)?;
        self.run(
            sql::MARK_EXPIRED,
            rusqlite::params![b.pk, micros(now), &ctx.principal],
        )?;
        let expired = self.load_batch(&t, batch)?;
        let e = NewEvent::expire(ctx, &t, &expired);
        self.insert_event(now, e)
    }
}
