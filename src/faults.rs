//! Test-only faults, for the negative controls that prove a harness can fail.
//!
//! With the `faults` feature (turned on only by this workspace's
//! dev-dependencies, so `cargo test` builds have it and `cargo build`,
//! `make run` and the Python wheel do not) a fault is switched on at run time
//! by naming it in `BATCHMETA_FAULTS` (comma separated). Without the feature
//! [`active`] is `false` and the faulty paths compile away.
//!
//! Faults:
//! - `read_then_update_publish`: the PostgreSQL publish reads the partition
//!   pointers without a lock, decides the compare-and-swap on that read, waits
//!   a moment and then moves the pointers unconditionally, the classic lost
//!   update the scale-out test must catch.
//!
//! Bad-input faults (the negative control of the bad-input corpus,
//! `tests/it/bad_input_http.rs`):
//! - `skip_name_validation`: namespace, table, key and pin names are accepted
//!   as given (`..`, `/`, NUL, 10,000 characters...), so refused-input cases
//!   start succeeding and writing; the corpus must report them.

/// Whether the named fault is switched on for this process.
#[cfg(feature = "faults")]
pub fn active(name: &str) -> bool {
    use std::sync::OnceLock;
    static FAULTS: OnceLock<Vec<String>> = OnceLock::new();
    FAULTS
        .get_or_init(|| {
            std::env::var("BATCHMETA_FAULTS")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|f| f == name)
}

/// Whether the named fault is switched on: never, in a build without the
/// `faults` feature.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn active(_name: &str) -> bool {
    false
}
