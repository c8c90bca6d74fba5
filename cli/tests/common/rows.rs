//! What refused input must leave as it was: the row count of every catalog
//! table, the newest event id and the warehouse's files.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::{Connection, PgConnection, Row};

use super::sqlite;

/// Row counts of every table of the catalog at `database_url` (a SQLite
/// file, opened read-only, or a PostgreSQL database).
pub(crate) async fn row_counts(database_url: &str) -> BTreeMap<String, i64> {
    let count = |t: &str| format!("SELECT count(*) FROM \"{t}\"");
    let mut out = BTreeMap::new();
    if is_sqlite(database_url) {
        let tables = sqlite::texts(
            database_url,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        );
        for t in tables.await.into_iter().flatten() {
            let n = sqlite::integer(database_url, &count(&t)).await;
            out.insert(t, n.unwrap());
        }
    } else {
        let mut conn = PgConnection::connect(database_url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for t in tables {
            let n = sqlx::query(sqlx::AssertSqlSafe(count(&t)))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            out.insert(t, n.get(0));
        }
        conn.close().await.unwrap();
    }
    out
}

/// The newest event id of the SQLite catalog at `database_url`.
pub(crate) async fn max_event(database_url: &str) -> Option<i64> {
    sqlite::integer(database_url, "SELECT max(id) FROM events").await
}

/// `path` as a `sqlite://` URL.
pub(crate) fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn is_sqlite(database_url: &str) -> bool {
    database_url.starts_with("sqlite:")
}

/// Every file below `dir` and its size.
pub(crate) fn files(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.insert(e.path().display().to_string(), size);
            }
        }
    }
    out
}

/// Everything a refused request must leave as it was, of a SQLite catalog
/// and a local warehouse.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) rows: BTreeMap<String, i64>,
    pub(crate) max_event: Option<i64>,
    pub(crate) files: BTreeMap<String, u64>,
}

pub(crate) async fn state(database_url: &str, warehouse: &Path) -> State {
    State {
        rows: row_counts(database_url).await,
        max_event: max_event(database_url).await,
        files: files(warehouse),
    }
}
