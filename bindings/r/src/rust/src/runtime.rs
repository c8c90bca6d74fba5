//! The one process-wide tokio runtime, rebuilt after `fork()` (as
//! `parallel::mclapply` does): a forked child inherits none of the parent's
//! threads, so its runtime is leaked on purpose and a new one built.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::runtime::{Builder, Runtime};

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process (built on first use, and again after a fork).
pub(crate) fn rt() -> batchmeta::Result<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return Ok(rt.clone());
    }
    if let Some((_, inherited)) = slot.take() {
        std::mem::forget(inherited);
    }
    let rt = Arc::new(
        Builder::new_multi_thread()
            .enable_all()
            .thread_name("batchmeta")
            .build()
            .map_err(|e| {
                batchmeta::Error::Internal(format!("cannot start the I/O runtime: {e}"))
            })?,
    );
    *slot = Some((pid, rt.clone()));
    Ok(rt)
}
