//! The one process-wide tokio runtime, rebuilt after `fork()`.
//!
//! A forked child inherits the parent's memory but none of its threads, so
//! the parent's runtime (and every connection pool bound to it) is dead in
//! the child. Each use checks the process id; in a new process a new
//! runtime is built and the old one is leaked on purpose: dropping it would
//! try to join threads that do not exist.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::{Builder, Runtime};

use crate::errors::internal;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process (built on first use, and again after a fork).
pub(crate) fn rt() -> pyo3::PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    if let Some((_, inherited)) = slot.take() {
        // Inherited across fork(): its worker threads are gone.
        std::mem::forget(inherited);
    }
    let rt = Arc::new(
        Builder::new_multi_thread()
            .enable_all()
            .thread_name("batchmeta")
            .build()
            .map_err(|e| internal(format!("cannot start the I/O runtime: {e}")))?,
    );
    *slot = Some((pid, rt.clone()));
    Ok(rt)
}
