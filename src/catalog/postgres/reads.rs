//! Resolve, partition listings, history, batches and the audit trail.
//!
//! Each read runs in one REPEATABLE READ, READ ONLY transaction: one
//! consistent snapshot, as a SQLite read transaction under WAL.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::PostgresCatalog;
use super::rows::{self, BATCH_COLUMNS, TableLock, TableRow};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, Event, EventQuery, Order, Page, PartitionInfo, PartitionQuery,
    PartitionValues, PinTarget, Resolved, TableIdent, Version, prefix_bound, range_bound,
};

/// The batch that was current for partition `pid` at `at`, from the event log.
pub(super) async fn batch_as_of(
    conn: &mut PgConnection,
    pid: i64,
    at: DateTime<Utc>,
) -> Result<Option<BatchId>> {
    let id: Option<Option<String>> = sqlx::query_scalar(
        "SELECT to_batch FROM events WHERE partition_id = $1 AND at <= $2 \
         ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(pid)
    .bind(rows::query_time(at))
    .fetch_optional(&mut *conn)
    .await?;
    id.flatten().map(|s| BatchId::parse(&s)).transpose()
}

/// Every partition of table `t` that had a batch at `at`, with that batch.
async fn all_as_of(
    conn: &mut PgConnection,
    t: &TableRow,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<(PartitionValues, BatchId)>> {
    let rows = match at {
        None => {
            sqlx::query(
                "SELECT path, current_batch AS batch FROM partitions \
                 WHERE table_id = $1 AND current_batch IS NOT NULL ORDER BY sort_key",
            )
            .bind(t.id)
            .fetch_all(&mut *conn)
            .await?
        }
        Some(at) => {
            sqlx::query(
                "SELECT p.path, (SELECT e.to_batch FROM events e WHERE e.partition_id = p.id \
                 AND e.at <= $1 ORDER BY e.at DESC, e.id DESC LIMIT 1) AS batch \
                 FROM partitions p WHERE p.table_id = $2 ORDER BY p.sort_key",
            )
            .bind(rows::query_time(at))
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
                            let p = rows::find_partition(&mut tx, t.id, values, false).await?;
                            let b = match p {
                                Some(p) => batch_as_of(&mut tx, p.id, *at).await?,
                                None => None,
                            };
                            b.ok_or_else(|| {
                                crate::catalog::rules::not_published_at(ident, values, *at)
                            })?
                        }
                        _ => {
                            rows::published_partition(&mut tx, &t, values, false)
                                .await?
                                .1
                        }
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

    pub(super) async fn list_partitions_impl(
        &self,
        ident: &TableIdent,
        q: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        let limit = rows::page_size(q.limit)?;
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let keys = &t.table.partition_keys;
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT path, sort_key, current_batch, version, updated_at FROM partitions WHERE table_id = ",
        );
        qb.push_bind(t.id);
        qb.push(" AND current_batch IS NOT NULL");
        if let Some(prefix) = &q.prefix {
            let p = prefix_bound(keys, prefix)?;
            qb.push(" AND sort_key >= ").push_bind(p.clone());
            qb.push(" AND sort_key < ")
                .push_bind(format!("{p}\u{10FFFF}"));
        }
        if let Some(from) = &q.from {
            qb.push(" AND sort_key >= ")
                .push_bind(range_bound(keys, from)?);
        }
        if let Some(to) = &q.to {
            // Inclusive of every partition whose first key equals `to`.
            qb.push(" AND sort_key < ")
                .push_bind(format!("{}\u{2}", range_bound(keys, to)?));
        }
        if let Some(c) = &q.cursor {
            qb.push(" AND sort_key > ")
                .push_bind(rows::decode_cursor(c)?);
        }
        qb.push(" ORDER BY sort_key LIMIT ").push_bind(limit + 1);
        let rs = qb.build().fetch_all(&mut *tx).await?;
        let mut items = Vec::with_capacity(rs.len());
        let mut last_key = None;
        for r in rs.iter().take(limit as usize) {
            let current: String = r.try_get("current_batch")?;
            items.push(PartitionInfo {
                partition: PartitionValues::from_stored(keys, &r.try_get::<String, _>("path")?)?,
                current: BatchId::parse(&current)?,
                version: r.try_get("version")?,
                updated_at: r.try_get("updated_at")?,
            });
            last_key = Some(r.try_get::<String, _>("sort_key")?);
        }
        let next_cursor = if rs.len() as i64 > limit {
            last_key.map(|k| rows::encode_cursor(&k))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    pub(super) async fn history_impl(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        let limit = rows::page_size(limit)?;
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let p = rows::find_partition(&mut tx, t.id, partition, false)
            .await?
            .ok_or_else(|| rows::never_published(&t, partition))?;
        let before = match cursor {
            Some(c) => event_cursor(c)?,
            None => i64::MAX,
        };
        let rs = sqlx::query(
            "SELECT * FROM events WHERE partition_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(p.id)
        .bind(before)
        .bind(limit + 1)
        .fetch_all(&mut *tx)
        .await?;
        page_of_events(&rs, limit)
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
            .ok_or_else(|| rows::never_published(&t, partition))?;
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.partition_id = $1 ORDER BY b.batch_id DESC"
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

    pub(super) async fn events_impl(&self, q: &EventQuery) -> Result<Page<Event>> {
        let limit = rows::page_size(q.limit)?;
        let order = if q.after.is_some() {
            Order::OldestFirst
        } else {
            q.order
        };
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT * FROM events WHERE 1 = 1");
        if let Some(t) = &q.table {
            qb.push(" AND namespace = ")
                .push_bind(t.namespace.to_string());
            qb.push(" AND table_name = ").push_bind(t.name.to_string());
        } else if let Some(ns) = &q.namespace {
            qb.push(" AND namespace = ").push_bind(ns.to_string());
        }
        if let Some(p) = &q.partition {
            if q.table.is_none() {
                return Err(Error::invalid(
                    Code::InvalidQuery,
                    "a partition filter needs a table filter too",
                ));
            }
            qb.push(" AND partition = ").push_bind(p.path());
        }
        if let Some(p) = &q.principal {
            qb.push(" AND principal = ").push_bind(p.clone());
        }
        if let Some(a) = q.action {
            qb.push(" AND action = ").push_bind(a.as_str());
        }
        // Event time never decreases along ids, so a time range is an id range.
        if let Some(since) = q.since {
            qb.push(" AND id >= coalesce((SELECT min(id) FROM events WHERE at >= ")
                .push_bind(rows::query_time(since))
                .push("), 9223372036854775807)");
        }
        if let Some(until) = q.until {
            qb.push(" AND id < coalesce((SELECT min(id) FROM events WHERE at >= ")
                .push_bind(rows::query_time(until))
                .push("), 9223372036854775807)");
        }
        if let Some(after) = q.after {
            qb.push(" AND id > ").push_bind(after);
        }
        if let Some(c) = &q.cursor {
            let id = event_cursor(c)?;
            match order {
                Order::NewestFirst => qb.push(" AND id < ").push_bind(id),
                Order::OldestFirst => qb.push(" AND id > ").push_bind(id),
            };
        }
        match order {
            Order::NewestFirst => qb.push(" ORDER BY id DESC"),
            Order::OldestFirst => qb.push(" ORDER BY id ASC"),
        };
        qb.push(" LIMIT ").push_bind(limit + 1);
        let mut tx = self.read().await?;
        let rs = qb.build().fetch_all(&mut *tx).await?;
        page_of_events(&rs, limit)
    }

    pub(super) async fn committed_batches_impl(
        &self,
        after: Option<&BatchId>,
        limit: u32,
    ) -> Result<Vec<Batch>> {
        let mut tx = self.read().await?;
        let rs = sqlx::query(
            "SELECT b.batch_id, p.table_id FROM batches b JOIN partitions p ON p.id = b.partition_id \
             WHERE b.state = 'committed' AND b.batch_id > $1 ORDER BY b.batch_id LIMIT $2",
        )
        .bind(after.map(BatchId::as_str).unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(rs.len());
        for r in rs {
            let t = table_by_id(&mut tx, r.try_get("table_id")?).await?;
            let id = BatchId::parse(&r.try_get::<String, _>("batch_id")?)?;
            out.push(rows::load_batch(&mut tx, &t, &id).await?);
        }
        Ok(out)
    }
}

/// A table by row id, dropped or not (verify covers dropped tables too).
pub(super) async fn table_by_id(conn: &mut PgConnection, id: i64) -> Result<TableRow> {
    let sql = format!(
        "SELECT {} FROM tables t JOIN namespaces n ON n.id = t.namespace_id WHERE t.id = $1",
        rows::TABLE_COLUMNS
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    rows::table_from_row(&r)
}

fn event_cursor(c: &str) -> Result<i64> {
    rows::decode_cursor(c)?.parse::<i64>().map_err(|_| {
        Error::invalid(
            Code::InvalidCursor,
            "invalid page cursor: pass back next_cursor unchanged",
        )
    })
}

fn page_of_events(rs: &[PgRow], limit: i64) -> Result<Page<Event>> {
    let items = rs
        .iter()
        .take(limit as usize)
        .map(rows::event_from_row)
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if rs.len() as i64 > limit {
        items.last().map(|e| rows::encode_cursor(&e.id.to_string()))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
