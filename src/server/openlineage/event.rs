//! The OpenLineage RunEvent of one publish (docs/lineage.md): a pure
//! function of the commit's publish events and the batches they were built
//! from, so a redelivery after a crash sends the same event.
//!
//! Spec 2-0-2 (`OpenLineage.json`): a RunEvent needs `eventTime`,
//! `producer`, `schemaURL`, `run.runId` (a UUID) and `job.namespace` /
//! `job.name`; datasets need `namespace` and `name`; a custom facet needs
//! `_producer` and `_schemaURL`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::metastore::{JOB_KEY, RUN_ID_KEY};
use crate::model::{BatchRef, Event};

/// The spec version the events follow.
pub const SCHEMA_URL: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/// Where batchmeta's source lives (the workspace's `repository`).
const REPOSITORY: &str = "https://example.invalid/batchmeta";

/// The producer URI of every event and facet: this batchmeta's version.
pub fn producer() -> String {
    format!("{REPOSITORY}/tree/v{}", env!("CARGO_PKG_VERSION"))
}

/// The JSON Schema of the `batchmeta` run facet (docs/openlineage/).
pub fn facet_schema_url() -> String {
    format!(
        "{REPOSITORY}/blob/v{}/docs/openlineage/BatchmetaRunFacet.json#/$defs/BatchmetaRunFacet",
        env!("CARGO_PKG_VERSION")
    )
}

/// How datasets and jobs are named in the events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// The namespace of every dataset: `batchmeta://<host>`.
    pub datasets: String,
    /// The namespace of every job.
    pub jobs: String,
}

/// The OpenLineage run id of a publish: the batchmeta run id when it is a
/// UUID, else a UUID derived from it (or, without a run, from the first
/// batch published), the same on every delivery.
pub fn run_uuid(run_id: Option<&str>, first_batch: &str) -> uuid::Uuid {
    if let Some(u) = run_id.and_then(|r| uuid::Uuid::parse_str(r).ok()) {
        return u;
    }
    let seed = match run_id {
        Some(r) => format!("batchmeta run {r}"),
        None => format!("batchmeta batch {first_batch}"),
    };
    let digest = Sha256::digest(seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Version 8 (RFC 9562): a name-based UUID of our own hash.
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn table_name(e: &Event) -> String {
    format!(
        "{}.{}",
        e.namespace.as_deref().unwrap_or_default(),
        e.table.as_deref().unwrap_or_default()
    )
}

/// The RunEvent (COMPLETE) of one commit: `events` are its publish events
/// (one per partition, one table), `inputs` the batches its batches were
/// built from.
pub fn run_event(naming: &Naming, events: &[Event], inputs: &[BatchRef]) -> Value {
    let first = events.first();
    let meta = |k: &str| first.and_then(|e| e.metadata.get(k)).map(String::as_str);
    let run_id = meta(RUN_ID_KEY);
    let first_batch = first
        .and_then(|e| e.to_batch.as_ref())
        .map(|b| b.as_str().to_owned())
        .unwrap_or_default();
    let output_table = first.map(table_name).unwrap_or_default();
    let job = meta(JOB_KEY).map_or_else(|| output_table.clone(), str::to_owned);
    let dataset = |name: &str| json!({ "namespace": naming.datasets, "name": name });
    let input_tables: BTreeSet<String> = inputs.iter().map(|b| b.table.to_string()).collect();
    let outputs: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "table": table_name(e),
                "partition": e.partition,
                "batchId": e.to_batch,
                "previousBatchId": e.from_batch,
                "rows": e.rows,
            })
        })
        .collect();
    let input_batches: Vec<Value> = inputs
        .iter()
        .map(|b| {
            json!({
                "table": b.table.to_string(),
                "partition": b.partition.path(),
                "batchId": b.batch,
            })
        })
        .collect();
    json!({
        "eventType": "COMPLETE",
        "eventTime": first.map(|e| crate::model::time::format_instant(&e.at)),
        "producer": producer(),
        "schemaURL": SCHEMA_URL,
        "run": {
            "runId": run_uuid(run_id, &first_batch).to_string(),
            "facets": {
                "batchmeta": {
                    "_producer": producer(),
                    "_schemaURL": facet_schema_url(),
                    "runId": run_id,
                    "commitId": first.and_then(|e| e.commit_id.clone()),
                    "eventIds": events.iter().map(|e| e.id).collect::<Vec<_>>(),
                    "outputs": outputs,
                    "inputs": input_batches,
                }
            }
        },
        "job": { "namespace": naming.jobs, "name": job },
        "inputs": input_tables.iter().map(|t| dataset(t)).collect::<Vec<_>>(),
        "outputs": [dataset(&output_table)],
    })
}

/// Splits publish events (in id order) into commits: the events of one
/// multi-partition publish share a commit id and are adjacent.
pub fn commits(events: &[Event]) -> Vec<&[Event]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=events.len() {
        let same = i < events.len()
            && events[i].commit_id.is_some()
            && events[i].commit_id == events[start].commit_id;
        if !same {
            out.push(&events[start..i]);
            start = i;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, commit: Option<&str>, partition: &str, batch: &str) -> Event {
        let mut metadata = serde_json::Map::new();
        metadata.insert("run_id".into(), "nightly-1".into());
        metadata.insert("job".into(), "daily".into());
        serde_json::from_value(json!({
            "id": id, "at": "2026-12-03T10:00:00Z", "principal": "p", "action": "publish",
            "namespace": "sales", "table": "summary", "partition": partition,
            "from_batch": null, "to_batch": batch, "commit_id": commit, "message": null,
            "rows": 3, "bytes": 10, "files": 1, "schema_fingerprint": null,
            "metadata": metadata, "request_id": null, "details": null,
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_commit_is_its_adjacent_events_with_one_commit_id() {
        let es = [
            event(1, Some("c1"), "d=1", "20261203100000000001"),
            event(2, Some("c1"), "d=2", "20261203100000000002"),
            event(3, Some("c2"), "d=1", "20261203100000000003"),
            event(4, None, "d=1", "20261203100000000004"),
            event(5, None, "d=2", "20261203100000000005"),
        ];
        let sizes: Vec<usize> = commits(&es).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [2, 1, 1, 1]);
        assert!(commits(&[]).is_empty());
    }

    #[test]
    fn run_ids_are_uuids_the_same_on_every_delivery() {
        let given = "0b9b5a8e-1f6a-4c43-9a57-6f3f0f1b2c3d";
        assert_eq!(run_uuid(Some(given), "b").to_string(), given);
        let named = run_uuid(Some("nightly-1"), "b");
        assert_eq!(named, run_uuid(Some("nightly-1"), "other batch"));
        assert_ne!(named, run_uuid(Some("nightly-2"), "b"));
        assert_eq!(named.get_version_num(), 8);
        assert_eq!(run_uuid(None, "b1"), run_uuid(None, "b1"));
        assert_ne!(run_uuid(None, "b1"), run_uuid(None, "b2"));
        assert_ne!(run_uuid(None, "x"), run_uuid(Some("x"), "x"));
    }

    #[test]
    fn the_event_names_datasets_job_run_and_batches() {
        let naming = Naming {
            datasets: "batchmeta://h".into(),
            jobs: "batchmeta".into(),
        };
        let es = [
            event(7, Some("c"), "d=1", "20261203100000000001"),
            event(8, Some("c"), "d=2", "20261203100000000002"),
        ];
        let input = BatchRef {
            table: crate::model::TableIdent::new("sales", "items")
                .unwrap_or_else(|e| panic!("{e}")),
            partition: crate::model::PartitionValues::try_from("d=1".to_owned())
                .unwrap_or_else(|e| panic!("{e}")),
            batch: crate::model::BatchId::parse("20261202100000000009")
                .unwrap_or_else(|e| panic!("{e}")),
        };
        let v = run_event(&naming, &es, &[input]);
        assert_eq!(v["eventType"], "COMPLETE");
        assert_eq!(v["schemaURL"], SCHEMA_URL);
        assert_eq!(v["job"], json!({"namespace": "batchmeta", "name": "daily"}));
        assert_eq!(
            v["outputs"],
            json!([{"namespace": "batchmeta://h", "name": "sales.summary"}])
        );
        assert_eq!(
            v["inputs"],
            json!([{"namespace": "batchmeta://h", "name": "sales.items"}])
        );
        let facet = &v["run"]["facets"]["batchmeta"];
        assert_eq!(facet["runId"], "nightly-1");
        assert_eq!(facet["eventIds"], json!([7, 8]));
        assert_eq!(facet["outputs"][1]["batchId"], "20261203100000000002");
        assert_eq!(facet["inputs"][0]["batchId"], "20261202100000000009");
        assert!(facet["_producer"].is_string() && facet["_schemaURL"].is_string());
    }
}
