//! Reads: frames (`load`) and their files, what the catalog holds
//! (namespaces, tables, partitions, batches), and `wait` for a publish.

use std::time::Duration;

use arrow_pyarrow::PyArrowType;
use batchmeta::model::{NamespaceName, PinName, Version};
use batchmeta::{ReadRequest, ResolveRequest};
use futures::TryStreamExt;
use pyo3::prelude::*;
use serde_json::Value;

use crate::client::{Client, block};
use crate::convert::{self, batch_json, ident, table_json};
use crate::errors::{IntoPyResult, invalid, to_py};
use crate::runtime::tune_malloc;

/// The version a read asks for: at most one of a batch, a time and a pin.
fn version(
    batch_id: Option<&str>,
    as_of: Option<&Bound<'_, PyAny>>,
    pin: Option<&str>,
) -> PyResult<Version> {
    match (batch_id, as_of.filter(|a| !a.is_none()), pin) {
        (None, None, None) => Ok(Version::Current),
        (Some(b), None, None) => Ok(Version::Batch(convert::batch_id(b)?)),
        (None, Some(t), None) => Ok(Version::AsOf(convert::time(t, "as_of")?)),
        (None, None, Some(p)) => Ok(Version::Pin(PinName::new(p).py()?)),
        _ => Err(invalid(
            "invalid_version",
            "give at most one of batch_id, as_of and pin",
        )),
    }
}

/// Reads partitions as a `pyarrow.Table` (see `batchmeta.load_dataframe`).
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partitions=None, *, batch_id=None, as_of=None, pin=None, columns=None, filters=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn load(
    py: Python<'_>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partitions: Option<&Bound<'_, PyAny>>,
    batch_id: Option<&str>,
    as_of: Option<&Bound<'_, PyAny>>,
    pin: Option<&str>,
    columns: Option<Vec<String>>,
    filters: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArrowType<arrow_pyarrow::Table>> {
    let ident = ident(namespace, table)?;
    let partitions = convert::opt_specs(partitions)?;
    let req = ReadRequest {
        resolve: ResolveRequest {
            partitions,
            version: version(batch_id, as_of, pin)?,
        },
        columns,
        filters: match filters.filter(|f| !f.is_none()) {
            Some(f) => convert::filters(f)?,
            None => Vec::new(),
        },
    };
    tune_malloc();
    let (rt, ms, _) = client.get().handle(py)?;
    let (schema, batches) = block(py, &rt, async {
        let (schema, stream) = ms.read(&ident, &req).await?;
        let batches: Vec<_> = stream.try_collect().await?;
        Ok((schema, batches))
    })?;
    let table = arrow_pyarrow::Table::try_new(batches, schema)
        .map_err(|e| to_py(batchmeta::Error::from(e)))?;
    Ok(PyArrowType(table))
}

/// The full URIs of the files of the resolved partitions.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partitions=None, *, batch_id=None, as_of=None, pin=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn files(
    py: Python<'_>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partitions: Option<&Bound<'_, PyAny>>,
    batch_id: Option<&str>,
    as_of: Option<&Bound<'_, PyAny>>,
    pin: Option<&str>,
) -> PyResult<Vec<String>> {
    let ident = ident(namespace, table)?;
    let partitions = convert::opt_specs(partitions)?;
    let req = ResolveRequest {
        partitions,
        version: version(batch_id, as_of, pin)?,
    };
    let (rt, ms, _) = client.get().handle(py)?;
    block(py, &rt, ms.files(&ident, &req))
}

/// Every batch of one partition (staged and committed), newest first.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None))]
fn batches<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let (rt, ms, _) = client.get().handle(py)?;
    let batches = block(py, &rt, ms.batches(&ident, &spec))?;
    let v: Vec<Value> = batches.iter().map(|b| batch_json(&ms, b)).collect();
    convert::to_python(py, &Value::Array(v))
}

/// Published partitions with their current batches.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, *, prefix=None, limit=None))]
fn partitions<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    prefix: Option<String>,
    limit: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    // Every partition unless a limit is given: a listing that stops
    // short without saying so would look complete.
    let limit = limit.unwrap_or(u32::MAX);
    let (rt, ms, _) = client.get().handle(py)?;
    let items = block(
        py,
        &rt,
        ms.partitions_up_to(&ident, prefix.as_deref(), limit),
    )?;
    convert::partition_rows(py, &items).map(Bound::into_any)
}

/// The tables of a namespace.
#[pyfunction]
fn tables<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let ns = NamespaceName::new(namespace).py()?;
    let (rt, ms, _) = client.get().handle(py)?;
    let tables = block(py, &rt, ms.tables(&ns))?;
    let v: Vec<Value> = tables.iter().map(|t| table_json(&ms, t)).collect();
    convert::to_python(py, &Value::Array(v))
}

/// One table.
#[pyfunction]
fn table<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let (rt, ms, _) = client.get().handle(py)?;
    let t = block(py, &rt, ms.table(&ident))?;
    convert::to_python(py, &table_json(&ms, &t))
}

/// The namespaces.
#[pyfunction]
fn namespaces<'py>(py: Python<'py>, client: &Bound<'_, Client>) -> PyResult<Bound<'py, PyAny>> {
    let (rt, ms, _) = client.get().handle(py)?;
    let ns = block(py, &rt, ms.namespaces())?;
    convert::serialized(py, &ns)
}

/// Waits until a partition is published (after batch `after`, if
/// given); `None` when `timeout` seconds pass first.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partition=None, *, after=None, timeout=60.0))]
fn wait<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partition: Option<&Bound<'py, PyAny>>,
    after: Option<&str>,
    timeout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = convert::partition(partition)?;
    let after = after.map(convert::batch_id).transpose()?;
    let timeout = Duration::try_from_secs_f64(timeout).map_err(|_| {
        invalid(
            "invalid_input",
            "timeout is a non-negative number of seconds",
        )
    })?;
    let (rt, ms, _) = client.get().handle(py)?;
    let got = block(py, &rt, ms.wait(&ident, &spec, after.as_ref(), timeout))?;
    match got {
        Some(r) => convert::to_python(py, &batch_json(&ms, &r.batch)),
        None => Ok(py.None().into_bound(py)),
    }
}

/// Adds these functions to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(files, m)?)?;
    m.add_function(wrap_pyfunction!(batches, m)?)?;
    m.add_function(wrap_pyfunction!(partitions, m)?)?;
    m.add_function(wrap_pyfunction!(tables, m)?)?;
    m.add_function(wrap_pyfunction!(table, m)?)?;
    m.add_function(wrap_pyfunction!(namespaces, m)?)?;
    m.add_function(wrap_pyfunction!(wait, m)?)?;
    Ok(())
}
