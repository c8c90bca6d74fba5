//! Pages: a table's partitions, a partition's history and the audit trail,
//! each one REPEATABLE READ snapshot.

use sqlx::{Postgres, QueryBuilder};

use super::PostgresCatalog;
use super::rows::{self, TableLock};
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::page::{self, Arg};
use crate::catalog::row::{self, Columns};
use crate::error::Result;
use crate::model::{
    Event, EventQuery, Order, Page, PartitionInfo, PartitionQuery, PartitionValues, TableIdent,
};

fn push_arg(qb: &mut QueryBuilder<Postgres>, arg: Arg) {
    match arg {
        Arg::Text(s) => qb.push_bind(s),
        Arg::Int(n) => qb.push_bind(n),
        Arg::Time(t) => qb.push_bind(rows::query_time(t)),
    };
}

impl PostgresCatalog {
    pub(super) async fn list_partitions_impl(
        &self,
        ident: &TableIdent,
        q: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        let limit = page::page_size(q.limit)?;
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let keys = &t.table.partition_keys;
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(sql::PARTITION_PAGE);
        qb.push_bind(t.id);
        qb.push(" AND current_batch IS NOT NULL");
        for (op, bound) in page::partition_bounds(keys, q)? {
            qb.push(format!(" AND sort_key {op} ")).push_bind(bound);
        }
        qb.push(" ORDER BY sort_key LIMIT ").push_bind(limit + 1);
        let rs = qb.build().fetch_all(&mut *tx).await?;
        let mut items = Vec::with_capacity(rs.len());
        for r in &rs {
            let info = PartitionInfo {
                partition: PartitionValues::from_stored(keys, r.text(0)?)?,
                current: r.batch_id(2)?,
                version: r.int(3)?,
                updated_at: r.time(4)?,
            };
            items.push((info, r.string(1)?));
        }
        Ok(page::keyed(items, limit))
    }

    pub(super) async fn history_impl(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        let limit = page::page_size(limit)?;
        let mut tx = self.read().await?;
        let t = rows::live_table(&mut tx, ident, TableLock::None).await?;
        let p = rows::find_partition(&mut tx, t.id, partition, false)
            .await?
            .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
        let before = match cursor {
            Some(c) => page::event_cursor(c)?,
            None => i64::MAX,
        };
        let rs = sqlx::query(sql::HISTORY)
            .bind(p.id)
            .bind(before)
            .bind(limit + 1)
            .fetch_all(&mut *tx)
            .await?;
        let events = rs.iter().map(row::event).collect::<Result<Vec<_>>>()?;
        Ok(page::events(events, limit))
    }

    pub(super) async fn events_impl(&self, q: &EventQuery) -> Result<Page<Event>> {
        let query = page::events_page(q)?;
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(sql::EVENT_PAGE);
        for (filter, arg) in query.filters {
            let (before, after) = sql::event_filter(filter);
            qb.push(before);
            push_arg(&mut qb, arg);
            qb.push(after);
        }
        qb.push(match query.order {
            Order::NewestFirst => " ORDER BY id DESC",
            Order::OldestFirst => " ORDER BY id ASC",
        });
        qb.push(" LIMIT ").push_bind(query.limit + 1);
        let mut tx = self.read().await?;
        let rs = qb.build().fetch_all(&mut *tx).await?;
        let events = rs.iter().map(row::event).collect::<Result<Vec<_>>>()?;
        Ok(page::events(events, query.limit))
    }
}
