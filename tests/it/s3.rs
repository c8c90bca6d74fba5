//! The conformance suite with an S3 warehouse (a fresh prefix per test of
//! the bucket `BATCHMETA_TEST_S3_URL` names), on SQLite and on PostgreSQL.
//! The S3 server comes from the standard `AWS_*` environment variables.

use std::sync::Arc;

use batchmeta::catalog::SystemClock;
use batchmeta::model::{Context, KeyType};
use batchmeta::storage::Storage;
use batchmeta::{Config, Metastore};

use crate::harness::Env;
use crate::services::{self, POSTGRES_URL, S3_URL, Warehouse};

/// SQLite catalog, S3 warehouse.
mod sqlite {
    use super::*;

    async fn env() -> Option<Env> {
        let s3 = services::service(S3_URL)?;
        Some(services::sqlite_env(Arc::new(SystemClock), Warehouse::S3(s3)).await)
    }

    crate::conformance::tests_on!(env);
}

/// PostgreSQL catalog, S3 warehouse.
mod postgres {
    use super::*;

    async fn env() -> Option<Env> {
        let s3 = services::service(S3_URL)?;
        let server = services::service(POSTGRES_URL)?;
        Some(services::postgres_env(&server, Arc::new(SystemClock), Warehouse::S3(s3)).await)
    }

    crate::conformance::tests_on!(env);
}

/// The prefix of the URL is the warehouse root: two prefixes of one bucket
/// are two warehouses that do not see each other's objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_are_separate_warehouses() {
    let Some(s3) = services::service(S3_URL) else {
        return;
    };
    let a = services::sqlite_env(Arc::new(SystemClock), Warehouse::S3(s3.clone())).await;
    let b = services::sqlite_env(Arc::new(SystemClock), Warehouse::S3(s3)).await;
    let t = a.table("s", "t", &[("d", KeyType::String)]).await;
    let stored = a.store(&t, "d=x", 0, 3, "a").await;
    assert!(a.ms.warehouse_url().starts_with("s3://"));
    let files = a.ms.files(&t, &Default::default()).await.unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with(a.ms.warehouse_url()), "{files:?}");
    assert!(files[0].ends_with(&stored.batch.files[0].path), "{files:?}");
    assert_eq!(a.snapshot().await.objects.len(), 1);
    assert!(
        b.snapshot().await.objects.is_empty(),
        "the other prefix sees nothing"
    );
}

/// `Metastore::open` builds the S3 warehouse from a `Config` with explicit
/// options (here the same values the environment holds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_with_storage_options_opens_s3() {
    let Some(s3) = services::service(S3_URL) else {
        return;
    };
    let mut options = std::collections::BTreeMap::new();
    for (var, key) in [
        ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        ("AWS_REGION", "aws_region"),
        ("AWS_ENDPOINT_URL", "aws_endpoint"),
        ("AWS_ALLOW_HTTP", "aws_allow_http"),
    ] {
        if let Ok(v) = std::env::var(var) {
            options.insert(key.to_owned(), v);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let warehouse = services::fresh_prefix(&s3);
    let config = Config {
        database_url: Some(format!("sqlite://{}", dir.path().join("c.db").display())),
        warehouse: Some(warehouse.clone()),
        storage_options: options,
        ..Default::default()
    };
    let ms = Metastore::open(&config).await.unwrap();
    assert_eq!(ms.warehouse_url(), warehouse);
    let env = Env {
        storage: ms.storage().unwrap().clone(),
        ms,
        backend: Arc::new(crate::harness::CatalogRows {
            database_url: crate::common::rows::sqlite_url(&dir.path().join("c.db")),
        }),
        ctx: Context::new("tester"),
        _guard: Box::new(dir),
    };
    let t = env.table("s", "t", &[]).await;
    env.store(&t, "", 0, 5, "cfg").await;
    assert_eq!(crate::harness::values(&env.load(&t, "").await).len(), 5);
    // The same objects through a plain `Storage::open` of the same URL.
    let again = Storage::open(&warehouse).unwrap();
    let listed: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(again.store().list(None))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}
