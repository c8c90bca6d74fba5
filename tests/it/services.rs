//! The external services the PostgreSQL and S3 suites run against, named by
//! environment variables that `scripts/with-services` sets. Without them
//! those tests skip (and pass), saying so on stderr.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use batchmeta::Metastore;
use batchmeta::catalog::{Catalog, Clock, PostgresCatalog, PostgresOptions, SqliteCatalog};
use batchmeta::model::Context;
use batchmeta::storage::Storage;
use sqlx::{Connection, PgConnection, Row};

use crate::harness::{Backend, Env};

/// A PostgreSQL server where tests may `CREATE DATABASE`.
pub const POSTGRES_URL: &str = "BATCHMETA_TEST_POSTGRES_URL";
/// A PostgreSQL server running with `fsync=off`.
pub const POSTGRES_NOFSYNC_URL: &str = "BATCHMETA_TEST_POSTGRES_NOFSYNC_URL";
/// `s3://bucket/prefix` in an S3 server configured by the `AWS_*` variables.
pub const S3_URL: &str = "BATCHMETA_TEST_S3_URL";

/// The value of `var`, or `None` after a skip note on stderr (once per
/// variable). The note bypasses libtest's output capture so that it shows.
pub fn service(var: &str) -> Option<String> {
    if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
        return Some(v);
    }
    static NOTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = NOTED
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .insert(var.to_owned());
    if first {
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIP: {var} is not set; tests that need it pass without running. Run tests via scripts/with-services"
        );
    }
    None
}

/// Creates a fresh database on the test server and returns its URL.
pub async fn fresh_database(server: &str) -> String {
    let name = format!("bm_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A fresh prefix under the test bucket's prefix.
pub fn fresh_prefix(base: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        uuid::Uuid::new_v4().simple()
    )
}

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

/// Row counts of every table in the database's public schema.
pub struct PostgresBackend {
    pub url: String,
}

#[async_trait]
impl Backend for PostgresBackend {
    async fn row_counts(&self) -> BTreeMap<String, i64> {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let mut out = BTreeMap::new();
        for t in tables {
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{t}\"")))
                .fetch_one(&mut conn)
                .await
                .unwrap()
                .get(0);
            out.insert(t, n);
        }
        conn.close().await.unwrap();
        out
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
    let url = url.to_owned();
    let catalog = PostgresCatalog::connect_with_clock(&url, &pg_options(), clock)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let storage = warehouse.open(dir.path());
    Env {
        ms: Metastore::new(Arc::new(catalog) as Arc<dyn Catalog>, storage.clone()),
        storage,
        backend: Arc::new(PostgresBackend { url }),
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
        backend: Arc::new(crate::sqlite::SqliteBackend { path }),
        ctx: Context::new("tester"),
        _guard: Box::new(dir),
    }
}
