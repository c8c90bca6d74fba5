//! Lineage edges and run reads in PostgreSQL; the rules are in
//! `catalog::lineage`.

use sqlx::{PgConnection, Row};

use super::PostgresCatalog;
use super::rows::jsonb;
use super::statements as sql;
use crate::catalog::lineage;
use crate::catalog::row;
use crate::error::Result;
use crate::model::{BatchId, BatchState, Direction, LineageEdge, RunReads};

/// The row ids of a publish's inputs, each checked to be committed and
/// locked (shared) until the transaction ends.
pub(super) async fn input_pks(conn: &mut PgConnection, inputs: &[BatchId]) -> Result<Vec<i64>> {
    let mut pks = Vec::with_capacity(inputs.len());
    for input in inputs {
        let found = sqlx::query(sql::INPUT_STATE)
            .bind(input.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let found = match found {
            Some(r) => Some((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)),
            None => None,
        };
        let state = found.as_ref().and_then(|f| BatchState::parse(&f.1));
        lineage::input_admissible(input, state)?;
        if let Some((pk, _)) = found {
            pks.push(pk);
        }
    }
    Ok(pks)
}

/// Records that every batch of `pks` was built from every one of `inputs`.
pub(super) async fn insert_inputs(
    conn: &mut PgConnection,
    pks: &[i64],
    inputs: &[i64],
) -> Result<()> {
    if inputs.is_empty() {
        return Ok(());
    }
    sqlx::query(sql::INSERT_INPUTS)
        .bind(pks)
        .bind(inputs)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl PostgresCatalog {
    pub(super) async fn lineage_edges_impl(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        let statement = match direction {
            Direction::Up => sql::EDGES_UP,
            Direction::Down => sql::EDGES_DOWN,
        };
        let ids: Vec<&str> = batches.iter().map(BatchId::as_str).collect();
        let rows = sqlx::query(statement)
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(lineage::edge).collect()
    }

    pub(super) async fn run_reads_impl(&self, run: &str) -> Result<Option<RunReads>> {
        let state: Option<serde_json::Value> = sqlx::query_scalar(sql::RUN_READS)
            .bind(run)
            .fetch_optional(&self.pool)
            .await?;
        state.map(row::from_json_value).transpose()
    }

    pub(super) async fn save_run_reads_impl(&self, run: &str, reads: &RunReads) -> Result<()> {
        sqlx::query(sql::SAVE_RUN_READS)
            .bind(run)
            .bind(jsonb(reads))
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
