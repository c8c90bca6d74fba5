//! Discard, and the checks the publish and the rollback (in `direct`)
//! share: the write protocol of DESIGN §4. Stage, record files, publish and
//! roll back run on plain connections, see `direct/writes.rs`.

use std::collections::HashSet;

use super::SqliteCatalog;
use super::rows;
use crate::error::{Code, Error, Result};
use crate::model::{BatchId, BatchState, PublishPlan, TableIdent};

/// The checks of a publish plan that need no database: at least one
/// partition, none twice.
pub(super) fn plan_is_well_formed(plan: &PublishPlan) -> Result<()> {
    if plan.items.is_empty() {
        return Err(Error::invalid(
            Code::EmptyPublish,
            "a publish needs at least one partition",
        ));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = plan.items.iter().find(|i| !seen.insert(i.partition.path())) {
        return Err(Error::invalid(
            Code::DuplicatePartition,
            format!("partition {} appears twice in one publish", dup.partition),
        ));
    }
    Ok(())
}

impl SqliteCatalog {
    pub(super) async fn discard_impl(&self, ident: &TableIdent, id: &BatchId) -> Result<()> {
        let mut w = self.write().await?;
        let t = rows::live_table(&mut w.tx, ident).await?;
        let b = rows::load_batch_row(&mut w.tx, &t, id).await?;
        if b.batch.state != BatchState::Staged {
            return Err(Error::invalid(
                Code::BatchNotStaged,
                format!("batch {id} was published; published batches are never discarded"),
            ));
        }
        let pid: i64 = sqlx::query_scalar("SELECT partition_id FROM batches WHERE id = ?")
            .bind(b.pk)
            .fetch_one(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM batch_files WHERE batch_pk = ?")
            .bind(b.pk)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM batches WHERE id = ? AND state = 'staged'")
            .bind(b.pk)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "DELETE FROM partitions WHERE id = ? AND current_batch IS NULL AND version = 0 \
             AND NOT EXISTS (SELECT 1 FROM batches WHERE partition_id = ?)",
        )
        .bind(pid)
        .bind(pid)
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(())
    }
}
