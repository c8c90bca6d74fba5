//! The conformance suite on SQLite in a temporary file with a local warehouse.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use batchmeta::Metastore;
use batchmeta::catalog::{Clock, SqliteCatalog, SystemClock};
use batchmeta::model::Context;
use batchmeta::storage::Storage;

use crate::harness::{Backend, Env};

pub struct SqliteBackend {
    pub path: std::path::PathBuf,
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn row_counts(&self) -> BTreeMap<String, i64> {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = BTreeMap::new();
        for t in tables {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            out.insert(t, n);
        }
        out
    }
}

pub async fn env_with_clock(clock: Arc<dyn Clock>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let catalog = SqliteCatalog::open_with_clock(&path, clock).await.unwrap();
    let storage = Storage::open(dir.path().join("warehouse").to_str().unwrap()).unwrap();
    Env {
        ms: Metastore::new(Arc::new(catalog), storage.clone()),
        storage,
        backend: Arc::new(SqliteBackend { path }),
        ctx: Context::new("tester"),
        _guard: Box::new(dir),
    }
}

pub async fn env() -> Env {
    env_with_clock(Arc::new(SystemClock)).await
}

macro_rules! run_conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                crate::conformance::$name(&env().await).await;
            }
        )*
    };
}

crate::conformance::for_each_case!(run_conformance);

#[tokio::test]
async fn batch_ids_increase_when_the_clock_steps_back() {
    crate::conformance::batch_ids_with_a_stepping_clock(env_with_clock).await;
}
