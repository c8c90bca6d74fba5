//! Reads of a SQLite catalog file for the CLI's test crates, through
//! sqlx (their dev-dependency has sqlx's SQLite driver; the library's
//! tests use [`sqlite_rusqlite.rs`](sqlite_rusqlite.rs), the same two
//! functions on rusqlite). Read-only.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Connection, Row};

async fn rows(database_url: &str, sql: &str) -> Vec<SqliteRow> {
    let mut conn = SqliteConnectOptions::from_str(database_url)
        .unwrap()
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// The first column of every row of `sql`, as text.
pub(crate) async fn texts(database_url: &str, sql: &str) -> Vec<Option<String>> {
    rows(database_url, sql)
        .await
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The first column of the first row of `sql`, as an integer.
pub(crate) async fn integer(database_url: &str, sql: &str) -> Option<i64> {
    rows(database_url, sql).await.first().and_then(|r| r.get(0))
}
