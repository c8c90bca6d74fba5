//! `batchmeta._native`: the Rust side of the `batchmeta` Python package.
//!
//! This file only registers the module. [`client`] holds the `Client`
//! class (every operation of the core facade), [`convert`] turns Python
//! values into core types and back, [`errors`] maps core errors to the
//! exception classes of `batchmeta.errors`, and [`runtime`] owns the one
//! process-wide tokio runtime.

use pyo3::prelude::*;

mod client;
mod convert;
mod errors;
mod runtime;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
