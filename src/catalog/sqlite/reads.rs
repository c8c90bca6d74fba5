//! Resolve by pin, a partition's batches and the batches `verify` checks
//! (sqlx); the hot reads and the pages are in `direct`.

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

use super::SqliteCatalog;
use super::rows::{self, BATCH_COLUMNS, TableRow, micros};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, PartitionValues, PinTarget, Resolved, TableIdent, Version,
};

/// The batch that was current for partition `pid` at `at`, from the event log.
pub(super) async fn batch_as_of(
    conn: &mut SqliteConnection,
    pid: i64,
    at: DateTime<Utc>,
) -> Result<Option<BatchId>> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT to_batch FROM events WHERE partition_id = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(pid)
    .bind(micros(at))
    .fetch_optional(&mut *conn)
    .await?;
    id.map(|s| BatchId::parse(&s)).transpose()
}

/// Every partition of table `t` that had a batch at `at`, with that batch.
async fn all_as_of(
    conn: &mut SqliteConnection,
    t: &TableRow,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<(PartitionValues, BatchId)>> {
    let rows = match at {
        None => {
            sqlx::query(
                "SELECT path, current_batch AS batch FROM partitions \
                 WHERE table_id = ? AND current_batch IS NOT NULL ORDER BY sort_key",
            )
            .bind(t.id)
            .fetch_all(&mut *conn)
            .await?
        }
        Some(at) => {
            sqlx::query(
                "SELECT p.path, (SELECT e.to_batch FROM events e WHERE e.partition_id = p.id AND e.at <= ? \
                 ORDER BY e.at DESC, e.id DESC LIMIT 1) AS batch FROM partitions p WHERE p.table_id = ? \
                 ORDER BY p.sort_key",
            )
            .bind(micros(at))
            .bind(t.id)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(b) = r.try_get::<Option<String>, _>("batch")? {
            let values = PartitionValues::from_stored(
                &t.table.partition_keys,
                &r.try_get::<String, _>("path")?,
            )?;
            out.push((values, BatchId::parse(&b)?));
        }
    }
    Ok(out)
}

impl SqliteCatalog {
    pub(super) async fn resolve_impl(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident).await?;
        // A pin stands for a batch or an as-of time.
        let pinned;
        let version = match version {
            Version::Pin(name) => {
                let pin = self.get_pin_in(&mut tx, &t, name).await?;
                if let Some(exp) = pin.expires_at.filter(|e| *e <= self.now()) {
                    return Err(Error::invalid(
                        Code::PinExpired,
                        format!(
                            "pin {name} on {ident} expired at {exp}; create a new pin or read a batch by id"
                        ),
                    ));
                }
                pinned = match pin.target {
                    PinTarget::Batch { partition, batch } => {
                        if let Some(ps) = partitions.filter(|ps| ps.iter().any(|p| *p != partition))
                        {
                            let other = ps
                                .iter()
                                .find(|p| **p != partition)
                                .map(ToString::to_string);
                            return Err(Error::invalid(
                                Code::PinPartitionMismatch,
                                format!(
                                    "pin {name} holds partition {partition} only, not {}",
                                    other.unwrap_or_default()
                                ),
                            ));
                        }
                        let b = rows::load_batch(&mut tx, &t, &batch).await?;
                        return Ok(vec![Resolved {
                            partition,
                            batch: b,
                        }]);
                    }
                    PinTarget::AsOf { at } => Version::AsOf(at),
                };
                &pinned
            }
            v => v,
        };
        let targets: Vec<(PartitionValues, BatchId)> = match (version, partitions) {
            (Version::Current, None) => all_as_of(&mut tx, &t, None).await?,
            (Version::AsOf(at), None) => all_as_of(&mut tx, &t, Some(*at)).await?,
            (Version::Batch(id), ps) => {
                let b = rows::load_batch(&mut tx, &t, id).await?;
                if b.state == BatchState::Abandoned {
                    return Err(crate::catalog::rules::batch_abandoned(id));
                }
                if let Some(p) = ps.and_then(|ps| ps.iter().find(|p| **p != b.partition)) {
                    return Err(crate::catalog::rules::wrong_partition(
                        &t.table.ident,
                        id,
                        &b.partition,
                        p,
                    ));
                }
                return Ok(vec![Resolved {
                    partition: b.partition.clone(),
                    batch: b,
                }]);
            }
            (v, Some(ps)) => {
                let mut out = Vec::with_capacity(ps.len());
                for values in ps {
                    let batch = match v {
                        Version::AsOf(at) => {
                            let p = rows::find_partition(&mut tx, t.id, values).await?;
                            let b = match p {
                                Some(p) => batch_as_of(&mut tx, p.id, *at).await?,
                                None => None,
                            };
                            b.ok_or_else(|| {
                                crate::catalog::rules::not_published_at(ident, values, *at)
                            })?
                        }
                        _ => rows::published_partition(&mut tx, &t, values).await?.1,
                    };
                    out.push((values.clone(), batch));
                }
                out
            }
            (Version::Pin(_), None) => return Err(Error::Internal("pin not resolved".into())),
        };
        let mut out = Vec::with_capacity(targets.len());
        for (partition, id) in targets {
            let batch = rows::load_batch(&mut tx, &t, &id).await?;
            out.push(Resolved { partition, batch });
        }
        Ok(out)
    }

    pub(super) async fn list_batches_impl(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident).await?;
        let p = rows::find_partition(&mut tx, t.id, partition)
            .await?
            .ok_or_else(|| rows::never_published(&t, partition))?;
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.partition_id = ? ORDER BY b.batch_id DESC"
        );
        let rs = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(p.id)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(rs.len());
        for r in &rs {
            let mut b = rows::batch_from_row(r, &t)?;
            b.batch.files = rows::load_files(&mut tx, b.pk).await?;
            out.push(b.batch);
        }
        Ok(out)
    }

    pub(super) async fn committed_batches_impl(
        &self,
        after: Option<&BatchId>,
        limit: u32,
    ) -> Result<Vec<Batch>> {
        let mut tx = self.read().await?;
        let rs = sqlx::query(
            "SELECT b.batch_id, p.table_id FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.state = 'committed' AND b.batch_id > ? ORDER BY b.batch_id LIMIT ?",
        )
        .bind(after.map(BatchId::as_str).unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rs.len());
        for r in rs {
            let t = self.table_by_id(&mut tx, r.try_get("table_id")?).await?;
            let id = BatchId::parse(&r.try_get::<String, _>("batch_id")?)?;
            out.push(rows::load_batch(&mut tx, &t, &id).await?);
        }
        Ok(out)
    }

    /// A table by row id, dropped or not (verify covers dropped tables too).
    pub(super) async fn table_by_id(
        &self,
        conn: &mut SqliteConnection,
        id: i64,
    ) -> Result<TableRow> {
        let sql = format!(
            "SELECT {} FROM tables t JOIN namespaces n ON n.id = t.namespace_id WHERE t.id = ?",
            rows::TABLE_COLUMNS
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        rows::table_from_row(&r)
    }
}
