//! The conformance suite on SQLite in a temporary file with a local warehouse.

use std::sync::Arc;

use batchmeta::catalog::{Clock, SystemClock};

use crate::harness::Env;
use crate::services::{Warehouse, sqlite_env};

pub async fn env_with_clock(clock: Arc<dyn Clock>) -> Env {
    sqlite_env(clock, Warehouse::Local).await
}

pub async fn env() -> Env {
    env_with_clock(Arc::new(SystemClock)).await
}

crate::conformance::tests_on!(env);

#[tokio::test]
async fn batch_ids_increase_when_the_clock_steps_back() {
    crate::conformance::batch_ids_with_a_stepping_clock(env_with_clock).await;
}
