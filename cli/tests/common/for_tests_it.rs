//! The shared test harness ([`mod.rs`](mod.rs)) for the library's tests
//! (`tests/it`): the same modules, included by path from `tests/it`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "rows.rs"]
pub(crate) mod rows;
#[path = "servers.rs"]
pub(crate) mod servers;
#[path = "services.rs"]
pub(crate) mod services;
#[path = "sqlite.rs"]
pub(crate) mod sqlite;
