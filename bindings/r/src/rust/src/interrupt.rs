//! Ctrl-C while Rust runs.
//!
//! `R_CheckUserInterrupt` jumps (longjmp) out of the caller when the user
//! pressed Ctrl-C, which must never happen across Rust frames. Run inside
//! `R_ToplevelExec` the jump ends at that boundary instead, and the call
//! reports whether it completed: the pattern cpp11 and Rcpp use. The check
//! also fires R's `setTimeLimit()`.

use std::ffi::{c_int, c_void};

unsafe extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> c_int;
    fn R_CheckUserInterrupt();
}

unsafe extern "C" fn check(_: *mut c_void) {
    // SAFETY: called by R_ToplevelExec on R's main thread; a jump out of
    // here ends at R_ToplevelExec.
    unsafe { R_CheckUserInterrupt() }
}

/// Whether the user interrupted (Ctrl-C, or a time limit ran out). Must be
/// called on R's main thread (the one that called into the package).
pub(crate) fn pending() -> bool {
    // SAFETY: R_ToplevelExec runs `check` with a null argument it ignores;
    // it returns FALSE (0) when `check` was left by a jump.
    unsafe { R_ToplevelExec(Some(check), std::ptr::null_mut()) == 0 }
}
