//! `meta lineage` and `meta stale`, the run of `get` and `put`, and the
//! impact lines of `meta rollback`.

use batchmeta::metastore::{Inputs, Run};
use batchmeta::model::{
    BatchId, Direction, LineageNode, NamespaceName, PartitionSpec, RollbackImpact, TableIdent,
};
use batchmeta::{Metastore, Result};

use crate::args::{LineageArgs, RunArgs, StaleArgs};
use crate::output::Table;
use crate::settings::Session;

/// The metastore of a `get` or `put` with `--run`: its reads and stores
/// share the run's reads through the catalog (each command is its own
/// process).
pub(crate) fn with_run(ms: &Metastore, a: &RunArgs) -> Result<Metastore> {
    Ok(match &a.run {
        Some(id) => ms.clone().with_run(Run::durable(id, a.job.clone())?),
        None => ms.clone(),
    })
}

/// The inputs a `put` records: the run's reads and `--input`s, or only
/// the `--input`s.
pub(crate) fn inputs(given: &[String], only: bool) -> Result<Inputs> {
    let given = given
        .iter()
        .map(|b| BatchId::parse(b))
        .collect::<Result<Vec<_>>>()?;
    Ok(match (only, given.is_empty()) {
        (true, _) => Inputs::Only(given),
        (false, true) => Inputs::Tracked,
        (false, false) => Inputs::Add(given),
    })
}

pub(crate) async fn lineage(s: &Session, a: &LineageArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let batch = a.batch.as_deref().map(BatchId::parse).transpose()?;
    let direction = if a.down {
        Direction::Down
    } else {
        Direction::Up
    };
    let l =
        s.ms.lineage(&ident, &spec, batch.as_ref(), direction, a.depth)
            .await?;
    if s.out.json() {
        return s.out.value(&l);
    }
    let n = l.nodes.len();
    s.out.note(&format!(
        "{} {} {n} batch{}",
        l.root,
        match direction {
            Direction::Up => "was built from",
            Direction::Down => "went into",
        },
        if n == 1 { "" } else { "es" }
    ));
    s.out.text(&nodes_table(&l.nodes).render())
}

/// A table of lineage nodes.
fn nodes_table(nodes: &[LineageNode]) -> Table {
    let mut t = Table::new(&[
        "DEPTH",
        "TABLE",
        "PARTITION",
        "BATCH",
        "CURRENT",
        "PINNED BY",
    ]);
    for n in nodes {
        t.row(vec![
            n.depth.to_string(),
            n.batch.table.to_string(),
            n.batch.partition.path(),
            n.batch.batch.to_string(),
            if n.current { "yes" } else { "no" }.to_owned(),
            n.pinned_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    t
}

/// The lines a rollback (or its dry run) prints about what it affects.
/// A real rollback that affects nothing says nothing more.
pub(crate) fn print_impact(s: &Session, impact: &RollbackImpact, dry_run: bool) -> Result<()> {
    if impact.affected.is_empty() {
        if dry_run {
            s.out
                .note("no current batch downstream was built from the batch it would retire");
        }
        return Ok(());
    }
    s.out.note(&format!(
        "{} current batch{} downstream built from the retired batch (rebuild them, or see `meta stale`):",
        impact.affected.len(),
        if impact.affected.len() == 1 { "" } else { "es" }
    ));
    s.out.text(&nodes_table(&impact.affected).render())
}

pub(crate) async fn stale(s: &Session, a: &StaleArgs) -> Result<()> {
    let (ns, table) = match a.scope.as_deref() {
        None => (None, None),
        Some(scope) if scope.contains('.') => {
            let t = TableIdent::parse(scope)?;
            (Some(t.namespace.clone()), Some(t))
        }
        Some(scope) => (Some(NamespaceName::new(scope)?), None),
    };
    let stale = s.ms.stale(ns.as_ref(), table.as_ref()).await?;
    if s.out.json() {
        return s.out.value(&stale);
    }
    let mut t = Table::new(&[
        "TABLE",
        "PARTITION",
        "BATCH",
        "STALE INPUT",
        "INPUT BATCH",
        "NOW CURRENT",
    ]);
    for b in &stale {
        for i in &b.stale_inputs {
            t.row(vec![
                b.batch.table.to_string(),
                b.batch.partition.path(),
                b.batch.batch.to_string(),
                format!("{} {}", i.input.table, i.input.partition.path()),
                i.input.batch.to_string(),
                i.current_batch
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ToString::to_string),
            ]);
        }
    }
    if t.is_empty() {
        s.out
            .note("no current batch was built from an input that is no longer current");
        return Ok(());
    }
    s.out.text(&t.render())
}
