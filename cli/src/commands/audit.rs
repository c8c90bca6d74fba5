//! `meta audit`: query the audit trail, or follow the change feed.

use std::time::Duration;

use batchmeta::Result;
use batchmeta::model::{
    Action, Event, EventQuery, NamespaceName, Order, PartitionSpec, TableIdent,
};

use crate::args::AuditArgs;
use crate::output::views::{EventView, event_table};
use crate::output::{Table, cell, time};
use crate::settings::Session;

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_secs(1);
/// Events per page.
const PAGE: u32 = 500;

pub(crate) async fn run(s: &Session, a: &AuditArgs) -> Result<()> {
    let base = query(s, a).await?;
    let mut events = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            s.ms.events(&EventQuery {
                cursor: cursor.take(),
                limit: Some(PAGE.min(a.limit.max(1))),
                ..base.clone()
            })
            .await?;
        events.extend(page.items);
        match page.next_cursor {
            Some(c) if (events.len() as u64) < u64::from(a.limit) => cursor = Some(c),
            _ => break,
        }
    }
    events.truncate(a.limit as usize);
    if !a.follow {
        return print_all(s, &events);
    }
    // Follow: what matched so far, oldest first, then new events as they come.
    if base.after.is_none() {
        events.reverse();
    }
    let mut last = match (events.iter().map(|e| e.id).max(), base.after) {
        (Some(id), _) => id,
        (None, Some(after)) => after,
        (None, None) => latest_event_id(s).await?,
    };
    for e in &events {
        print_line(s, e)?;
    }
    loop {
        let page =
            s.ms.events(&EventQuery {
                after: Some(last),
                since: None,
                limit: Some(PAGE),
                ..base.clone()
            })
            .await?;
        for e in &page.items {
            print_line(s, e)?;
            last = last.max(e.id);
        }
        if page.next_cursor.is_none() || page.items.is_empty() {
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn query(s: &Session, a: &AuditArgs) -> Result<EventQuery> {
    let table = a.table.as_deref().map(TableIdent::parse).transpose()?;
    let namespace = match (&a.namespace, &table) {
        (Some(n), _) => Some(NamespaceName::new(n.as_str())?),
        (None, Some(t)) => Some(t.namespace.clone()),
        (None, None) => None,
    };
    let partition = match (&a.partition, &table) {
        (Some(p), Some(t)) => Some(s.ms.partition(t, &PartitionSpec::parse(p)?).await?),
        _ => None,
    };
    Ok(EventQuery {
        namespace,
        table,
        partition,
        principal: a.principal.clone(),
        action: a.action.as_deref().map(Action::parse).transpose()?,
        since: a.since.as_deref().map(time::parse_past).transpose()?,
        until: a.until.as_deref().map(time::parse_past).transpose()?,
        after: a.after,
        order: Order::NewestFirst,
        cursor: None,
        limit: None,
    })
}

/// The id of the newest event of all, or 0.
async fn latest_event_id(s: &Session) -> Result<i64> {
    let page =
        s.ms.events(&EventQuery {
            limit: Some(1),
            ..EventQuery::default()
        })
        .await?;
    Ok(page.items.first().map_or(0, |e| e.id))
}

fn print_all(s: &Session, events: &[Event]) -> Result<()> {
    if s.out.json() {
        let v: Vec<_> = events.iter().map(EventView::from).collect();
        return s.out.value(&v);
    }
    let mut t = Table::new(&[
        "EVENT",
        "PRINCIPAL",
        "ACTION",
        "TABLE",
        "PARTITION",
        "FROM",
        "TO",
        "MESSAGE",
        "TIME",
    ]);
    for e in events {
        t.row(row(e));
    }
    s.out.table(&t, "no events match")
}

fn row(e: &Event) -> Vec<String> {
    vec![
        e.id.to_string(),
        e.principal.clone(),
        e.action.as_str().to_owned(),
        cell(event_table(e)),
        cell(e.partition.as_ref()),
        cell(e.from_batch.as_ref()),
        cell(e.to_batch.as_ref()),
        cell(e.message.as_ref()),
        time::show(e.at),
    ]
}

/// One event as one line (JSON lines with `--output json`).
fn print_line(s: &Session, e: &Event) -> Result<()> {
    if s.out.json() {
        return s.out.json_line(&EventView::from(e));
    }
    s.out.text(&format!("{}\n", row(e).join("  ")))
}
