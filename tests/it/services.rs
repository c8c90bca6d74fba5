//! Metastores for the conformance suite on the external services of
//! [`crate::common::services`] (PostgreSQL, S3) and on SQLite. Without a
//! service the tests that need it skip (and pass), saying so on stderr.

use std::sync::Arc;

use batchmeta::Metastore;
use batchmeta::catalog::{Catalog, Clock, PostgresCatalog, PostgresOptions, SqliteCatalog};
use batchmeta::model::Context;
use batchmeta::storage::Storage;

pub(crate) use crate::common::services::{
    POSTGRES_NOFSYNC_URL, POSTGRES_URL, S3_URL, fresh_database, fresh_prefix, service,
};
use crate::harness::{CatalogRows, Env};

/// Options for test catalogs: enough connections for the concurrency cases,
/// and a long acquire timeout, because those cases queue dozens of tasks on
/// 8 connections on a busy machine (the outage cases, in
/// `cli/tests/faults.rs`, run `meta serve` with its short defaults).
pub fn pg_options() -> PostgresOptions {
    PostgresOptions {
        max_connections: 8,
        acquire_timeout: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

/// Where a test's data goes.
pub enum Warehouse {
    /// A fresh local directory.
    Local,
    /// A fresh prefix of the test bucket.
    S3(String),
}

impl Warehouse {
    fn open(&self, dir: &std::path::Path) -> Storage {
        match self {
            Warehouse::Local => Storage::open(dir.join("warehouse").to_str().unwrap()).unwrap(),
            Warehouse::S3(base) => Storage::open(&fresh_prefix(base)).unwrap(),
        }
    }
}

/// A fresh metastore on a fresh PostgreSQL database.
pub async fn postgres_env(server: &str, clock: Arc<dyn Clock>, warehouse: Warehouse) -> Env {
    postgres_env_on(&fresh_database(server).await, clock, warehouse).await
}

/// A metastore on the (empty) PostgreSQL database at `url`.
pub async fn postgres_env_on(url: &str, clock: Arc<dyn Clock>, warehouse: Warehouse) -> Env {
    let catalog = PostgresCatalog::connect_with_clock(url, &pg_options(), clock)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let storage = warehouse.open(dir.path());
    Env {
        ms: Metastore::new(Arc::new(catalog) as Arc<dyn Catalog>, storage.clone()),
        storage,
        backend: Arc::new(CatalogRows {
            database_url: url.to_owned(),
        }),
        ctx: Context::new("tester"),
        _guard: Box::new(dir),
    }
}

/// A fresh metastore on SQLite in a temporary file, with the given warehouse.
pub async fn sqlite_env(clock: Arc<dyn Clock>, warehouse: Warehouse) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let catalog = SqliteCatalog::open_with_clock(&path, clock).await.unwrap();
    let storage = warehouse.open(dir.path());
    Env {
        ms: Metastore::new(Arc::new(catalog), storage.clone()),
        storage,
        backend: Arc::new(CatalogRows {
            database_url: crate::common::rows::sqlite_url(&path),
        }),
        ctx: Context::new("tester"),
        _guard: Box::new(dir),
    }
}
