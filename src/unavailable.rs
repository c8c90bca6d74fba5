//! Telling a dependency that is down from a bug: the one place where driver
//! errors (sqlx, rusqlite, object_store, I/O) are sorted into
//! [`Error::Unavailable`] (the catalog database or the object store cannot
//! be reached, or refuses writes: HTTP 503, retry), [`Error::InsufficientStorage`]
//! (a disk or quota is full: HTTP 507) and the rest ([`Error::Database`],
//! [`Error::Storage`]: HTTP 500, a bug or an unexpected failure).

use std::error::Error as StdError;
use std::io;

use crate::error::{Dependency, Error};

/// What a failure says about its dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Down, unreachable, timed out, shutting down or restarting.
    Unreachable,
    /// Busy beyond its wait (a lock held too long, too many connections).
    Busy,
    /// The file system or the server refuses writes.
    ReadOnly,
    /// No space left, or over a quota.
    Full,
}

fn io_class(e: &io::Error) -> Option<Class> {
    use io::ErrorKind as K;
    match e.kind() {
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => Some(Class::Full),
        K::ReadOnlyFilesystem => Some(Class::ReadOnly),
        K::ConnectionRefused
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::NotConnected
        | K::BrokenPipe
        | K::TimedOut
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown
        | K::AddrNotAvailable
        | K::UnexpectedEof => Some(Class::Unreachable),
        _ => match e.raw_os_error() {
            // ENOSPC, EDQUOT, EROFS where the kind is not mapped.
            Some(28 | 122) => Some(Class::Full),
            Some(30) => Some(Class::ReadOnly),
            _ => None,
        },
    }
}

/// SQLite's primary result codes (the low byte of an extended code).
fn sqlite_class(code: i32) -> Option<Class> {
    match code & 0xff {
        // SQLITE_BUSY, SQLITE_LOCKED: another process held the lock past
        // the busy timeout.
        5 | 6 => Some(Class::Busy),
        // SQLITE_READONLY.
        8 => Some(Class::ReadOnly),
        // SQLITE_FULL.
        13 => Some(Class::Full),
        // SQLITE_CANTOPEN: the file or its directory went away.
        14 => Some(Class::Unreachable),
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs that mean "the server, not the request".
fn sqlstate_class(state: &str) -> Option<Class> {
    match state {
        // disk_full.
        "53100" => Some(Class::Full),
        // insufficient_resources, out_of_memory, too_many_connections,
        // lock_not_available (lock_timeout), query_canceled
        // (statement_timeout), serialization under load is not ours.
        "53000" | "53200" | "53300" | "55P03" | "57014" => Some(Class::Busy),
        // read_only_sql_transaction: a standby, or default_transaction_read_only.
        "25006" => Some(Class::ReadOnly),
        // admin_shutdown, crash_shutdown, cannot_connect_now.
        "57P01" | "57P02" | "57P03" => Some(Class::Unreachable),
        // connection_exception and its subclasses.
        s if s.starts_with("08") => Some(Class::Unreachable),
        _ => None,
    }
}

/// Walks an error and its sources for the first thing that classifies it;
/// failing that, an `(os error N)` in its words (a layer that kept only the
/// text of an I/O error).
fn classify(e: &(dyn StdError + 'static)) -> Option<Class> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(c) = one(err) {
            return Some(c);
        }
        next = err.source();
    }
    os_error_in(&e.to_string()).and_then(|n| io_class(&io::Error::from_raw_os_error(n)))
}

fn os_error_in(text: &str) -> Option<i32> {
    let (_, rest) = text.rsplit_once("(os error ")?;
    rest.split(')').next()?.parse().ok()
}

fn one(err: &(dyn StdError + 'static)) -> Option<Class> {
    if let Some(e) = err.downcast_ref::<io::Error>() {
        // An io::Error wrapping another error (an object store's, behind
        // an AsyncWrite) hides it from `source()`: look inside.
        return io_class(e).or_else(|| e.get_ref().and_then(|inner| classify(inner)));
    }
    if let Some(e) = err.downcast_ref::<sqlx::Error>() {
        return match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                Some(Class::Unreachable)
            }
            sqlx::Error::Io(io) => io_class(io).or(Some(Class::Unreachable)),
            sqlx::Error::Tls(_) => Some(Class::Unreachable),
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                match code.parse::<i32>() {
                    // SQLite reports its numeric result code, PostgreSQL a
                    // five-character SQLSTATE.
                    Ok(n) if code.len() < 5 => sqlite_class(n),
                    _ => sqlstate_class(&code),
                }
            }
            _ => None,
        };
    }
    if let Some(e) = err.downcast_ref::<rusqlite::Error>() {
        return e.sqlite_error().and_then(|f| sqlite_class(f.extended_code));
    }
    if let Some(e) = err.downcast_ref::<object_store::client::HttpError>() {
        use object_store::client::HttpErrorKind as K;
        return match e.kind() {
            K::Connect | K::Request | K::Timeout | K::Interrupted => Some(Class::Unreachable),
            _ => None,
        };
    }
    // object_store's retry error type is private; its cause, a failed
    // status, is only visible in its words.
    let text = err.to_string();
    if let Some(rest) = text.strip_prefix("Server returned non-2xx status code: ") {
        return match rest.get(..3) {
            // SlowDown and friends: the store asks us to back off.
            Some("429" | "503") => Some(Class::Busy),
            Some("500" | "502" | "504") => Some(Class::Unreachable),
            // Over-quota answers.
            Some("507") => Some(Class::Full),
            _ => None,
        };
    }
    None
}

fn message(dependency: Dependency, class: Class) -> String {
    let what = dependency.noun();
    match class {
        Class::Unreachable => format!(
            "the {what} is unavailable: it cannot be reached or is restarting; nothing was changed"
        ),
        Class::Busy => {
            format!("the {what} is overloaded or a lock is held too long; nothing was changed")
        }
        Class::ReadOnly => format!("the {what} refuses writes (read-only); nothing was changed"),
        Class::Full => {
            format!("the {what} is out of space or over its quota; nothing was published")
        }
    }
}

fn sorted(dependency: Dependency, class: Option<Class>, cause: String) -> Option<Error> {
    let class = class?;
    let message = message(dependency, class);
    Some(match class {
        Class::Full => Error::InsufficientStorage { message, cause },
        _ => Error::Unavailable {
            dependency,
            message,
            cause,
        },
    })
}

/// A catalog database driver's error (sqlx, rusqlite), sorted.
pub(crate) fn database(e: impl StdError + Send + Sync + 'static) -> Error {
    let class = classify(&e);
    sorted(Dependency::Database, class, e.to_string()).unwrap_or(Error::Database(Box::new(e)))
}

/// An object store error, sorted.
pub(crate) fn storage(e: object_store::Error) -> Error {
    let class = classify(&e);
    sorted(Dependency::Storage, class, e.to_string()).unwrap_or(Error::Storage(e))
}

/// A local file error of a store or a spool (the server's upload spool,
/// staged files), sorted; `None` when it is not about the dependency.
#[cfg(feature = "server")]
pub(crate) fn io(dependency: Dependency, e: &io::Error, what: &str) -> Option<Error> {
    sorted(dependency, io_class(e), format!("{what}: {e}"))
}

/// SQLite's primary result code somewhere in an error's chain.
fn sqlite_code(e: &(dyn StdError + 'static)) -> Option<i32> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(r) = err.downcast_ref::<rusqlite::Error>() {
            return r.sqlite_error().map(|f| f.extended_code & 0xff);
        }
        next = err.source();
    }
    None
}

/// An error of the SQLite catalog file `file`, sorted and naming the file.
/// SQLite reports a file system that turned read-only or full under an open
/// file as a plain "disk I/O error" (SQLITE_IOERR), so then a probe write
/// beside the file says which it is.
pub(crate) fn at_catalog_file(e: Error, file: &std::path::Path) -> Error {
    const SQLITE_IOERR: i32 = 10;
    let e = match e {
        Error::Database(inner) if sqlite_code(inner.as_ref()) == Some(SQLITE_IOERR) => {
            let dir = file.parent().unwrap_or(std::path::Path::new("."));
            let probe = dir.join(format!(".batchmeta-write-probe-{}", std::process::id()));
            let written = std::fs::write(&probe, b"x");
            let _ = std::fs::remove_file(&probe);
            match written {
                Err(io) => sorted(Dependency::Database, io_class(&io), inner.to_string())
                    .unwrap_or(Error::Database(inner)),
                Ok(()) => Error::Database(inner),
            }
        }
        other => other,
    };
    e.at(&file.display().to_string())
}

impl Error {
    /// Names the place (a catalog file, a warehouse URL) in the message of
    /// an unavailable or full dependency, so the reader knows what to check.
    pub fn at(self, place: &str) -> Self {
        match self {
            Error::Unavailable {
                dependency,
                message,
                cause,
            } => Error::Unavailable {
                dependency,
                message: with_place(&message, dependency, place),
                cause,
            },
            Error::InsufficientStorage { message, cause } => Error::InsufficientStorage {
                message: message.replacen(
                    " is out of space",
                    &format!(" at {place} is out of space"),
                    1,
                ),
                cause,
            },
            other => other,
        }
    }
}

fn with_place(message: &str, dependency: Dependency, place: &str) -> String {
    let what = dependency.noun();
    message.replacen(
        &format!("the {what} "),
        &format!("the {what} at {place} "),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn io_failures_sort_by_kind() {
        let full = io::Error::from_raw_os_error(28);
        let e = storage(object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(full),
        });
        assert_eq!(e.kind(), ErrorKind::InsufficientStorage, "{e}");
        assert_eq!(e.code(), "insufficient_storage");
        let ro = io::Error::from_raw_os_error(30);
        let e = storage(object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(ro),
        })
        .at("file:///data/wh");
        assert_eq!(e.code(), "storage_unavailable");
        assert!(
            e.message().contains("at file:///data/wh"),
            "{}",
            e.message()
        );
        assert!(
            !e.message().contains("os error"),
            "no driver text: {}",
            e.message()
        );
        let bug = storage(object_store::Error::NotSupported {
            source: "no such thing".into(),
        });
        assert_eq!(bug.code(), "storage_error");
    }

    #[test]
    fn database_failures_sort_by_driver_code() {
        assert_eq!(
            database(sqlx::Error::PoolTimedOut).code(),
            "database_unavailable"
        );
        let refused = sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(database(refused).kind(), ErrorKind::Unavailable);
        assert_eq!(sqlstate_class("08006"), Some(Class::Unreachable));
        assert_eq!(sqlstate_class("57P01"), Some(Class::Unreachable));
        assert_eq!(sqlstate_class("53100"), Some(Class::Full));
        assert_eq!(sqlstate_class("23505"), None, "a unique violation is ours");
        assert_eq!(sqlite_class(13), Some(Class::Full));
        assert_eq!(sqlite_class(8 | (3 << 8)), Some(Class::ReadOnly));
        assert_eq!(sqlite_class(19), None, "a constraint is ours");
        assert_eq!(database(sqlx::Error::RowNotFound).code(), "database_error");
    }

    #[test]
    fn local_edges_get_the_cause_http_does_not() {
        let e = database(sqlx::Error::PoolTimedOut);
        let http = e.message_for(crate::model::Edge::Http);
        let cli = e.message_for(crate::model::Edge::Cli);
        assert!(!http.contains("pool timed out"), "{http}");
        assert!(cli.contains("pool timed out"), "{cli}");
    }
}
