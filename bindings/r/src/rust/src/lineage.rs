//! Lineage: `bm_lineage` (up or down from a partition's batch),
//! `bm_rollback_impact` (a rollback's dry run), `bm_stale`, and the inputs
//! a store names. The client's run notes what it reads (see `bm_connect`).

use batchmeta::Inputs;
use batchmeta::model::{
    BatchId, BatchRef, Direction, LineageNode, NamespaceName, RollbackRequest, TableIdent,
};
use extendr_api::prelude::*;

use crate::client::{answer, block, get_client, ident};
use crate::errors::{IntoR, RResult, invalid};
use crate::values::{self, named, opt_nums, opt_str, opt_strs};

/// The inputs of a store: `inputs` besides what the run read, or only
/// `inputs` when `track_reads` is `FALSE`.
pub(crate) fn store_inputs(inputs: &Robj, track_reads: &Robj) -> RResult<Inputs> {
    let given = values::opt_strings(inputs, "inputs")?
        .unwrap_or_default()
        .iter()
        .map(|b| values::batch_id(b))
        .collect::<RResult<Vec<BatchId>>>()?;
    let track = values::opt_bool(track_reads, "track_reads")?.unwrap_or(true);
    Ok(match (track, given.is_empty()) {
        (false, _) => Inputs::Only(given),
        (true, true) => Inputs::Tracked,
        (true, false) => Inputs::Add(given),
    })
}

/// Lineage nodes as columns.
fn node_columns(nodes: &[LineageNode]) -> Robj {
    let refs: Vec<&BatchRef> = nodes.iter().map(|n| &n.batch).collect();
    let tables: Vec<String> = refs.iter().map(|r| r.table.to_string()).collect();
    let paths: Vec<String> = refs.iter().map(|r| r.partition.path()).collect();
    let pins: Vec<String> = nodes
        .iter()
        .map(|n| {
            n.pinned_by
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    named(
        &[
            "table",
            "partition",
            "batch_id",
            "depth",
            "current",
            "pinned_by",
        ],
        vec![
            opt_strs(tables.iter().map(|s| Some(s.as_str()))),
            opt_strs(paths.iter().map(|s| Some(s.as_str()))),
            opt_strs(refs.iter().map(|r| Some(r.batch.as_str()))),
            opt_nums(nodes.iter().map(|n| Some(f64::from(n.depth)))),
            Logicals::from_values(nodes.iter().map(|n| Rbool::from(n.current))).into(),
            opt_strs(pins.iter().map(|s| Some(s.as_str()))),
        ],
    )
}

/// Upstream (`"up"`) or downstream (`"down"`) of a partition's batch.
#[extendr]
fn bm_lineage(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    batch_id: Robj,
    direction: Robj,
    depth: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let batch = opt_str(&batch_id, "batch_id")?
            .map(|b| values::batch_id(&b))
            .transpose()?;
        let direction = match opt_str(&direction, "direction")?.as_deref() {
            None | Some("up") => Direction::Up,
            Some("down") => Direction::Down,
            Some(other) => {
                return Err(invalid(
                    "invalid_query",
                    format!("direction {other:?} is neither \"up\" nor \"down\""),
                ));
            }
        };
        let depth = values::opt_u32(&depth, "depth")?;
        let (ms, _) = c.handle()?;
        let l = block(
            "lineage",
            ms.lineage(&ident, &spec, batch.as_ref(), direction, depth),
        )?;
        Ok(node_columns(&l.nodes))
    })())
}

/// The current batches downstream a rollback would affect; moves nothing.
#[extendr]
fn bm_rollback_impact(client: Robj, namespace: Robj, table: Robj, partition: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let (ms, _) = c.handle()?;
        let impact = block(
            "rollback_impact",
            ms.rollback_impact(&ident, &spec, &RollbackRequest::default()),
        )?;
        Ok(node_columns(&impact.affected))
    })())
}

/// Current batches built from inputs that are no longer current: one row
/// per stale input.
#[extendr]
fn bm_stale(client: Robj, namespace: Robj, table: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ns = opt_str(&namespace, "namespace")?;
        let t = opt_str(&table, "table")?;
        let nsn = ns.as_deref().map(NamespaceName::new).transpose().r()?;
        let ident = match (&ns, &t) {
            (Some(ns), Some(t)) => Some(TableIdent::new(ns, t).r()?),
            (None, Some(_)) => {
                return Err(invalid(
                    "invalid_query",
                    "stale(table = ...) needs namespace = ... too",
                ));
            }
            _ => None,
        };
        let (ms, _) = c.handle()?;
        let stale = block("stale", ms.stale(nsn.as_ref(), ident.as_ref()))?;
        let rows: Vec<(&BatchRef, &BatchRef)> = stale
            .iter()
            .flat_map(|s| s.stale_inputs.iter().map(move |i| (&s.batch, &i.input)))
            .collect();
        let text = |f: &dyn Fn(&(&BatchRef, &BatchRef)) -> String| -> Vec<String> {
            rows.iter().map(f).collect()
        };
        let cols = [
            text(&|r| r.0.table.to_string()),
            text(&|r| r.0.partition.path()),
            text(&|r| r.0.batch.to_string()),
            text(&|r| r.1.table.to_string()),
            text(&|r| r.1.partition.path()),
            text(&|r| r.1.batch.to_string()),
        ];
        Ok(named(
            &[
                "table",
                "partition",
                "batch_id",
                "input_table",
                "input_partition",
                "input_batch_id",
            ],
            cols.iter()
                .map(|c| opt_strs(c.iter().map(|s| Some(s.as_str()))))
                .collect(),
        ))
    })())
}

extendr_module! {
    mod lineage;
    fn bm_lineage;
    fn bm_rollback_impact;
    fn bm_stale;
}
