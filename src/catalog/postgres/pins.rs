//! Pins: a consumer's named claim on a batch or on the table as of a time.

use sqlx::PgConnection;

use super::PostgresCatalog;
use super::reads::batch_as_of;
use super::rows::{self, TableLock};
use super::statements as sql;
use crate::catalog::row::{self, NewEvent, TableRow};
use crate::catalog::{errors, rules};
use crate::error::{Error, Object, Result};
use crate::model::{Action, BatchId, Context, NewPin, Pin, PinName, PinTarget, TableIdent};

impl PostgresCatalog {
    pub(super) async fn get_pin_in(
        &self,
        conn: &mut PgConnection,
        t: &TableRow,
        name: &PinName,
    ) -> Result<Pin> {
        let r = sqlx::query(sql::PIN)
            .bind(t.id)
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| errors::pin_not_found(&t.table.ident, name))?;
        row::pin(&r, t)
    }

    pub(super) async fn create_pin_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        pin: &NewPin,
    ) -> Result<Pin> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let now = self.now();
        rules::pin_times(pin, now)?;
        let (partition_id, batch_id, as_of) = match &pin.target {
            PinTarget::Batch { partition, batch } => {
                let b = rows::load_batch(&mut tx, &t, batch).await?;
                rules::pinnable(&t.table.ident, partition, &b)?;
                let p = rows::find_partition(&mut tx, t.id, partition, false)
                    .await?
                    .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
                (Some(p.id), Some(batch.as_str()), None)
            }
            PinTarget::AsOf { at } => (None, None, Some(row::micros(*at))),
        };
        let inserted = sqlx::query(sql::INSERT_PIN)
            .bind(t.id)
            .bind(pin.name.as_str())
            .bind(&pin.owner)
            .bind(&pin.reason)
            .bind(partition_id)
            .bind(batch_id)
            .bind(as_of)
            .bind(now)
            .bind(pin.expires_at.map(row::micros))
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(errors::already_exists(
                Object::Pin,
                format!("{} on {ident}", pin.name),
            ));
        }
        let out = self.get_pin_in(&mut tx, &t, &pin.name).await?;
        let e = NewEvent::pin(ctx, Action::CreatePin, &t, &out, pin.reason.as_deref());
        rows::insert_event(&mut tx, now, e).await?;
        super::pointer::commit(tx, out).await
    }

    pub(super) async fn get_pin_impl(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        self.get_pin_in(&mut tx, &t, name).await
    }

    pub(super) async fn list_pins_impl(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        let mut tx = self.read().await?;
        let tables = match ident {
            Some(i) => vec![rows::live_table(&mut tx, i, TableLock::None).await?],
            None => {
                let ids: Vec<i64> = sqlx::query_scalar(sql::PINNED_TABLES)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut v = Vec::with_capacity(ids.len());
                for id in ids {
                    v.push(rows::table_by_id(&mut tx, id).await?);
                }
                v
            }
        };
        let mut out = Vec::new();
        for t in &tables {
            let rs = sqlx::query(sql::TABLE_PINS)
                .bind(t.id)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rs {
                out.push(row::pin(r, t)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn delete_pin_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        name: &PinName,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::Share).await?;
        let pin = self.get_pin_in(&mut tx, &t, name).await?;
        let deleted = sqlx::query(sql::DELETE_PIN)
            .bind(t.id)
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            // Another delete of the same pin committed first.
            return Err(errors::pin_not_found(&t.table.ident, name));
        }
        let e = NewEvent::pin(ctx, Action::DeletePin, &t, &pin, None);
        rows::insert_event(&mut tx, self.now(), e).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn pins_holding_impl(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Vec<Pin>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let b = rows::load_batch(&mut tx, &t, batch).await?;
        let p = rows::find_partition(&mut tx, t.id, &b.partition, false)
            .await?
            .ok_or_else(|| Error::Internal("a batch without its partition".into()))?;
        let now = self.now();
        pins_holding_in(&mut tx, &t, p.id, batch, now).await
    }
}

/// The unexpired pins of `t` that hold `batch` (of partition `pid`) at
/// `now`, in the caller's transaction.
pub(super) async fn pins_holding_in(
    conn: &mut PgConnection,
    t: &TableRow,
    pid: i64,
    batch: &BatchId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Pin>> {
    let rs = sqlx::query(sql::PINS_HOLDING)
        .bind(t.id)
        .bind(batch.as_str())
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::new();
    for r in &rs {
        let pin = row::pin(r, t)?;
        let holds = match &pin.target {
            PinTarget::Batch { .. } => true,
            PinTarget::AsOf { at } => {
                batch_as_of(&mut *conn, pid, *at).await?.as_ref() == Some(batch)
            }
        };
        if holds {
            out.push(pin);
        }
    }
    Ok(out)
}
