//! The test harness the workspace's test crates share: the library's
//! `tests/it` and the CLI's `cli/tests/it` and `cli/tests/*.rs` (Cargo
//! builds each of those as its own crate). One way to start a server (a
//! `meta serve` child, or the app in-process), a fresh database (SQLite in
//! a temporary file, a new PostgreSQL database, a new prefix of the S3
//! bucket), a free port, and the row counts that prove refused input
//! changed nothing.
//!
//! Every crate includes it by path, for example from `cli/tests/crash.rs`:
//!
//! ```text
//! #[path = "common/mod.rs"]
//! mod common;
//! ```
//!
//! (`../common/mod.rs` from `cli/tests/it/main.rs`; `tests/it` includes
//! `for_tests_it.rs`, the same modules by path). A module rather than a dev-only
//! crate: it needs nothing the test crates do not have already, and a
//! crate would add a workspace member and edits to both packages'
//! manifests for a few hundred lines. Each crate uses a part of it, hence
//! the `dead_code` allowance.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub(crate) mod rows;
pub(crate) mod servers;
pub(crate) mod services;
pub(crate) mod sqlite;
