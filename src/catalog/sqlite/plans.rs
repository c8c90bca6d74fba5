//! The hot lookups' query plans: each must be an index search, never a scan
//! of a table that grows with history (partitions, batches, files, events).
//! The statements are the ones the catalog runs, kept here by name.

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use crate::catalog::SqliteCatalog;

    /// (what, statement) — placeholders bound to NULL for EXPLAIN.
    const HOT: &[(&str, &str)] = &[
        (
            "resolve a partition",
            "SELECT id, current_batch, version FROM partitions WHERE table_id = ?1 AND path = ?2",
        ),
        (
            "resolve a partition's current batch (direct.rs)",
            "SELECT b.id FROM partitions p JOIN batches b ON b.batch_id = p.current_batch WHERE p.table_id = ?1 AND p.path = ?2",
        ),
        (
            "load a batch",
            "SELECT b.id FROM batches b JOIN partitions p ON p.id = b.partition_id WHERE b.batch_id = ?1 AND p.table_id = ?2",
        ),
        (
            "a batch's files",
            "SELECT path, size, rows FROM batch_files WHERE batch_pk = ?1 ORDER BY path",
        ),
        (
            "a page of partitions",
            "SELECT path, sort_key, current_batch, version, updated_at FROM partitions WHERE table_id = ?1 AND current_batch IS NOT NULL AND sort_key > ?2 ORDER BY sort_key LIMIT ?3",
        ),
        (
            "one partition's history",
            "SELECT * FROM events WHERE partition_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
        ),
        (
            "as of a time",
            "SELECT to_batch FROM events WHERE partition_id = ?1 AND at <= ?2 ORDER BY at DESC, id DESC LIMIT 1",
        ),
        (
            "events of a table",
            "SELECT * FROM events WHERE 1 = 1 AND namespace = ?1 AND table_name = ?2 ORDER BY id DESC LIMIT ?3",
        ),
        (
            "events since a time",
            "SELECT * FROM events WHERE 1 = 1 AND id >= coalesce((SELECT id FROM events WHERE at >= ?1 ORDER BY at, id LIMIT 1), 9223372036854775807) ORDER BY id DESC LIMIT ?2",
        ),
        ("mint a batch id", "SELECT max(batch_id) FROM batches"),
        ("event time", "SELECT max(at) FROM events"),
        (
            "idempotent stage",
            "SELECT batch_id FROM batches WHERE partition_id = ?1 AND idempotency_key = ?2",
        ),
    ];

    #[tokio::test]
    async fn hot_lookups_search_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let cat = SqliteCatalog::open(&dir.path().join("c.db")).await.unwrap();
        let mut conn = cat.pool.acquire().await.unwrap();
        for (what, sql) in HOT {
            let plan = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
            let steps: Vec<String> = plan.iter().map(|r| r.get::<String, _>("detail")).collect();
            for step in &steps {
                let unindexed = (step.starts_with("SCAN") || step.starts_with("SEARCH"))
                    && !step.contains(" USING ");
                assert!(
                    !step.starts_with("SCAN") && !unindexed,
                    "{what}: not an index search: {steps:?}"
                );
                assert!(
                    !step.contains("TEMP B-TREE"),
                    "{what}: sorts in memory: {steps:?}"
                );
            }
        }
    }
}
