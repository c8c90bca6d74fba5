//! Pins: a consumer's named claim on a batch or on the table as of a time.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::SqliteCatalog;
use super::reads::batch_as_of;
use super::rows::{self, NewEvent, TableRow, micros, time};
use crate::error::{Code, Error, Object, Result};
use crate::model::{
    Action, BatchId, BatchState, Context, NewPin, PartitionValues, Pin, PinName, PinTarget,
    TableIdent,
};

const PIN_COLUMNS: &str = "pn.name, pn.owner, pn.reason, pn.batch_id, pn.as_of, pn.created_at, \
    pn.expires_at, p.path, pn.table_id";

fn pin_from_row(row: &SqliteRow, t: &TableRow) -> Result<Pin> {
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
            at: time(row.try_get("as_of")?),
        },
    };
    Ok(Pin {
        table: t.table.ident.clone(),
        name: PinName::new(row.try_get::<String, _>("name")?)?,
        owner: row.try_get("owner")?,
        reason: row.try_get("reason")?,
        target,
        created_at: time(row.try_get("created_at")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(time),
    })
}

impl SqliteCatalog {
    pub(super) async fn get_pin_in(
        &self,
        conn: &mut SqliteConnection,
        t: &TableRow,
        name: &PinName,
    ) -> Result<Pin> {
        let sql = format!(
            "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
             WHERE pn.table_id = ? AND pn.name = ?"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id)
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| crate::catalog::rules::pin_not_found(&t.table.ident, name))?;
        pin_from_row(&row, t)
    }

    pub(super) async fn create_pin_impl(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        pin: &NewPin,
    ) -> Result<Pin> {
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let now = self.now();
        if pin.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::invalid(
                Code::InvalidExpiry,
                "a pin's expiry must be in the future",
            ));
        }
        let (partition_id, batch_id, as_of) = match &pin.target {
            PinTarget::Batch { partition, batch } => {
                let b = rows::load_batch(&mut w.tx, &t, batch).await?;
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
                let p = rows::find_partition(&mut w.tx, t.id, partition)
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
                (None, None, Some(micros(*at)))
            }
        };
        let inserted = sqlx::query(
            "INSERT INTO pins (table_id, name, owner, reason, partition_id, batch_id, as_of, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, name) DO NOTHING",
        )
        .bind(t.id)
        .bind(pin.name.as_str())
        .bind(&pin.owner)
        .bind(&pin.reason)
        .bind(partition_id)
        .bind(batch_id)
        .bind(as_of)
        .bind(micros(now))
        .bind(pin.expires_at.map(micros))
        .execute(&mut *w.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Pin,
                name: format!("{} on {ident}", pin.name),
            });
        }
        let out = self.get_pin_in(&mut w.tx, &t, &pin.name).await?;
        let mut e = NewEvent::new(ctx, Action::CreatePin).on_table(&t);
        if let PinTarget::Batch { partition, batch } = &out.target {
            e.partition = Some(partition.path());
            e.to = Some(batch);
        }
        e.message = pin.reason.as_deref();
        e.details = Some(serde_json::to_value(&out).unwrap_or_default());
        rows::insert_event(&mut w.tx, now, e).await?;
        if crate::faults::active("ack_before_commit") {
            // The negative control of the crash loop: answer first, commit
            // later (still holding the writer lock).
            tokio::spawn(async move {
                tokio::time::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY).await;
                if let Err(e) = w.tx.commit().await {
                    tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
                }
            });
            return Ok(out);
        }
        w.tx.commit().await?;
        Ok(out)
    }

    pub(super) async fn get_pin_impl(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident).await?;
        self.get_pin_in(&mut tx, &t, name).await
    }

    pub(super) async fn list_pins_impl(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        let mut tx = self.read().await?;
        let tables = match ident {
            Some(i) => vec![rows::live_table(&mut tx, i).await?],
            None => {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT DISTINCT pn.table_id FROM pins pn JOIN tables t ON t.id = pn.table_id \
                     WHERE t.dropped_at IS NULL",
                )
                .fetch_all(&mut *tx)
                .await?;
                let mut v = Vec::with_capacity(ids.len());
                for id in ids {
                    v.push(self.table_by_id(&mut tx, id).await?);
                }
                v
            }
        };
        let mut out = Vec::new();
        for t in &tables {
            let sql = format!(
                "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
                 WHERE pn.table_id = ? ORDER BY pn.name"
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
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let pin = self.get_pin_in(&mut w.tx, &t, name).await?;
        sqlx::query("DELETE FROM pins WHERE table_id = ? AND name = ?")
            .bind(t.id)
            .bind(name.as_str())
            .execute(&mut *w.tx)
            .await?;
        let mut e = NewEvent::new(ctx, Action::DeletePin).on_table(&t);
        if let PinTarget::Batch { partition, batch } = &pin.target {
            e.partition = Some(partition.path());
            e.from = Some(batch);
        }
        e.details = Some(serde_json::to_value(&pin).unwrap_or_default());
        rows::insert_event(&mut w.tx, self.now(), e).await?;
        w.tx.commit().await?;
        Ok(())
    }

    pub(super) async fn pins_holding_impl(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Vec<Pin>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident).await?;
        let b = rows::load_batch(&mut tx, &t, batch).await?;
        let p = rows::find_partition(&mut tx, t.id, &b.partition)
            .await?
            .ok_or_else(|| Error::Internal("a batch without its partition".into()))?;
        let now = self.now();
        let sql = format!(
            "SELECT {PIN_COLUMNS} FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id \
             WHERE pn.table_id = ? AND (pn.batch_id = ? OR pn.as_of IS NOT NULL) \
             AND (pn.expires_at IS NULL OR pn.expires_at > ?) ORDER BY pn.name"
        );
        let rs = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.id)
            .bind(batch.as_str())
            .bind(micros(now))
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
