//! `meta partitions`, `meta history` and `meta rollback`: a table's
//! partitions and the moves of their pointers.

use batchmeta::Result;
use batchmeta::model::{
    BatchId, Event, PartitionQuery, PartitionSpec, RollbackRequest, TableIdent,
};

use super::conflict_hint;
use crate::args::{HistoryArgs, PartitionsArgs, RollbackArgs};
use crate::output::views::{EventView, PartitionView};
use crate::output::{Table, cell, time};
use crate::settings::Session;

/// Page size for listings that loop over cursors.
const PAGE: u32 = 500;

pub(crate) async fn list(s: &Session, a: &PartitionsArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            s.ms.partitions(
                &ident,
                &PartitionQuery {
                    prefix: a.prefix.clone(),
                    from: a.from.clone(),
                    to: a.to.clone(),
                    cursor: cursor.take(),
                    limit: Some(PAGE.min(a.limit.max(1))),
                },
            )
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(c) if (items.len() as u64) < u64::from(a.limit) => cursor = Some(c),
            _ => break,
        }
    }
    items.truncate(a.limit as usize);
    if s.out.json() {
        let v: Vec<_> = items.iter().map(PartitionView::from).collect();
        return s.out.value(&v);
    }
    let mut t = Table::new(&["PARTITION", "CURRENT BATCH", "VERSION", "UPDATED"]);
    for p in &items {
        t.row(vec![
            p.partition.to_string(),
            p.current.to_string(),
            p.version.to_string(),
            time::show(p.updated_at),
        ]);
    }
    s.out.table(
        &t,
        &format!(
            "no published partitions in {ident}; store one with `meta put {ident} PARTITION FILE`"
        ),
    )
}

pub(crate) async fn history(s: &Session, a: &HistoryArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page =
            s.ms.history(
                &ident,
                &spec,
                cursor.as_deref(),
                Some(PAGE.min(a.limit.max(1))),
            )
            .await?;
        events.extend(page.items);
        match page.next_cursor {
            Some(c) if (events.len() as u64) < u64::from(a.limit) => cursor = Some(c),
            _ => break,
        }
    }
    events.truncate(a.limit as usize);
    if s.out.json() {
        let v: Vec<_> = events.iter().map(EventView::from).collect();
        return s.out.value(&v);
    }
    let mut t = Table::new(&[
        "EVENT",
        "ACTION",
        "FROM",
        "TO",
        "ROWS",
        "PRINCIPAL",
        "MESSAGE",
        "TIME",
    ]);
    // Batches retention has collected are shown as such: the history row
    // stays, the batch's files are gone.
    let expired: std::collections::HashSet<BatchId> = if events.is_empty() {
        Default::default()
    } else {
        s.ms.batches(&ident, &spec)
            .await?
            .into_iter()
            .filter(|b| b.expired.is_some())
            .map(|b| b.id)
            .collect()
    };
    let batch_cell = |b: Option<&BatchId>| match b {
        Some(id) if expired.contains(id) => format!("{id} (expired)"),
        other => cell(other),
    };
    for e in &events {
        t.row(vec![
            e.id.to_string(),
            e.action.as_str().to_owned(),
            batch_cell(e.from_batch.as_ref()),
            batch_cell(e.to_batch.as_ref()),
            cell(e.rows),
            e.principal.clone(),
            cell(e.message.as_ref()),
            time::show(e.at),
        ]);
    }
    s.out.table(
        &t,
        &format!(
            "{ident} {} has no history yet; store a batch with `meta put`",
            a.partition
        ),
    )
}

pub(crate) async fn rollback(s: &Session, a: &RollbackArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let req = RollbackRequest {
        to: a.to.as_deref().map(BatchId::parse).transpose()?,
        expect: a.expect.as_deref().map(BatchId::parse).transpose()?,
        message: a.message.clone(),
    };
    let hint = |e| conflict_hint(e, &format!("meta rollback {ident} {}", a.partition));
    if a.dry_run {
        let impact =
            s.ms.rollback_impact(&ident, &spec, &req)
                .await
                .map_err(hint)?;
        if s.out.json() {
            return s.out.value(&impact);
        }
        s.out.note("dry run: the pointer did not move");
        return super::lineage::print_impact(s, &impact, true);
    }
    let done =
        s.ms.rollback_with_impact(&s.ctx, &ident, &spec, &req)
            .await
            .map_err(hint)?;
    if s.out.json() {
        return s.out.value(&RollbackView {
            event: EventView::from(&done.event),
            affected: &done.impact.affected,
        });
    }
    print_move(s, &ident, &done.event)?;
    super::lineage::print_impact(s, &done.impact, false)
}

/// `rollback`'s JSON: its event and the current batches it affects.
#[derive(Debug, serde::Serialize)]
struct RollbackView<'a> {
    #[serde(flatten)]
    event: EventView,
    affected: &'a [batchmeta::model::LineageNode],
}

fn print_move(s: &Session, ident: &TableIdent, e: &Event) -> Result<()> {
    let partition = e.partition.clone().unwrap_or_default();
    s.out.text(&format!(
        "rolled back {ident} {partition}: {} -> {}\n",
        cell(e.from_batch.as_ref()),
        cell(e.to_batch.as_ref()),
    ))?;
    if let Some(from) = &e.from_batch {
        s.out.note(&format!(
            "nothing was deleted; to return to {from}: meta rollback {ident} {partition} --to {from}"
        ));
    }
    Ok(())
}
