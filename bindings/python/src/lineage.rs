//! Lineage: `lineage` (up or down from a partition's batch), `stale`,
//! `rollback_impact` (a rollback's dry run), and the inputs a store names.
//! The client's run notes what it reads (see `Client::new`).

use batchmeta::Inputs;
use batchmeta::model::{BatchId, Direction, NamespaceName, RollbackRequest, TableIdent};
use pyo3::prelude::*;

use crate::client::{Client, block};
use crate::convert::{self, ident};
use crate::errors::{IntoPyResult, invalid};

/// The inputs of a store: `inputs` besides what the run read, or only
/// `inputs` when `track_reads` is false.
pub(crate) fn store_inputs(inputs: Option<Vec<String>>, track_reads: bool) -> PyResult<Inputs> {
    let given = inputs
        .unwrap_or_default()
        .iter()
        .map(|b| convert::batch_id(b))
        .collect::<PyResult<Vec<BatchId>>>()?;
    Ok(match (track_reads, given.is_empty()) {
        (false, _) => Inputs::Only(given),
        (true, true) => Inputs::Tracked,
        (true, false) => Inputs::Add(given),
    })
}

/// Upstream (`direction="up"`) or downstream (`"down"`) of a partition's batch.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None, *, batch_id=None, direction="up", depth=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn lineage<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
    batch_id: Option<&str>,
    direction: &str,
    depth: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let batch = batch_id.map(convert::batch_id).transpose()?;
    let direction = match direction {
        "up" => Direction::Up,
        "down" => Direction::Down,
        other => {
            return Err(invalid(
                "invalid_query",
                format!("direction {other:?} is neither \"up\" nor \"down\""),
            ));
        }
    };
    let (rt, ms, _) = client.get().handle(py)?;
    let l = block(
        py,
        &rt,
        ms.lineage(&ident, &spec, batch.as_ref(), direction, depth),
    )?;
    convert::serialized(py, &l)
}

/// What rolling a partition back would retire and affect; moves nothing.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None, *, to=None, expected_batch=None))]
fn rollback_impact<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
    to: Option<&str>,
    expected_batch: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let req = RollbackRequest {
        to: to.map(convert::batch_id).transpose()?,
        expect: expected_batch.map(convert::batch_id).transpose()?,
        message: None,
    };
    let (rt, ms, _) = client.get().handle(py)?;
    let impact = block(py, &rt, ms.rollback_impact(&ident, &spec, &req))?;
    convert::serialized(py, &impact)
}

/// Current batches built from inputs that are no longer current.
#[pyfunction]
#[pyo3(signature = (client, namespace=None, table=None))]
fn stale<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: Option<&str>,
    table: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let ns = namespace.map(NamespaceName::new).transpose().py()?;
    let t = match (namespace, table) {
        (Some(ns), Some(t)) => Some(TableIdent::new(ns, t).py()?),
        (None, Some(_)) => {
            return Err(invalid(
                "invalid_query",
                "stale(table=...) needs namespace=... too",
            ));
        }
        _ => None,
    };
    let (rt, ms, _) = client.get().handle(py)?;
    let s = block(py, &rt, ms.stale(ns.as_ref(), t.as_ref()))?;
    convert::serialized(py, &s)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lineage, m)?)?;
    m.add_function(wrap_pyfunction!(rollback_impact, m)?)?;
    m.add_function(wrap_pyfunction!(stale, m)?)?;
    Ok(())
}
