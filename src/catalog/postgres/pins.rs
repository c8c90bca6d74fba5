//! Pins: a consumer's named claim on a batch or on the table as of a time.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::PostgresCatalog;
use super::reads::{batch_as_of, table_by_id};
use super::rows::{self, NewEvent, TableLock, TableRow};
use crate::error::{Code, Error, Object, Result};
use crate::model::{
    Action, BatchId, BatchState, Context, NewPin, PartitionValues, Pin, PinName, PinTarget,
    TableIdent,
};

const PIN_COLUMNS: &str = "pn.name, pn.owner, pn.reason, pn.batch_id, pn.as_of, pn.created_at, \
    pn.expires_at, p.path, pn.table_id";

fn pin_from_row(row: &PgRow, t: &TableRow) -> Result<Pin> {
    let batch: Option<String> = row.try_get("batch_id")?;
    let target = match batch {
        Some(b) => PinTarget::Batch {
            partition: PartitionValues::from_stored(
                &t.table.partition_keys,
                &row.try_get::<String, _>("path")?,
            )?,
            batch: BatchId::parse(&b)?,
        },
        None => PinTarget::AsOf {
            at: row.try_get("as_of")?,
        },
    };
    Ok(Pin {
        table: t.table.ident.clone(),
        name: PinName::new(row.try_get::<String, _>("name")?)?,
        owner: row.try_get("owner")?,
        reason: row.try_get("reason")?,
        target,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn pin_not_found(t: &TableRow, name: &PinName) -> Error {
    crate::catalog::rules::pin_not_found(&t.table.ident, name)
}

impl PostgresCatalog {
    pub(super) async fn get_pin_in(
        &self,
        conn: &mut PgConnection,
        t: &TableRow,
        name: &PinName,
    ) -> Result<Pin> {
        let sql = format!(
            "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
             WHERE pn.table_id = $1 AND pn.name = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id)
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| pin_not_found(t, name))?;
        pin_from_row(&row, t)
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
        if pin.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::invalid(
                Code::InvalidExpiry,
                "a pin's expiry must be in the future",
            ));
        }
        let (partition_id, batch_id, as_of) = match &pin.target {
            PinTarget::Batch { partition, batch } => {
                let b = rows::load_batch(&mut tx, &t, batch).await?;
                if b.partition != *partition {
                    return Err(crate::catalog::rules::wrong_partition(
                        &t.table.ident,
                        batch,
                        &b.partition,
                        partition,
                    ));
                }
                if b.state != BatchState::Committed {
                    return Err(Error::invalid(
                        Code::BatchNotCommitted,
                        format!(
                            "batch {batch} was never published; only published batches can be pinned"
                        ),
                    ));
                }
                let p = rows::find_partition(&mut tx, t.id, partition, false)
                    .await?
                    .ok_or_else(|| rows::never_published(&t, partition))?;
                (Some(p.id), Some(batch.as_str()), None)
            }
            PinTarget::AsOf { at } => {
                if *at > now {
                    return Err(Error::invalid(
                        Code::InvalidAsOf,
                        "a pin's as-of time must not be in the future",
                    ));
                }
                (None, None, Some(rows::micros(*at)))
            }
        };
        // The unique index decides a race between two creators of one name.
        let inserted = sqlx::query(
            "INSERT INTO pins (table_id, name, owner, reason, partition_id, batch_id, as_of, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (table_id, name) DO NOTHING",
        )
        .bind(t.id)
        .bind(pin.name.as_str())
        .bind(&pin.owner)
        .bind(&pin.reason)
        .bind(partition_id)
        .bind(batch_id)
        .bind(as_of)
        .bind(now)
        .bind(pin.expires_at.map(rows::micros))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Pin,
                name: format!("{} on {ident}", pin.name),
            });
        }
        let out = self.get_pin_in(&mut tx, &t, &pin.name).await?;
        let mut e = NewEvent::new(ctx, Action::CreatePin).on_table(&t);
        if let PinTarget::Batch { partition, batch } = &out.target {
            e.partition = Some(partition.path());
            e.to = Some(batch);
        }
        e.message = pin.reason.as_deref();
        e.details = Some(serde_json::to_value(&out).unwrap_or_default());
        rows::insert_event(&mut tx, now, e).await?;
        if crate::faults::active("ack_before_commit") {
            // The negative control of the crash loop: answer first, commit
            // later.
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
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT DISTINCT pn.table_id FROM pins pn JOIN tables t ON t.id = pn.table_id \
                     WHERE t.dropped_at IS NULL ORDER BY pn.table_id",
                )
                .fetch_all(&mut *tx)
                .await?;
                let mut v = Vec::with_capacity(ids.len());
                for id in ids {
                    v.push(table_by_id(&mut tx, id).await?);
                }
                v
            }
        };
        let mut out = Vec::new();
        for t in &tables {
            let sql = format!(
                "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
                 WHERE pn.table_id = $1 ORDER BY pn.name"
            );
            let rs = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(t.id)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rs {
                out.push(pin_from_row(r, t)?);
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
        let deleted = sqlx::query("DELETE FROM pins WHERE table_id = $1 AND name = $2")
            .bind(t.id)
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            // Another delete of the same pin committed first.
            return Err(pin_not_found(&t, name));
        }
        let mut e = NewEvent::new(ctx, Action::DeletePin).on_table(&t);
        if let PinTarget::Batch { partition, batch } = &pin.target {
            e.partition = Some(partition.path());
            e.from = Some(batch);
        }
        e.details = Some(serde_json::to_value(&pin).unwrap_or_default());
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
        let sql = format!(
            "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
             WHERE pn.table_id = $1 AND (pn.batch_id = $2 OR pn.as_of IS NOT NULL) \
             AND (pn.expires_at IS NULL OR pn.expires_at > $3) ORDER BY pn.name"
        );
        let rs = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id)
            .bind(batch.as_str())
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::new();
        for r in &rs {
            let pin = pin_from_row(r, &t)?;
            let holds = match &pin.target {
                PinTarget::Batch { .. } => true,
                PinTarget::AsOf { at } => {
                    batch_as_of(&mut tx, p.id, *at).await?.as_ref() == Some(batch)
                }
            };
            if holds {
                out.push(pin);
            }
        }
        Ok(out)
    }
}
