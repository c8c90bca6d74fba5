//! Lineage edges and run reads in SQLite; the rules are in
//! `catalog::lineage`.

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::lineage;
use crate::catalog::row::{Columns, from_json, to_json};
use crate::error::Result;
use crate::model::{BatchId, BatchState, Direction, LineageEdge, RunReads};

impl Tx<'_> {
    /// The row ids of a publish's inputs, each checked to be committed.
    pub(super) fn input_pks(&self, inputs: &[BatchId]) -> Result<Vec<i64>> {
        let mut pks = Vec::with_capacity(inputs.len());
        for input in inputs {
            let found = self.first(sql::INPUT_STATE, [input.as_str()], |r| {
                Ok((r.int(0)?, BatchState::parse(r.text(1)?)))
            })?;
            lineage::input_admissible(input, found.as_ref().and_then(|f| f.1))?;
            if let Some((pk, _)) = found {
                pks.push(pk);
            }
        }
        Ok(pks)
    }

    /// Records that batch `pk` was built from `inputs`.
    pub(super) fn insert_inputs(&self, pk: i64, inputs: &[i64]) -> Result<()> {
        for input in inputs {
            self.run(sql::INSERT_INPUT, (pk, input))?;
        }
        Ok(())
    }

    pub(super) fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        let statement = match direction {
            Direction::Up => sql::EDGES_UP,
            Direction::Down => sql::EDGES_DOWN,
        };
        let mut out = Vec::new();
        for b in batches {
            out.extend(self.all(statement, [b.as_str()], |r| lineage::edge(r))?);
        }
        Ok(out)
    }

    pub(super) fn run_reads(&self, run: &str) -> Result<Option<RunReads>> {
        let state: Option<String> = self.value(sql::RUN_READS, [run])?;
        state.map(|s| from_json(&s)).transpose()
    }

    pub(super) fn save_run_reads(
        &self,
        now: DateTime<Utc>,
        run: &str,
        reads: &RunReads,
    ) -> Result<()> {
        self.run(sql::SAVE_RUN_READS, (run, to_json(reads)?, micros(now)))?;
        Ok(())
    }
}
