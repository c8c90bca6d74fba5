//! Core errors become the exception classes of `batchmeta.errors`, once,
//! here: the class by [`ErrorKind`], `.code` from [`Error::code`], and
//! `.current_batch` for conflicts. Nothing else in the bindings picks an
//! exception class.

use batchmeta::model::Edge;
use batchmeta::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The exception class name for an error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::TooLarge => "InvalidInputError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AlreadyExists => "AlreadyExistsError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::SchemaMismatch => "SchemaMismatchError",
        ErrorKind::Unauthorized => "AuthenticationError",
        ErrorKind::Forbidden => "PermissionError",
        ErrorKind::RateLimited => "RateLimitedError",
        ErrorKind::Unavailable => "UnavailableError",
        ErrorKind::InsufficientStorage => "InsufficientStorageError",
        _ => "BatchmetaError",
    }
}

/// Builds an instance of `batchmeta.errors.<class>`; falls back to a
/// `RuntimeError` only if the Python package itself is broken.
fn raise(class: &str, message: &str, code: &str, current_batch: Option<&str>) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let cls = py.import("batchmeta.errors")?.getattr(class)?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("code", code)?;
            if class == "ConflictError" {
                kwargs.set_item("current_batch", current_batch)?;
            }
            Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
        };
        build().unwrap_or_else(|e| e)
    })
}

/// The Python exception for a core error.
pub(crate) fn to_py(e: Error) -> PyErr {
    let current = match &e {
        Error::Conflict { current, .. } => current.as_ref().map(|b| b.as_str().to_owned()),
        _ => None,
    };
    raise(
        class_name(e.kind()),
        &e.message_for(Edge::Python),
        e.code(),
        current.as_deref(),
    )
}

/// An `InvalidInputError` raised by the bindings themselves.
pub(crate) fn invalid(code: &str, message: impl Into<String>) -> PyErr {
    raise("InvalidInputError", &message.into(), code, None)
}

/// A `BatchmetaError` for something broken in the environment.
pub(crate) fn internal(message: impl Into<String>) -> PyErr {
    raise("BatchmetaError", &message.into(), "internal_error", None)
}

/// `.map_err(to_py)` as a method.
pub(crate) trait IntoPyResult<T> {
    /// Maps a core error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for batchmeta::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
