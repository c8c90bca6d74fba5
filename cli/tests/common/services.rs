//! The external services tests run against, named by environment
//! variables that `scripts/with-services` sets, and fresh places in them:
//! a new PostgreSQL database, a new prefix of the S3 bucket, or a SQLite
//! catalog in a temporary directory. Without a service the tests that need
//! it skip (and pass), saying so on stderr.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sqlx::{Connection, PgConnection};

/// A PostgreSQL server where tests may `CREATE DATABASE`.
pub(crate) const POSTGRES_URL: &str = "BATCHMETA_TEST_POSTGRES_URL";
/// A PostgreSQL server running with `fsync=off`.
pub(crate) const POSTGRES_NOFSYNC_URL: &str = "BATCHMETA_TEST_POSTGRES_NOFSYNC_URL";
/// `s3://bucket/prefix` in an S3 server configured by the `AWS_*` variables.
pub(crate) const S3_URL: &str = "BATCHMETA_TEST_S3_URL";

/// The value of `name`, if set and not empty.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The value of `name`, or `None` after a skip note on stderr (once per
/// variable). The note bypasses libtest's output capture so that it shows.
pub(crate) fn service(name: &str) -> Option<String> {
    if let Some(v) = var(name) {
        return Some(v);
    }
    static NOTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let first = NOTED
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .insert(name.to_owned());
    if first {
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIP: {name} is not set; tests that need it pass without running. Run tests via scripts/with-services"
        );
    }
    None
}

/// Creates a fresh database on the PostgreSQL server at `server` and
/// returns its URL.
pub(crate) async fn fresh_database(server: &str) -> String {
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

/// A fresh prefix under the test bucket's prefix `base`.
pub(crate) fn fresh_prefix(base: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        uuid::Uuid::new_v4().simple()
    )
}

/// A catalog and a warehouse for one test, with a fresh temporary
/// directory that outlives the servers started on them (their working
/// directory).
#[derive(Debug)]
pub(crate) struct Place {
    pub(crate) database_url: String,
    pub(crate) warehouse: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Place {
    /// A SQLite catalog (`catalog.db`) and a local warehouse (`warehouse/`)
    /// in a fresh temporary directory.
    pub(crate) fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = dir.path().join("warehouse");
        std::fs::create_dir_all(&warehouse).unwrap();
        Place {
            database_url: format!("sqlite://{}", dir.path().join("catalog.db").display()),
            warehouse: warehouse.display().to_string(),
            dir,
        }
    }

    /// A fresh database on the PostgreSQL server at `server` and a local
    /// warehouse.
    pub(crate) async fn postgres(server: &str) -> Self {
        Place {
            database_url: fresh_database(server).await,
            ..Place::sqlite()
        }
    }

    /// A warehouse at a fresh prefix of the bucket `s3` instead.
    pub(crate) fn in_s3(self, s3: &str) -> Self {
        Place {
            warehouse: fresh_prefix(s3),
            ..self
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite catalog's file ([`Place::sqlite`]).
    pub(crate) fn catalog_file(&self) -> PathBuf {
        self.dir.path().join("catalog.db")
    }
}
