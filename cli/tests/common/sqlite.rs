//! Reads of a SQLite catalog file, through rusqlite (the driver the
//! catalog itself runs on). Read-only.

use rusqlite::{Connection, OpenFlags};

fn open(database_url: &str) -> Connection {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// The first column of every row of `sql`, as text.
pub(crate) async fn texts(database_url: &str, sql: &str) -> Vec<Option<String>> {
    let conn = open(database_url);
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The first column of the first row of `sql`, as an integer.
pub(crate) async fn integer(database_url: &str, sql: &str) -> Option<i64> {
    open(database_url).query_row(sql, [], |r| r.get(0)).unwrap()
}
