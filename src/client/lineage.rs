//! Lineage over HTTP: one step of edges and a run's reads.

use reqwest::Method;

use super::RemoteCatalog;
use crate::api;
use crate::error::Result;
use crate::model::{BatchId, Context, Direction, LineageEdge, RunReads};

/// `/v1/runs/{run}/reads`, the run id percent-encoded (ids from schedulers
/// hold `:` and `+`).
fn run_path(run: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(run.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("/v1/runs/{encoded}/reads")
}

impl RemoteCatalog {
    pub(super) async fn lineage_edges_remote(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        if batches.is_empty() {
            return Ok(Vec::new());
        }
        let body = api::LineageEdgesBody {
            batches: batches.iter().map(ToString::to_string).collect(),
            direction,
        };
        // A query: safe to send again.
        self.post_safe(&Context::new("anonymous"), "/v1/lineage/edges", &body)
            .await
    }

    pub(super) async fn run_reads_remote(&self, run: &str) -> Result<Option<RunReads>> {
        let reads: RunReads = self.get(&run_path(run), super::NO_QUERY).await?;
        Ok((reads != RunReads::default()).then_some(reads))
    }

    pub(super) async fn save_run_reads_remote(&self, run: &str, reads: &RunReads) -> Result<()> {
        let _: RunReads = self
            .send(
                &Context::new("anonymous"),
                Method::PUT,
                &run_path(run),
                Some(reads),
            )
            .await?;
        Ok(())
    }
}
