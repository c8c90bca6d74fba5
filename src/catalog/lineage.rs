//! Lineage rules, written once for every backend and the remote client:
//! the inputs a publish may record, the walks upstream and downstream, the
//! impact of a rollback and the stale query (DESIGN §9).
//!
//! Backends store edges and answer one step ([`Catalog::lineage_edges`]);
//! the walks here call only trait methods, so an embedded catalog, a
//! PostgreSQL one and a server's answer the same.
//!
//! The graph stays acyclic by construction: an edge is recorded only when
//! its batch is first published, and every input must already be
//! committed, so no input can be built from the batch that lists it. The
//! one cycle a request can name is a batch of the publish itself.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Catalog;
use super::row::Columns;
use crate::error::{Code, Error, Result};
use crate::model::{
    BatchId, BatchRef, BatchState, Direction, Lineage, LineageEdge, LineageNode, MAX_DEPTH,
    MAX_INPUTS, PartitionValues, PublishPlan, RollbackImpact, StaleBatch, StaleInput, TableIdent,
    Version,
};

/// The inputs of a publish, checked before any lookup: at most
/// [`MAX_INPUTS`], none a batch of the publish itself. Repeats are dropped.
pub(crate) fn plan_inputs(plan: &PublishPlan) -> Result<Vec<BatchId>> {
    if plan.inputs.len() > MAX_INPUTS {
        return Err(Error::invalid(
            Code::TooManyInputs,
            format!(
                "{} input batches given, at most {MAX_INPUTS} are recorded: name the batches the data was built from, not every batch read",
                plan.inputs.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(plan.inputs.len());
    for input in &plan.inputs {
        if plan.items.iter().any(|i| &i.batch == input) {
            return Err(Error::invalid(
                Code::LineageCycle,
                format!(
                    "batch {input} is listed as an input of its own publish: a batch cannot be built from itself; remove it from the inputs"
                ),
            ));
        }
        if seen.insert(input) {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// An input batch as the catalog found it (its state, or `None`): only a
/// committed batch can be an input.
pub(crate) fn input_admissible(input: &BatchId, state: Option<BatchState>) -> Result<()> {
    match state {
        Some(BatchState::Committed) => Ok(()),
        None => Err(Error::invalid(
            Code::InputBatchNotFound,
            format!(
                "input batch {input} does not exist: name a published batch (see `meta history`)"
            ),
        )),
        Some(s) => Err(Error::invalid(
            Code::InputNotCommitted,
            format!(
                "input batch {input} is {}, not published: only published batches can be inputs",
                s.as_str()
            ),
        )),
    }
}

/// The `details` of a publish event that recorded inputs.
pub(crate) fn publish_details(inputs: &[BatchId]) -> Option<serde_json::Value> {
    (!inputs.is_empty()).then(|| serde_json::json!({ "inputs": inputs }))
}

/// The columns [`edge`] reads, in its order (a literal, for `concat!`): the
/// built batch `ob` and its input `ib`, each with partition, table and
/// namespace.
macro_rules! edge_columns {
    () => {
        "ob.batch_id, obn.name, obt.name, obt.partition_keys, obp.path, \
    ib.batch_id, ibn.name, ibt.name, ibt.partition_keys, ibp.path"
    };
}
pub(crate) use edge_columns;

/// The joins [`edge_columns`] reads from (a literal, for `concat!`).
macro_rules! edge_joins {
    () => {
        " FROM batch_inputs e \
    JOIN batches ob ON ob.id = e.batch_pk JOIN partitions obp ON obp.id = ob.partition_id \
    JOIN tables obt ON obt.id = obp.table_id JOIN namespaces obn ON obn.id = obt.namespace_id \
    JOIN batches ib ON ib.id = e.input_pk JOIN partitions ibp ON ibp.id = ib.partition_id \
    JOIN tables ibt ON ibt.id = ibp.table_id JOIN namespaces ibn ON ibn.id = ibt.namespace_id "
    };
}
pub(crate) use edge_joins;

/// Decodes one edge row ([`edge_columns`]).
pub(crate) fn edge(r: &impl Columns) -> Result<LineageEdge> {
    let at = |i: usize| -> Result<BatchRef> {
        let keys: Vec<crate::model::PartitionKey> = r.json(i + 3)?;
        Ok(BatchRef {
            batch: r.batch_id(i)?,
            table: TableIdent::new(r.text(i + 1)?, r.text(i + 2)?)?,
            partition: PartitionValues::from_stored(&keys, r.text(i + 4)?)?,
        })
    };
    Ok(LineageEdge {
        batch: at(0)?,
        input: at(5)?,
    })
}

/// A walk's depth: 1 to [`MAX_DEPTH`], default all of it.
pub(crate) fn depth(depth: Option<u32>) -> Result<u32> {
    match depth {
        None => Ok(MAX_DEPTH),
        Some(d) if (1..=MAX_DEPTH).contains(&d) => Ok(d),
        Some(d) => Err(Error::invalid(
            Code::InvalidLimit,
            format!("depth {d} is out of range: give 1 to {MAX_DEPTH}"),
        )),
    }
}

/// Walks from `root` in `direction`, at most `depth` edges, each batch once
/// (at its nearest depth), and says of each whether it is current and which
/// pins hold it.
pub(crate) async fn walk(
    catalog: &dyn Catalog,
    root: BatchRef,
    direction: Direction,
    depth: u32,
) -> Result<Lineage> {
    let mut seen: HashSet<BatchId> = HashSet::from([root.batch.clone()]);
    let mut frontier = vec![root.batch.clone()];
    let mut reached: Vec<(BatchRef, u32, Vec<BatchId>)> = Vec::new();
    for level in 1..=depth {
        if frontier.is_empty() {
            break;
        }
        let edges = catalog.lineage_edges(&frontier, direction).await?;
        let mut next: BTreeMap<BatchRef, Vec<BatchId>> = BTreeMap::new();
        for e in edges {
            let (from, to) = match direction {
                Direction::Up => (e.batch, e.input),
                Direction::Down => (e.input, e.batch),
            };
            if !seen.contains(&to.batch) {
                next.entry(to).or_default().push(from.batch);
            }
        }
        frontier = Vec::with_capacity(next.len());
        for (to, via) in next {
            seen.insert(to.batch.clone());
            frontier.push(to.batch.clone());
            reached.push((to, level, via));
        }
    }
    let mut status = Status::default();
    let mut nodes = Vec::with_capacity(reached.len());
    for (batch, depth, via) in reached {
        let current = status.current(catalog, &batch).await? == Some(batch.batch.clone());
        let pinned_by = catalog
            .pins_holding(&batch.table, &batch.batch)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        nodes.push(LineageNode {
            batch,
            depth,
            via,
            current,
            pinned_by,
        });
    }
    Ok(Lineage {
        root,
        direction,
        nodes,
    })
}

/// Which current batches downstream were built from the batches `retired`.
pub(crate) async fn impact(
    catalog: &dyn Catalog,
    retired: Vec<BatchRef>,
) -> Result<RollbackImpact> {
    let mut affected: Vec<LineageNode> = Vec::new();
    for r in &retired {
        let down = walk(catalog, r.clone(), Direction::Down, MAX_DEPTH).await?;
        for n in down.nodes.into_iter().filter(|n| n.current) {
            if !affected.iter().any(|a| a.batch == n.batch) {
                affected.push(n);
            }
        }
    }
    Ok(RollbackImpact { retired, affected })
}

/// The current batches of `tables` built from an input its partition has
/// moved away from.
pub(crate) async fn stale(catalog: &dyn Catalog, tables: &[TableIdent]) -> Result<Vec<StaleBatch>> {
    let mut status = Status::default();
    let mut out = Vec::new();
    for t in tables {
        let current = catalog.resolve(t, None, &Version::Current).await?;
        let ids: Vec<BatchId> = current.iter().map(|r| r.batch.id.clone()).collect();
        let mut by_batch: HashMap<BatchId, Vec<BatchRef>> = HashMap::new();
        for chunk in ids.chunks(MAX_INPUTS) {
            for e in catalog.lineage_edges(chunk, Direction::Up).await? {
                by_batch.entry(e.batch.batch).or_default().push(e.input);
            }
        }
        for r in current {
            let Some(inputs) = by_batch.remove(&r.batch.id) else {
                continue;
            };
            let mut stale_inputs = Vec::new();
            for input in inputs {
                let now = status.current(catalog, &input).await?;
                if now.as_ref() != Some(&input.batch) {
                    stale_inputs.push(StaleInput {
                        input,
                        current_batch: now,
                    });
                }
            }
            if !stale_inputs.is_empty() {
                out.push(StaleBatch {
                    batch: BatchRef {
                        table: t.clone(),
                        partition: r.partition,
                        batch: r.batch.id,
                    },
                    stale_inputs,
                });
            }
        }
    }
    Ok(out)
}

/// The current batch of each partition asked about, asked once.
#[derive(Default)]
struct Status {
    current: HashMap<(TableIdent, PartitionValues), Option<BatchId>>,
}

impl Status {
    async fn current(&mut self, catalog: &dyn Catalog, b: &BatchRef) -> Result<Option<BatchId>> {
        let key = (b.table.clone(), b.partition.clone());
        if let Some(c) = self.current.get(&key) {
            return Ok(c.clone());
        }
        let found = match catalog
            .resolve(
                &b.table,
                Some(std::slice::from_ref(&b.partition)),
                &Version::Current,
            )
            .await
        {
            Ok(mut r) => r.pop().map(|r| r.batch.id),
            // A dropped table or a partition never published has no current batch.
            Err(e) if e.kind() == crate::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        self.current.insert(key, found.clone());
        Ok(found)
    }
}

/// Deduplicates tables, keeping order.
pub(crate) fn distinct_tables(tables: impl IntoIterator<Item = TableIdent>) -> Vec<TableIdent> {
    let mut seen = BTreeSet::new();
    tables
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}
