//! Retention marks (docs/retention.md): a batch becomes `expiring` in a
//! transaction that re-checks every rule on locked rows, then `expired`
//! with its audit event once its files are gone.
//!
//! The mark locks the table row `FOR NO KEY UPDATE`: publishes, rollbacks
//! and pins hold it `FOR SHARE` for their whole transaction, so the mark
//! waits for those in flight and reads what they committed, and those that
//! start later wait for the mark and then read the batch as `expiring`.

use super::PostgresCatalog;
use super::pins::pins_holding_in;
use super::rows::{self, TableLock};
use super::statements as sql;
use crate::catalog::retention::{self, GcRules, PartitionFacts};
use crate::catalog::row::{self, Columns, NewEvent};
use crate::error::{Error, Result};
use crate::model::{Batch, BatchId, BatchState, Context, Event, PartitionValues, TableIdent};

impl PostgresCatalog {
    pub(super) async fn record_orphans_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        files: &[(String, u64)],
    ) -> Result<Event> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let now = self.now();
        let event = rows::insert_event(&mut tx, now, NewEvent::orphans(ctx, &t, files)).await?;
        tx.commit().await?;
        Ok(event)
    }

    pub(super) async fn unpublished_partitions_impl(
        &self,
        ident: &TableIdent,
    ) -> Result<Vec<PartitionValues>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let rs = sqlx::query(sql::UNPUBLISHED_PARTITIONS)
            .bind(t.id)
            .fetch_all(&mut *tx)
            .await?;
        rs.iter()
            .map(|r| PartitionValues::from_stored(&t.table.partition_keys, r.text(0)?))
            .collect()
    }

    pub(super) async fn mark_expiring_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &GcRules,
    ) -> Result<Batch> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        let b = rows::load_batch_row(&mut tx, &t, batch).await?;
        if b.batch.state == BatchState::Expiring {
            return Ok(b.batch);
        }
        let p = rows::find_partition(&mut tx, t.id, &b.batch.partition, true)
            .await?
            .ok_or_else(|| Error::Internal("a batch without its partition".into()))?;
        let rs = sqlx::query(sql::PARTITION_BATCHES)
            .bind(b.partition_id)
            .fetch_all(&mut *tx)
            .await?;
        let batches = rs
            .iter()
            .map(|r| Ok(row::batch(r, &t)?.batch))
            .collect::<Result<Vec<_>>>()?;
        let rs = sqlx::query(sql::LEFT_CURRENT)
            .bind(b.partition_id)
            .fetch_all(&mut *tx)
            .await?;
        let left = rs
            .iter()
            .map(|r| Ok((r.batch_id(0)?, r.time(1)?)))
            .collect::<Result<Vec<_>>>()?;
        let now = self.now();
        let pins = pins_holding_in(&mut tx, &t, p.id, batch, now).await?;
        let facts = PartitionFacts {
            current: p.current.as_ref(),
            batches: &batches,
            left: &left,
        };
        retention::recheck(&b.batch, facts, &pins, rules, now)?;
        sqlx::query(sql::MARK_EXPIRING)
            .bind(b.pk)
            .bind(now)
            .bind(&ctx.principal)
            .bind(b.batch.files.len() as i64)
            .bind(b.batch.files.iter().map(|f| f.size).sum::<u64>() as i64)
            .execute(&mut *tx)
            .await?;
        let out = rows::load_batch(&mut tx, &t, batch).await?;
        tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn mark_expired_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Event> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Update).await?;
        let b = rows::load_batch_row(&mut tx, &t, batch).await?;
        retention::expirable(&b.batch)?;
        let now = self.now();
        sqlx::query(sql::MARK_EXPIRED)
            .bind(b.pk)
            .bind(now)
            .bind(&ctx.principal)
            .execute(&mut *tx)
            .await?;
        let expired = rows::load_batch(&mut tx, &t, batch).await?;
        let event = rows::insert_event(&mut tx, now, NewEvent::expire(ctx, &t, &expired)).await?;
        tx.commit().await?;
        Ok(event)
    }
}
