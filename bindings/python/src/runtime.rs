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

/// Fixes glibc malloc's mmap threshold at 4 MiB, once per process, before
/// the first store or load.
///
/// glibc raises the threshold each time a block above it is freed (up to
/// 32 MiB). A load frees a stream of such blocks (fetched column chunks,
/// decompressed pages) while it allocates the long-lived columns of the
/// result; once the threshold has risen, both come from the same heaps, and
/// the freed space is scattered between live columns where it is neither
/// reused nor returned. Measured on a 10,000,000-row frame (850 MiB): a
/// load peaked 1.26x the frame above the baseline with the moving
/// threshold and 1.12x with it fixed, at the same speed (fixed at 128 KiB
/// it is 1.05x but slower). Setting it turns glibc's adjustment off for
/// the whole process, so a user who sets `MALLOC_MMAP_THRESHOLD_` (or
/// `BATCHMETA_KEEP_MALLOC=1`) keeps their own settings.
pub(crate) fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
                || std::env::var_os("BATCHMETA_KEEP_MALLOC").is_some_and(|v| v == "1")
            {
                return;
            }
            #[expect(
                unsafe_code,
                reason = "mallopt only sets a number in glibc's allocator state; it has no memory-safety preconditions"
            )]
            // SAFETY: mallopt takes two integers and touches no caller memory.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
            }
        });
    }
}
