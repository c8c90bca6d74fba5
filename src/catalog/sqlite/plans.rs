//! The hot lookups' query plans: each must be an index search, never a scan
//! of a table that grows with history (partitions, batches, files, events).
//! The statements are the ones the catalog runs (`statements`).

#[cfg(test)]
mod tests {
    use super::super::statements as sql;
    use crate::catalog::SqliteCatalog;
    use crate::catalog::page::EventFilter;
    use crate::model::Order;

    #[tokio::test]
    async fn hot_lookups_search_indexes() {
        let hot: Vec<(&str, String)> = vec![
            ("resolve a partition", sql::PARTITION.into()),
            ("a partition's row id", sql::PARTITION_ID.into()),
            (
                "resolve a partition's current batch",
                sql::CURRENT_BATCH_OF.into(),
            ),
            ("load a batch", sql::BATCH.into()),
            ("a batch's files", sql::FILES.into()),
            ("a page of partitions", sql::partition_page([">"])),
            ("one partition's history", sql::HISTORY.into()),
            ("as of a time", sql::BATCH_AS_OF.into()),
            (
                "events of a table",
                sql::event_page(
                    [EventFilter::Namespace, EventFilter::Table],
                    Order::NewestFirst,
                ),
            ),
            (
                "events since a time",
                sql::event_page([EventFilter::Since], Order::NewestFirst),
            ),
            ("mint a batch id", sql::LAST_BATCH_ID.into()),
            ("event time", sql::LAST_EVENT_TIME.into()),
            ("idempotent stage", sql::IDEMPOTENT_BATCH.into()),
            ("a partition's batches", sql::PARTITION_BATCHES.into()),
            ("mark a batch expired", sql::MARK_EXPIRED.into()),
            ("an input's state", sql::INPUT_STATE.into()),
            ("a batch's inputs", sql::EDGES_UP.into()),
            ("what was built from a batch", sql::EDGES_DOWN.into()),
            ("a run's reads", sql::RUN_READS.into()),
        ];
        let dir = tempfile::tempdir().unwrap();
        let cat = SqliteCatalog::open(&dir.path().join("c.db")).await.unwrap();
        cat.conns
            .read(|r| {
                for (what, statement) in &hot {
                    // Placeholders stay unbound (NULL) for EXPLAIN.
                    let mut st = r.conn.prepare(&format!("EXPLAIN QUERY PLAN {statement}"))?;
                    let mut rows = st.raw_query();
                    let mut steps = Vec::new();
                    while let Some(row) = rows.next()? {
                        steps.push(row.get::<_, String>(3)?);
                    }
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
                Ok(())
            })
            .unwrap();
    }
}
