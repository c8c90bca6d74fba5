//! Versions: `rollback`, a partition's `history`, pins, and the audit
//! trail (`events`).

use batchmeta::ResolveRequest;
use batchmeta::model::{
    Action, EventQuery, NamespaceName, NewPin, Order, PinName, PinTarget, RollbackRequest, Version,
};
use pyo3::prelude::*;

use crate::client::{Client, DEFAULT_LIST_LIMIT, all_pages, block};
use crate::convert::{self, ident};
use crate::errors::{IntoPyResult, invalid};

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
    let events = block(
        py,
        &rt,
        all_pages(limit, |cursor, size| {
            let (ms, ident, spec) = (&ms, &ident, &spec);
            async move { ms.history(ident, spec, cursor.as_deref(), Some(size)).await }
        }),
    )?;
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
    let spec = convert::opt_spec(partition)?;
    let as_of = as_of
        .filter(|a| !a.is_none())
        .map(|a| convert::time(a, "as_of"))
        .transpose()?;
    let batch = batch_id.map(convert::batch_id).transpose()?;
    let expires_at = expires_at
        .filter(|a| !a.is_none())
        .map(|a| convert::future_time(a, "expires_at"))
        .transpose()?;
    if spec.is_some() && as_of.is_some() {
        return Err(invalid(
            "invalid_pin",
            "a pin holds a partition's batch or the whole table as of a time: give partition (and batch_id) or as_of, not both",
        ));
    }
    if spec.is_none() && batch.is_some() {
        return Err(invalid(
            "invalid_pin",
            "batch_id names a partition's batch: give the partition too",
        ));
    }
    let (rt, ms, ctx) = client.get().handle(py)?;
    let pin = block(py, &rt, async {
        let target = match spec {
            Some(spec) => {
                let partition = ms.partition(&ident, &spec).await?;
                let batch = match batch {
                    Some(b) => b,
                    None => {
                        let req = ResolveRequest {
                            partitions: Some(vec![spec.clone()]),
                            version: Version::Current,
                        };
                        let resolved = ms.resolve(&ident, &req).await?;
                        resolved
                            .into_iter()
                            .next()
                            .map(|r| r.batch.id)
                            .ok_or_else(|| {
                                batchmeta::Error::not_found(
                                    batchmeta::error::Object::Partition,
                                    partition.path(),
                                )
                            })?
                    }
                };
                PinTarget::Batch { partition, batch }
            }
            None => PinTarget::AsOf {
                at: as_of.unwrap_or_else(chrono::Utc::now),
            },
        };
        let new = NewPin {
            name,
            owner,
            reason,
            target,
            expires_at,
        };
        ms.create_pin(&ctx, &ident, &new).await
    })?;
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
    let (ident, only_namespace) = match (namespace, table) {
        (Some(n), Some(t)) => (Some(ident(n, t)?), None),
        (Some(n), None) => (None, Some(NamespaceName::new(n).py()?)),
        (None, None) => (None, None),
        (None, Some(_)) => {
            return Err(invalid(
                "invalid_input",
                "a table needs its namespace: pins(namespace, table), pins(namespace) or pins() for every pin",
            ));
        }
    };
    let (rt, ms, _) = client.get().handle(py)?;
    let mut pins = block(py, &rt, async {
        if let Some(ns) = &only_namespace {
            ms.require_namespace(ns).await?;
        }
        ms.pins(ident.as_ref()).await
    })?;
    if let Some(ns) = &only_namespace {
        pins.retain(|p| p.table.namespace == *ns);
    }
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
    let table_ident = match (namespace, table) {
        (Some(n), Some(t)) => Some(ident(n, t)?),
        (_, None) => None,
        (None, Some(_)) => {
            return Err(invalid("invalid_input", "a table needs its namespace"));
        }
    };
    let ns = match (namespace, &table_ident) {
        (Some(n), None) => Some(NamespaceName::new(n).py()?),
        _ => None,
    };
    let spec = convert::opt_spec(partition)?;
    if spec.is_some() && table_ident.is_none() {
        return Err(invalid("invalid_input", "a partition needs its table"));
    }
    let action = action.map(|a| Action::parse(a).py()).transpose()?;
    let since = since
        .filter(|a| !a.is_none())
        .map(|a| convert::time(a, "since"))
        .transpose()?;
    let until = until
        .filter(|a| !a.is_none())
        .map(|a| convert::time(a, "until"))
        .transpose()?;
    let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT);
    let (rt, ms, _) = client.get().handle(py)?;
    let events = block(py, &rt, async {
        let partition = match (&table_ident, &spec) {
            (Some(t), Some(s)) => Some(ms.partition(t, s).await?),
            _ => None,
        };
        let query = EventQuery {
            namespace: ns,
            table: table_ident.clone(),
            partition,
            principal,
            action,
            since,
            until,
            after,
            order: if after.is_some() {
                Order::OldestFirst
            } else {
                Order::NewestFirst
            },
            cursor: None,
            limit: None,
        };
        all_pages(limit, |cursor, size| {
            let (ms, query) = (
                &ms,
                EventQuery {
                    cursor,
                    limit: Some(size),
                    ..query.clone()
                },
            );
            async move { ms.events(&query).await }
        })
        .await
    })?;
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
