//! Pages: a table's partitions, a partition's history and the audit trail,
//! each one read transaction on a plain connection.

use rusqlite::types::Value;

use super::writes::{EVENT_COLUMNS, event_from_row};
use super::{Direct, Reader};
use crate::catalog::sqlite::rows::{
    decode_cursor, encode_cursor, micros, never_published, page_size, time,
};
use crate::error::{Code, Error, Result};
use crate::model::{
    BatchId, Event, EventQuery, Order, Page, PartitionInfo, PartitionQuery, PartitionValues,
    TableIdent, prefix_bound, range_bound,
};

/// A cursor that holds an event id.
fn event_cursor(c: &str) -> Result<i64> {
    decode_cursor(c)?.parse().map_err(|_| {
        Error::invalid(
            Code::InvalidCursor,
            "invalid page cursor: pass back next_cursor unchanged",
        )
    })
}

impl Direct {
    /// Published partitions in key order, a page at a time.
    pub(in crate::catalog::sqlite) fn list_partitions(
        &self,
        ident: &TableIdent,
        q: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        let limit = page_size(q.limit)?;
        self.read(|r| {
            let t = r.live_table(ident)?;
            let keys = &t.table.partition_keys;
            let mut sql = String::from(
                "SELECT path, sort_key, current_batch, version, updated_at FROM partitions \
                 WHERE table_id = ?1 AND current_batch IS NOT NULL",
            );
            let mut args = vec![Value::Integer(t.id)];
            let mut bind = |sql: &mut String, cond: &str, v: Value| {
                args.push(v);
                sql.push_str(&format!(" AND {cond} ?{}", args.len()));
            };
            if let Some(prefix) = &q.prefix {
                let p = prefix_bound(keys, prefix)?;
                bind(&mut sql, "sort_key >=", Value::Text(p.clone()));
                bind(
                    &mut sql,
                    "sort_key <",
                    Value::Text(format!("{p}\u{10FFFF}")),
                );
            }
            if let Some(from) = &q.from {
                bind(
                    &mut sql,
                    "sort_key >=",
                    Value::Text(range_bound(keys, from)?),
                );
            }
            if let Some(to) = &q.to {
                // Inclusive of every partition whose first key equals `to`.
                let bound = format!("{}\u{2}", range_bound(keys, to)?);
                bind(&mut sql, "sort_key <", Value::Text(bound));
            }
            if let Some(c) = &q.cursor {
                bind(&mut sql, "sort_key >", Value::Text(decode_cursor(c)?));
            }
            args.push(Value::Integer(limit + 1));
            sql.push_str(&format!(" ORDER BY sort_key LIMIT ?{}", args.len()));
            let mut st = r.tx.prepare_cached(&sql)?;
            let mut rows = st.query(rusqlite::params_from_iter(args))?;
            let mut items = Vec::with_capacity(limit.min(1024) as usize);
            let mut more = false;
            let mut last_key = None;
            while let Some(row) = rows.next()? {
                if items.len() as i64 == limit {
                    more = true;
                    break;
                }
                items.push(PartitionInfo {
                    partition: PartitionValues::from_stored(keys, row.get_ref(0)?.as_str()?)?,
                    current: BatchId::parse(row.get_ref(2)?.as_str()?)?,
                    version: row.get(3)?,
                    updated_at: time(row.get(4)?),
                });
                last_key = Some(row.get::<_, String>(1)?);
            }
            let next_cursor = if more {
                last_key.map(|k| encode_cursor(&k))
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
    }

    /// The pointer moves of one partition, newest first.
    pub(in crate::catalog::sqlite) fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        let limit = page_size(limit)?;
        let before = cursor.map(event_cursor).transpose()?.unwrap_or(i64::MAX);
        self.read(|r| {
            let t = r.live_table(ident)?;
            let pid = r
                .partition_id(t.id, partition)?
                .ok_or_else(|| never_published(&t, partition))?;
            r.events_page(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE partition_id = ?1 AND id < ?2 \
                     ORDER BY id DESC LIMIT ?3"
                ),
                vec![
                    Value::Integer(pid),
                    Value::Integer(before),
                    Value::Integer(limit + 1),
                ],
                limit,
            )
        })
    }

    /// The audit trail.
    pub(in crate::catalog::sqlite) fn events(&self, q: &EventQuery) -> Result<Page<Event>> {
        let limit = page_size(q.limit)?;
        let order = if q.after.is_some() {
            Order::OldestFirst
        } else {
            q.order
        };
        if q.partition.is_some() && q.table.is_none() {
            return Err(Error::invalid(
                Code::InvalidQuery,
                "a partition filter needs a table filter too",
            ));
        }
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        let mut bind = |sql: &mut String, cond: &str, v: Value| {
            args.push(v);
            sql.push_str(&cond.replace("?", &format!("?{}", args.len())));
        };
        if let Some(t) = &q.table {
            bind(
                &mut sql,
                " AND namespace = ?",
                Value::Text(t.namespace.to_string()),
            );
            bind(
                &mut sql,
                " AND table_name = ?",
                Value::Text(t.name.to_string()),
            );
        } else if let Some(ns) = &q.namespace {
            bind(&mut sql, " AND namespace = ?", Value::Text(ns.to_string()));
        }
        if let Some(p) = &q.partition {
            bind(&mut sql, " AND partition = ?", Value::Text(p.path()));
        }
        if let Some(p) = &q.principal {
            bind(&mut sql, " AND principal = ?", Value::Text(p.clone()));
        }
        if let Some(a) = q.action {
            bind(
                &mut sql,
                " AND action = ?",
                Value::Text(a.as_str().to_owned()),
            );
        }
        // Event time never decreases along ids, so a time range is an id range.
        if let Some(since) = q.since {
            bind(
                &mut sql,
                " AND id >= coalesce((SELECT id FROM events WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807)",
                Value::Integer(micros(since)),
            );
        }
        if let Some(until) = q.until {
            bind(
                &mut sql,
                " AND id < coalesce((SELECT id FROM events WHERE at >= ? ORDER BY at, id LIMIT 1), 9223372036854775807)",
                Value::Integer(micros(until)),
            );
        }
        if let Some(after) = q.after {
            bind(&mut sql, " AND id > ?", Value::Integer(after));
        }
        if let Some(c) = &q.cursor {
            let id = Value::Integer(event_cursor(c)?);
            match order {
                Order::NewestFirst => bind(&mut sql, " AND id < ?", id),
                Order::OldestFirst => bind(&mut sql, " AND id > ?", id),
            }
        }
        sql.push_str(match order {
            Order::NewestFirst => " ORDER BY id DESC",
            Order::OldestFirst => " ORDER BY id ASC",
        });
        bind(&mut sql, " LIMIT ?", Value::Integer(limit + 1));
        self.read(|r| r.events_page(&sql, args, limit))
    }
}

impl Reader<'_> {
    /// Runs an events query that asks for `limit + 1` rows: a page of
    /// `limit` and whether there is more.
    fn events_page(&self, sql: &str, args: Vec<Value>, limit: i64) -> Result<Page<Event>> {
        let mut st = self.tx.prepare_cached(sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args))?;
        let mut items = Vec::with_capacity(limit.min(1024) as usize);
        let mut more = false;
        while let Some(row) = rows.next()? {
            if items.len() as i64 == limit {
                more = true;
                break;
            }
            items.push(event_from_row(row)?);
        }
        let next_cursor = if more {
            items
                .last()
                .map(|e: &Event| encode_cursor(&e.id.to_string()))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
