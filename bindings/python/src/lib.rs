//! `batchmeta._native`: the Rust side of the `batchmeta` Python package.
//!
//! This file only registers the module. [`client`] holds the `Client`
//! class (a connection) and what every operation shares; the operations are
//! module functions that take the client first, by concern: [`writes`]
//! (store, stage, publish, create), [`reads`] (load, files, listings, wait),
//! [`versions`] (rollback, history, pins, audit), [`lineage`] and
//! [`retention`] (gc, retention policy). [`convert`] turns
//! Python values into core types and back, [`errors`] maps core errors to
//! the exception classes of `batchmeta.errors`, and [`runtime`] owns the
//! one process-wide tokio runtime.

use pyo3::prelude::*;

mod client;
mod convert;
mod errors;
mod lineage;
mod reads;
mod retention;
mod runtime;
mod versions;
mod writes;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    writes::register(m)?;
    reads::register(m)?;
    versions::register(m)?;
    lineage::register(m)?;
    retention::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
