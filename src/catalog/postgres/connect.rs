//! Connecting: options, the durability check and migrations.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use super::statements as sql;
use crate::catalog::migrate::{Migration, pending};
use crate::error::{Code, Error, Result};
use crate::redact;

/// The advisory lock that serializes migrations across replicas starting
/// at once ("batchmig" in ASCII).
const MIGRATION_LOCK: i64 = 0x6261_7463_686d_6967;

/// How long a pooled connection may sit idle before it is pinged when
/// handed out again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// How to connect to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Accept a server that can lose acknowledged commits in a crash
    /// (`fsync`, `full_page_writes` or `synchronous_commit` off). For
    /// throwaway test servers only; a warning is logged.
    pub unsafe_durability: bool,
    /// The most pooled connections this catalog opens.
    pub max_connections: u32,
    /// How long opening one connection may take (the first one at start
    /// included) before the database counts as unavailable.
    pub connect_timeout: Duration,
    /// How long an operation waits for a pooled connection (reconnecting
    /// included) before it fails with `database_unavailable`. Bounded and
    /// short, so that a request during an outage answers within it.
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            unsafe_durability: false,
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The settings the durability check reads, as `SHOW` reports them.
pub(super) const DURABILITY_SETTINGS: [&str; 3] =
    ["fsync", "synchronous_commit", "full_page_writes"];

/// What makes a server unsafe for a metastore, one line per setting.
///
/// `fsync` and `full_page_writes` must be `on`. `synchronous_commit` must not
/// be `off`: `on`, `local`, `remote_write` and `remote_apply` all flush the
/// commit record to the local WAL before the commit is acknowledged.
pub(crate) fn durability_problems(settings: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for name in DURABILITY_SETTINGS {
        let value = settings.get(name).map(|v| v.trim().to_ascii_lowercase());
        let ok = match (name, value.as_deref()) {
            (_, None) => false,
            ("synchronous_commit", Some(v)) => {
                matches!(v, "on" | "local" | "remote_write" | "remote_apply")
            }
            (_, Some(v)) => v == "on",
        };
        if !ok {
            out.push(format!(
                "{name} is {}",
                value.as_deref().unwrap_or("unknown")
            ));
        }
    }
    out
}

/// Opens a pool on `url`. Errors never carry the URL's password.
pub(super) async fn pool(url: &str, options: &PostgresOptions) -> Result<PgPool> {
    let shown = redact::url(url);
    let connect = PgConnectOptions::from_str(url)
        .map_err(|e| {
            Error::invalid(
                Code::InvalidDatabaseUrl,
                format!(
                    "invalid PostgreSQL url {shown}: {}; a PostgreSQL url looks like postgres://user@host:5432/dbname",
                    redact::scrub_url_secrets(&e.to_string(), url)
                ),
            )
        })?;
    // Defaults the URL may override: a name in pg_stat_activity, and a
    // bound on waiting for a lock (SQLite's busy timeout is 60 s too).
    let lower = url.to_ascii_lowercase();
    let connect = if lower.contains("application_name") {
        connect
    } else {
        connect.application_name("batchmeta")
    };
    let connect = if lower.contains("lock_timeout") {
        connect
    } else {
        connect.options([("lock_timeout", "60s")])
    };
    let unreachable = |e: sqlx::Error| {
        let cause = redact::scrub_url_secrets(&e.to_string(), url);
        match crate::unavailable::database(e) {
            Error::Unavailable { dependency, .. } => Error::Unavailable {
                dependency,
                message: format!(
                    "cannot connect to PostgreSQL at {shown}: it is down, unreachable or not accepting connections"
                ),
                cause,
            },
            _ => Error::Internal(format!(
                "cannot connect to PostgreSQL at {shown}: {cause}; check that the server runs and the url, user and password are right"
            )),
        }
    };
    // One plain connection first: a wrong URL or a server that is down
    // fails at once with its real cause, where the pool would retry until
    // its acquire timeout.
    let timed_out = || Error::Unavailable {
        dependency: crate::Dependency::Database,
        message: format!(
            "cannot connect to PostgreSQL at {shown}: no answer within {:?}",
            options.connect_timeout
        ),
        cause: "connect timeout".to_owned(),
    };
    tokio::time::timeout(
        options.connect_timeout,
        PgConnection::connect_with(&connect),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(unreachable)?
    .close()
    .await
    .map_err(unreachable)?;
    PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        // sqlx pings every connection it hands out and every one given
        // back: two round trips per transaction, a fifth of a tiny
        // publish's. The ping on release stays (it also flushes a dropped
        // transaction's rollback); the one on acquire only checks
        // connections that sat idle, where a server restart or an idle
        // kill would have left them dead. A connection that broke within
        // the last second fails its statement with `database_unavailable`,
        // which says retry, and is dropped.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(connect)
        .await
        .map_err(unreachable)
}

/// Refuses a server that could lose acknowledged commits, unless told to accept it.
pub(super) async fn check_durability(
    pool: &PgPool,
    shown: &str,
    options: &PostgresOptions,
) -> Result<()> {
    let mut settings = BTreeMap::new();
    for name in DURABILITY_SETTINGS {
        let value: String = sqlx::query_scalar(sql::CURRENT_SETTING)
            .bind(name)
            .fetch_one(pool)
            .await?;
        settings.insert(name.to_owned(), value);
    }
    let problems = durability_problems(&settings);
    if problems.is_empty() {
        return Ok(());
    }
    let problems = problems.join(", ");
    if options.unsafe_durability {
        tracing::warn!(
            server = shown,
            problems = %problems,
            "PostgreSQL is not crash-safe; continuing because unsafe_durability is set"
        );
        return Ok(());
    }
    Err(Error::invalid(
        Code::UnsafeDurability,
        format!(
            "refusing PostgreSQL at {shown}: {problems}, so a crash could lose acknowledged publishes; \
             hint: set fsync, full_page_writes and synchronous_commit to on in postgresql.conf \
             (or set unsafe_durability for a throwaway test server)"
        ),
    ))
}

/// Applies pending migrations in one transaction, under an advisory lock so
/// that replicas starting at once apply each migration exactly once.
pub(super) async fn migrate(pool: &PgPool, migrations: &[Migration]) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(sql::ADVISORY_LOCK)
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(sql::CREATE_MIGRATIONS)
        .execute(&mut *tx)
        .await?;
    let applied: Option<i64> = sqlx::query_scalar(sql::LAST_MIGRATION)
        .fetch_one(&mut *tx)
        .await?;
    for m in pending(migrations, applied)? {
        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        sqlx::query(sql::RECORD_MIGRATION)
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn durable_settings_pass() {
        let ok = settings(&[
            ("fsync", "on"),
            ("synchronous_commit", "on"),
            ("full_page_writes", "on"),
        ]);
        assert!(durability_problems(&ok).is_empty());
        for sc in ["local", "remote_write", "remote_apply"] {
            let mut s = ok.clone();
            s.insert("synchronous_commit".into(), sc.into());
            assert!(durability_problems(&s).is_empty(), "{sc}");
        }
    }

    #[test]
    fn each_unsafe_setting_is_named() {
        let bad = settings(&[
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
        ]);
        assert_eq!(
            durability_problems(&bad),
            vec![
                "fsync is off",
                "synchronous_commit is off",
                "full_page_writes is off"
            ]
        );
        let only_fsync = settings(&[
            ("fsync", "off"),
            ("synchronous_commit", "on"),
            ("full_page_writes", "on"),
        ]);
        assert_eq!(durability_problems(&only_fsync), vec!["fsync is off"]);
        assert_eq!(
            durability_problems(&BTreeMap::new()).len(),
            3,
            "unknown settings are not assumed safe"
        );
    }
}
