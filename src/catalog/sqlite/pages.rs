//! Pages: a table's partitions, a partition's history and the audit trail,
//! each one read transaction.

use rusqlite::types::Value;

use super::SqliteCatalog;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::page::{self, Arg};
use crate::catalog::row::{self, Columns};
use crate::error::Result;
use crate::model::{
    Event, EventQuery, Page, PartitionInfo, PartitionQuery, PartitionValues, TableIdent,
};

fn value(arg: Arg) -> Value {
    match arg {
        Arg::Text(s) => Value::Text(s),
        Arg::Int(n) => Value::Integer(n),
        Arg::Time(t) => Value::Integer(micros(t)),
    }
}

impl SqliteCatalog {
    pub(super) fn list_partitions_impl(
        &self,
        ident: &TableIdent,
        q: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        let limit = page::page_size(q.limit)?;
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            let keys = &t.table.partition_keys;
            let bounds = page::partition_bounds(keys, q)?;
            let statement = sql::partition_page(bounds.iter().map(|(op, _)| *op));
            let mut args = vec![Value::Integer(t.id)];
            args.extend(bounds.into_iter().map(|(_, b)| Value::Text(b)));
            args.push(Value::Integer(limit + 1));
            let items = r.all(&statement, rusqlite::params_from_iter(args), |p| {
                let info = PartitionInfo {
                    partition: PartitionValues::from_stored(keys, p.text(0)?)?,
                    current: p.batch_id(2)?,
                    version: p.int(3)?,
                    updated_at: p.time(4)?,
                };
                Ok((info, p.string(1)?))
            })?;
            Ok(page::keyed(items, limit))
        })
    }

    pub(super) fn history_impl(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        let limit = page::page_size(limit)?;
        let before = cursor
            .map(page::event_cursor)
            .transpose()?
            .unwrap_or(i64::MAX);
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            let pid = r
                .partition_id(t.id, partition)?
                .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
            let events = r.all(sql::HISTORY, (pid, before, limit + 1), |e| row::event(e))?;
            Ok(page::events(events, limit))
        })
    }

    pub(super) fn events_impl(&self, q: &EventQuery) -> Result<Page<Event>> {
        let query = page::events_page(q)?;
        let statement = sql::event_page(query.filters.iter().map(|(f, _)| *f), query.order);
        let mut args: Vec<Value> = query.filters.into_iter().map(|(_, a)| value(a)).collect();
        args.push(Value::Integer(query.limit + 1));
        self.conns.read(|r| {
            let events = r.all(&statement, rusqlite::params_from_iter(args), |e| {
                row::event(e)
            })?;
            Ok(page::events(events, query.limit))
        })
    }
}
