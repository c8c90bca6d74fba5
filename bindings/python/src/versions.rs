//! Versions: `rollback`, a partition's `history`, pins, and the audit
//! trail (`events`).

use batchmeta::metastore::{DEFAULT_LIST_LIMIT, EventFilter, PinRequest};
use batchmeta::model::{Action, PinName, RollbackRequest, Scope};
use pyo3::prelude::*;

use crate::client::{Client, block};
use crate::convert::{self, ident};
use crate::errors::IntoPyResult;

/// Rolls one partition back to its previous batch (or to `to`).
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None, *, to=None, expected_batch=None, message=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn rollback<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
    to: Option<&str>,
    expected_batch: Option<&str>,
    message: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let req = RollbackRequest {
        to: to.map(convert::batch_id).transpose()?,
        expect: expected_batch.map(convert::batch_id).transpose()?,
        message,
    };
    let (rt, ms, ctx) = client.get().handle(py)?;
    let event = block(py, &rt, ms.rollback(&ctx, &ident, &spec, &req))?;
    convert::serialized(py, &event)
}

/// The pointer moves of one partition, newest first.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None, *, limit=None))]
fn history<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
    limit: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT);
    let (rt, ms, _) = client.get().handle(py)?;
    let events = block(py, &rt, ms.history_up_to(&ident, &spec, limit))?;
    convert::serialized(py, &events)
}

/// Pins a partition's batch (current or `batch_id`), or the whole table
/// as of a time.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, name, partition=None, *, batch_id=None, as_of=None, owner=None, reason=None, expires_at=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn pin<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    name: &str,
    partition: Option<&Bound<'py, PyAny>>,
    batch_id: Option<&str>,
    as_of: Option<&Bound<'py, PyAny>>,
    owner: Option<String>,
    reason: Option<String>,
    expires_at: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let name = PinName::new(name).py()?;
    let mut req = PinRequest {
        partition: convert::opt_spec(partition)?,
        batch: batch_id.map(convert::batch_id).transpose()?,
        as_of: as_of
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "as_of"))
            .transpose()?,
        owner,
        reason,
        expires_at: expires_at
            .filter(|a| !a.is_none())
            .map(|a| convert::future_time(a, "expires_at"))
            .transpose()?,
    };
    // Neither a partition nor a time: the whole table as it is now.
    if req.partition.is_none() && req.batch.is_none() && req.as_of.is_none() {
        req.as_of = Some(chrono::Utc::now());
    }
    let (rt, ms, ctx) = client.get().handle(py)?;
    let pin = block(py, &rt, ms.pin_version(&ctx, &ident, name, &req))?;
    convert::serialized(py, &pin)
}

/// Deletes a pin.
#[pyfunction]
fn unpin(
    py: Python<'_>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    name: &str,
) -> PyResult<()> {
    let ident = ident(namespace, table)?;
    let name = PinName::new(name).py()?;
    let (rt, ms, ctx) = client.get().handle(py)?;
    block(py, &rt, ms.delete_pin(&ctx, &ident, &name))
}

/// The pins of a table (or of every table).
#[pyfunction]
#[pyo3(signature = (client, namespace=None, table=None))]
fn pins<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: Option<&str>,
    table: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let scope = Scope::parse(namespace, table).py()?;
    let (rt, ms, _) = client.get().handle(py)?;
    let pins = block(py, &rt, ms.pins_in(&scope))?;
    convert::serialized(py, &pins)
}

/// Queries the audit trail.
#[pyfunction]
#[pyo3(signature = (client, namespace=None, table=None, partition=None, *, action=None, principal=None, since=None, until=None, after=None, limit=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn events<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: Option<&str>,
    table: Option<&str>,
    partition: Option<&Bound<'py, PyAny>>,
    action: Option<&str>,
    principal: Option<String>,
    since: Option<&Bound<'py, PyAny>>,
    until: Option<&Bound<'py, PyAny>>,
    after: Option<i64>,
    limit: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let filter = EventFilter {
        scope: Scope::parse(namespace, table).py()?,
        partition: convert::opt_spec(partition)?,
        principal,
        action: action.map(|a| Action::parse(a).py()).transpose()?,
        since: since
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "since"))
            .transpose()?,
        until: until
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "until"))
            .transpose()?,
        after,
    };
    let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT);
    let (rt, ms, _) = client.get().handle(py)?;
    let events = block(py, &rt, ms.events_up_to(&filter, limit))?;
    convert::event_columns(py, &events).map(Bound::into_any)
}

/// Adds these functions to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rollback, m)?)?;
    m.add_function(wrap_pyfunction!(history, m)?)?;
    m.add_function(wrap_pyfunction!(pin, m)?)?;
    m.add_function(wrap_pyfunction!(unpin, m)?)?;
    m.add_function(wrap_pyfunction!(pins, m)?)?;
    m.add_function(wrap_pyfunction!(events, m)?)?;
    Ok(())
}
