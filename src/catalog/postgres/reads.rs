//! Resolve, batches, and the batches `verify` checks.
//!
//! Each read runs in one REPEATABLE READ, READ ONLY transaction: one
//! consistent snapshot, as a SQLite read transaction under WAL.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PostgresCatalog;
use super::rows::{self, TableLock};
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::row::{Columns, TableRow};
use crate::catalog::rules::{self, Lookup, Pinned};
use crate::error::Result;
use crate::model::{Batch, BatchId, PartitionValues, Resolved, TableIdent, Version};

/// The batch that was current for partition `pid` at `at`, from the event log.
pub(super) async fn batch_as_of(
    conn: &mut PgConnection,
    pid: i64,
    at: DateTime<Utc>,
) -> Result<Option<BatchId>> {
    let id: Option<Option<String>> = sqlx::query_scalar(sql::BATCH_AS_OF)
        .bind(pid)
        .bind(rows::query_time(at))
        .fetch_optional(&mut *conn)
        .await?;
    id.flatten().map(|s| BatchId::parse(&s)).transpose()
}

/// Every partition of table `t` that had a batch at `at` (now if `None`),
/// with that batch.
async fn all_as_of(
    conn: &mut PgConnection,
    t: &TableRow,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<(PartitionValues, BatchId)>> {
    let rs = match at {
        None => {
            sqlx::query(sql::CURRENT_PARTITIONS)
                .bind(t.id)
                .fetch_all(&mut *conn)
                .await?
        }
        Some(at) => {
            sqlx::query(sql::PARTITIONS_AS_OF)
                .bind(rows::query_time(at))
                .bind(t.id)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut out = Vec::with_capacity(rs.len());
    for r in &rs {
        if let Some(b) = r.opt_batch_id(1)? {
            out.push((
                PartitionValues::from_stored(&t.table.partition_keys, r.text(0)?)?,
                b,
            ));
        }
    }
    Ok(out)
}

impl PostgresCatalog {
    pub(super) async fn get_batch_impl(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
    ) -> Result<Batch> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        rows::load_batch(&mut tx, &t, batch).await
    }

    pub(super) async fn get_batches_impl(
        &self,
        ident: &TableIdent,
        batches: &[BatchId],
    ) -> Result<Vec<Batch>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let found = rows::load_batch_rows(&mut tx, &t, batches).await?;
        Ok(found.into_iter().map(|b| b.batch).collect())
    }

    pub(super) async fn resolve_impl(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        // A pin stands for a batch or an as-of time.
        let pinned;
        let version = match version {
            Version::Pin(name) => {
                let pin = self.get_pin_in(&mut tx, &t, name).await?;
                match rules::pinned(ident, name, pin, partitions, self.now())? {
                    Pinned::Batch(partition, id) => {
                        let batch = rows::load_batch(&mut tx, &t, &id).await?;
                        return Ok(vec![Resolved { partition, batch }]);
                    }
                    Pinned::AsOf(v) => pinned = v,
                }
                &pinned
            }
            v => v,
        };
        let targets = match rules::lookup(version, partitions)? {
            Lookup::All(at) => all_as_of(&mut tx, &t, at).await?,
            Lookup::Batch(id) => {
                let batch = rows::load_batch(&mut tx, &t, id).await?;
                rules::readable_batch(&t.table.ident, &batch, partitions)?;
                return Ok(vec![Resolved {
                    partition: batch.partition.clone(),
                    batch,
                }]);
            }
            Lookup::Each(ps, at) => {
                let mut out = Vec::with_capacity(ps.len());
                for values in ps {
                    let batch = match at {
                        Some(at) => {
                            let p = rows::find_partition(&mut tx, t.id, values, false).await?;
                            let b = match p {
                                Some(p) => batch_as_of(&mut tx, p.id, at).await?,
                                None => None,
                            };
                            b.ok_or_else(|| errors::not_published_at(ident, values, at))?
                        }
                        None => {
                            rows::published_partition(&mut tx, &t, values, false)
                                .await?
                                .1
                        }
                    };
                    out.push((values.clone(), batch));
                }
                out
            }
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
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let p = rows::find_partition(&mut tx, t.id, partition, false)
            .await?
            .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
        let rs = sqlx::query(sql::PARTITION_BATCHES)
            .bind(p.id)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(rs.len());
        for r in &rs {
            out.push(rows::with_files(&mut tx, r, &t).await?.batch);
        }
        Ok(out)
    }

    pub(super) async fn committed_batches_impl(
        &self,
        after: Option<&BatchId>,
        limit: u32,
    ) -> Result<Vec<Batch>> {
        let mut tx = self.read().await?;
        let rs = sqlx::query(sql::COMMITTED_BATCHES)
            .bind(after.map(BatchId::as_str).unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(rs.len());
        for r in &rs {
            let t = rows::table_by_id(&mut tx, r.int(1)?).await?;
            out.push(rows::load_batch(&mut tx, &t, &r.batch_id(0)?).await?);
        }
        Ok(out)
    }
}
