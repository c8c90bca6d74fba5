//! Schema migrations, applied on connect. Each backend has its own SQL under
//! `migrations/<backend>/` with the same file names; the applied versions are
//! recorded in `batchmeta_migrations`.

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Increasing version, from the file name.
    pub(crate) version: i64,
    /// The file name.
    pub(crate) name: &'static str,
    /// The SQL.
    pub(crate) sql: &'static str,
}

/// The SQLite migrations, in order.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_catalog.sql",
        sql: include_str!("../../migrations/sqlite/0001_catalog.sql"),
    },
    Migration {
        version: 2,
        name: "0002_tokens.sql",
        sql: include_str!("../../migrations/sqlite/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "0003_retention.sql",
        sql: include_str!("../../migrations/sqlite/0003_retention.sql"),
    },
    Migration {
        version: 4,
        name: "0004_lineage.sql",
        sql: include_str!("../../migrations/sqlite/0004_lineage.sql"),
    },
    Migration {
        version: 5,
        name: "0005_feeds.sql",
        sql: include_str!("../../migrations/sqlite/0005_feeds.sql"),
    },
];

/// The PostgreSQL migrations, in order (the same file names as SQLite's).
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_catalog.sql",
        sql: include_str!("../../migrations/postgres/0001_catalog.sql"),
    },
    Migration {
        version: 2,
        name: "0002_tokens.sql",
        sql: include_str!("../../migrations/postgres/0002_tokens.sql"),
    },
    Migration {
        version: 3,
        name: "0003_retention.sql",
        sql: include_str!("../../migrations/postgres/0003_retention.sql"),
    },
    Migration {
        version: 4,
        name: "0004_lineage.sql",
        sql: include_str!("../../migrations/postgres/0004_lineage.sql"),
    },
    Migration {
        version: 5,
        name: "0005_feeds.sql",
        sql: include_str!("../../migrations/postgres/0005_feeds.sql"),
    },
];

/// The migrations still to apply to a catalog at version `applied` (none
/// yet: `None`), refusing one that a newer batchmeta migrated further.
pub(crate) fn pending(
    migrations: &[Migration],
    applied: Option<i64>,
) -> crate::Result<&[Migration]> {
    let applied = applied.unwrap_or(0);
    if let Some(newer) = migrations.last().filter(|m| m.version < applied) {
        return Err(crate::Error::Internal(format!(
            "the catalog was migrated to version {applied} by a newer batchmeta (this one knows up to {}): upgrade batchmeta",
            newer.version
        )));
    }
    let from = migrations.partition_point(|m| m.version <= applied);
    Ok(&migrations[from..])
}
