//! Retention: `gc` (a dry run unless `apply`) and `set_retention` (a
//! table's or namespace's policy properties). Embedded, `gc` runs here;
//! against a server, the server runs it (`POST /v1/gc`).

use batchmeta::api::GcBody;
use batchmeta::catalog::retention::policy_update;
use batchmeta::model::NamespaceName;
use pyo3::prelude::*;

use crate::client::{Client, block};
use crate::convert::{self, ident};
use crate::errors::IntoPyResult;

/// Runs retention over every table, a namespace's or one table's.
#[pyfunction]
#[pyo3(signature = (client, namespace=None, table=None, *, older_than=None, keep_last=None, grace=None, force_grace=false, apply=false))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn gc<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: Option<String>,
    table: Option<String>,
    older_than: Option<String>,
    keep_last: Option<u32>,
    grace: Option<String>,
    force_grace: bool,
    apply: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let req = GcBody {
        namespace,
        table,
        older_than,
        keep_last,
        grace,
        force_grace,
        apply,
    }
    .request()
    .py()?;
    let (rt, ms, ctx) = client.get().handle(py)?;
    let report = block(py, &rt, ms.gc(&ctx, &req))?;
    convert::serialized(py, &report)
}

/// Sets (a value) or removes (`None`) retention settings of a table, or of
/// a namespace (the default of its tables) when `table` is `None`; returns
/// the table or namespace.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, settings))]
fn set_retention<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: Option<&str>,
    settings: Vec<(String, Option<String>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let pairs: Vec<(&str, Option<&str>)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    let update = policy_update(&pairs).py()?;
    let (rt, ms, ctx) = client.get().handle(py)?;
    match table {
        Some(t) => {
            let ident = ident(namespace, t)?;
            let t = block(py, &rt, ms.update_table(&ctx, &ident, &update))?;
            convert::to_python(py, &convert::table_json(&ms, &t))
        }
        None => {
            let ns = NamespaceName::new(namespace).py()?;
            let n = block(py, &rt, ms.update_namespace(&ctx, &ns, &update))?;
            convert::serialized(py, &n)
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(gc, m)?)?;
    m.add_function(wrap_pyfunction!(set_retention, m)?)?;
    Ok(())
}
