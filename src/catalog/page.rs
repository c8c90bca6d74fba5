//! Pages: the opaque cursor, the page size, and a page cut from the
//! `limit + 1` rows a backend fetched.

use crate::error::{Code, Error, Result};
use crate::model::Page;

/// Encodes a page cursor (opaque to callers).
pub(crate) fn encode_cursor(s: &str) -> String {
    hex::encode(s.as_bytes())
}

/// Decodes a page cursor.
pub(crate) fn decode_cursor(s: &str) -> Result<String> {
    hex::decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::invalid(
                Code::InvalidCursor,
                "invalid page cursor: pass back the next_cursor of the previous page unchanged",
            )
        })
}

/// A cursor that holds an event id.
pub(crate) fn event_cursor(c: &str) -> Result<i64> {
    decode_cursor(c)?.parse().map_err(|_| {
        Error::invalid(
            Code::InvalidCursor,
            "invalid page cursor: pass back next_cursor unchanged",
        )
    })
}

/// The page size to use.
pub(crate) fn page_size(limit: Option<u32>) -> Result<i64> {
    match limit {
        None => Ok(i64::from(crate::model::DEFAULT_PAGE)),
        Some(0) => Err(Error::invalid(
            Code::InvalidLimit,
            "limit must be at least 1",
        )),
        Some(n) if n > crate::model::MAX_PAGE => Err(Error::invalid(
            Code::InvalidLimit,
            format!("limit must be at most {}", crate::model::MAX_PAGE),
        )),
        Some(n) => Ok(i64::from(n)),
    }
}

/// A page of `limit` items from up to `limit + 1` fetched with their sort
/// keys: the next cursor (the last item's key) only if there were more.
pub(crate) fn keyed<T>(mut rows: Vec<(T, String)>, limit: i64) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        rows.last().map(|(_, k)| encode_cursor(k))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(|(item, _)| item).collect(),
        next_cursor,
    }
}

/// A page of events from up to `limit + 1` fetched: the cursor is the last
/// event's id.
pub(crate) fn events(mut rows: Vec<crate::model::Event>, limit: i64) -> Page<crate::model::Event> {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        rows.last().map(|e| encode_cursor(&e.id.to_string()))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}

/// A value a page query binds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// The bounds on `sort_key` of a page of partitions, each a comparison
/// (`>=`, `<`, `>`) and its value, in order.
pub(crate) fn partition_bounds(
    keys: &[crate::model::PartitionKey],
    q: &crate::model::PartitionQuery,
) -> Result<Vec<(&'static str, String)>> {
    use crate::model::{prefix_bound, range_bound};
    let mut out = Vec::new();
    if let Some(prefix) = &q.prefix {
        let p = prefix_bound(keys, prefix)?;
        out.push((">=", p.clone()));
        out.push(("<", format!("{p}\u{10FFFF}")));
    }
    if let Some(from) = &q.from {
        out.push((">=", range_bound(keys, from)?));
    }
    if let Some(to) = &q.to {
        // Inclusive of every partition whose first key equals `to`.
        out.push(("<", format!("{}\u{2}", range_bound(keys, to)?)));
    }
    if let Some(c) = &q.cursor {
        out.push((">", decode_cursor(c)?));
    }
    Ok(out)
}

/// A filter of an events query; each backend words it in its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventFilter {
    Namespace,
    Table,
    Partition,
    Principal,
    Action,
    /// Events at or after a time. Event time never decreases along ids, so
    /// a time range is an id range.
    Since,
    /// Events before a time.
    Until,
    /// Events with a larger id.
    After,
    /// Events with a smaller id.
    Before,
}

/// An events query as filters, an order and a page size.
#[derive(Debug)]
pub(crate) struct EventsPage {
    pub(crate) filters: Vec<(EventFilter, Arg)>,
    pub(crate) order: crate::model::Order,
    pub(crate) limit: i64,
}

/// The filters of an events query, checked.
pub(crate) fn events_page(q: &crate::model::EventQuery) -> Result<EventsPage> {
    use crate::model::Order;
    use EventFilter as F;
    let limit = page_size(q.limit)?;
    super::rules::events_query_is_valid(q)?;
    // Reading on after an id goes forwards.
    let order = if q.after.is_some() {
        Order::OldestFirst
    } else {
        q.order
    };
    let mut filters = Vec::new();
    if let Some(t) = &q.table {
        filters.push((F::Namespace, Arg::Text(t.namespace.to_string())));
        filters.push((F::Table, Arg::Text(t.name.to_string())));
    } else if let Some(ns) = &q.namespace {
        filters.push((F::Namespace, Arg::Text(ns.to_string())));
    }
    if let Some(p) = &q.partition {
        filters.push((F::Partition, Arg::Text(p.path())));
    }
    if let Some(p) = &q.principal {
        filters.push((F::Principal, Arg::Text(p.clone())));
    }
    if let Some(a) = q.action {
        filters.push((F::Action, Arg::Text(a.as_str().to_owned())));
    }
    if let Some(since) = q.since {
        filters.push((F::Since, Arg::Time(since)));
    }
    if let Some(until) = q.until {
        filters.push((F::Until, Arg::Time(until)));
    }
    if let Some(after) = q.after {
        filters.push((F::After, Arg::Int(after)));
    }
    if let Some(c) = &q.cursor {
        let id = Arg::Int(event_cursor(c)?);
        filters.push(match order {
            Order::NewestFirst => (F::Before, id),
            Order::OldestFirst => (F::After, id),
        });
    }
    Ok(EventsPage {
        filters,
        order,
        limit,
    })
}
