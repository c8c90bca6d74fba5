//! Crash safety of `meta gc --apply` (issue 20): round after round, the
//! test build of `meta gc --apply` runs with the `gc_pause_after_delete`
//! fault, which stops after each file it deletes and says which; the test
//! SIGKILLs it after a random number of deletions (the seed is printed,
//! `BATCHMETA_CRASH_SEED` replays one), then checks: every file of a
//! current or pinned batch is still there, `meta verify` (the CLI) finds
//! nothing. A last rerun without the fault finishes. Then: every batch the
//! dry run listed is expired, with exactly one `expire` event each (its
//! files listed) and none other; no file was deleted twice (each deletion
//! reported once across every run); every listed file is gone.
//!
//! Negative control: the same loop with `gc_mark_expired_first` (the batch
//! is marked expired, with its event, before its files are deleted) must
//! report files of expired batches left behind.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use batchmeta::data::WriteOptions;
use batchmeta::model::{
    Action, Context, EventQuery, KeyType, NamespaceName, NewNamespace, NewPin, NewTable,
    PartitionKey, PartitionSpec, PinName, PinTarget, TableIdent,
};
use batchmeta::{Config, GcRequest, Metastore, StoreOptions};
use serde_json::Value;

use crate::common::services::{POSTGRES_URL, Place, service};

const PARTS: [&str; 2] = ["day=a", "day=b"];
const BATCHES: usize = 5;
const FILES: i64 = 3;

fn meta(place: &Place) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meta"));
    c.args([
        "--url",
        &place.database_url,
        "--warehouse",
        &place.warehouse,
    ])
    .current_dir(place.dir.path())
    .env("RUST_BACKTRACE", "0")
    .env("NO_COLOR", "1");
    c
}

const GC: [&str; 8] = [
    "gc",
    "crash.t",
    "--keep-last",
    "1",
    "--grace",
    "0s",
    "--force-grace",
    "--apply",
];

/// Batches in two partitions, several files each; the second of `day=a`
/// pinned. Returns the metastore and the table.
async fn setup(place: &Place) -> (Metastore, TableIdent) {
    let ms = Metastore::open(&Config {
        database_url: Some(place.database_url.clone()),
        warehouse: Some(place.warehouse.clone()),
        ..Config::default()
    })
    .await
    .unwrap()
    .with_write_options(WriteOptions {
        target_file_size: 1,
        ..WriteOptions::default()
    });
    let ctx = Context::new("tester");
    let ns = NamespaceName::new("crash").unwrap();
    ms.create_namespace(
        &ctx,
        &NewNamespace {
            name: ns.clone(),
            description: None,
            owner: None,
            properties: Default::default(),
        },
    )
    .await
    .unwrap();
    let t = TableIdent::new("crash", "t").unwrap();
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
    ms.create_table(
        &ctx,
        &NewTable {
            ident: t.clone(),
            schema: (*schema).clone(),
            partition_keys: vec![PartitionKey::new("day", KeyType::String).unwrap()],
            description: None,
            owner: None,
            properties: Default::default(),
        },
    )
    .await
    .unwrap();
    let mut pinned = None;
    for p in PARTS {
        for i in 0..BATCHES as i64 {
            let frames: Vec<batchmeta::Result<RecordBatch>> = (0..FILES)
                .map(|f| {
                    Ok(RecordBatch::try_new(
                        schema.clone(),
                        vec![Arc::new(Int64Array::from(vec![i * 10 + f]))],
                    )
                    .unwrap())
                })
                .collect();
            let stored = ms
                .store(
                    &ctx,
                    &t,
                    &PartitionSpec::parse(p).unwrap(),
                    schema.clone(),
                    futures::stream::iter(frames),
                    &StoreOptions::default(),
                )
                .await
                .unwrap();
            if p == "day=a" && i == 1 {
                pinned = Some(stored.batch.id.clone());
            }
        }
    }
    ms.create_pin(
        &ctx,
        &t,
        &NewPin {
            name: PinName::new("report").unwrap(),
            owner: None,
            reason: None,
            target: PinTarget::Batch {
                partition: ms
                    .partition(&t, &PartitionSpec::parse("day=a").unwrap())
                    .await
                    .unwrap(),
                batch: pinned.unwrap(),
            },
            expires_at: None,
        },
    )
    .await
    .unwrap();
    (ms, t)
}

/// One `meta gc --apply` with `faults`, killed (SIGKILL) after `kill_after`
/// deletions (not counting files already gone); the deletions it
/// reported, and whether it ran to the end.
fn run_gc(place: &Place, faults: &str, kill_after: usize) -> (Vec<String>, bool) {
    let mut child = meta(place)
        .args(GC)
        .env("BATCHMETA_FAULTS", faults)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut deleted = Vec::new();
    let mut pauses = 0;
    for line in stderr.lines() {
        let line = line.unwrap();
        let Some(what) = line
            .split_once(": paused after ")
            .map(|(_, w)| w.to_owned())
        else {
            continue;
        };
        // Only real deletions count: a resumed batch's files already gone do not.
        if let Some(path) = what.strip_prefix("deleted ") {
            deleted.push(path.to_owned());
            pauses += 1;
        }
        if pauses >= kill_after {
            child.kill().unwrap();
            child.wait().unwrap();
            return (deleted, false);
        }
        let _ = writeln!(stdin, "go");
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "meta gc --apply ended with {status}");
    (deleted, true)
}

fn meta_verify(place: &Place) -> Vec<Value> {
    let out = meta(place)
        .args(["--output", "json", "verify"])
        .env("BATCHMETA_FAULTS", "")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "meta verify printed no report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["violations"].as_array().cloned().unwrap_or_default()
}

/// Whether a warehouse-relative file exists (the warehouse is local).
fn exists(place: &Place, path: &str) -> bool {
    std::path::Path::new(&place.warehouse).join(path).exists()
}

/// The loop; the mismatches it found.
async fn gc_kill_loop(place: &Place, faults: &str, seed: u64) -> Vec<String> {
    let (ms, t) = setup(place).await;
    let ctx = Context::new("tester");
    let dry = ms
        .gc(
            &ctx,
            &GcRequest {
                table: Some(t.clone()),
                keep_last: Some(1),
                grace: Some(chrono::TimeDelta::zero()),
                force_grace: true,
                ..GcRequest::default()
            },
        )
        .await
        .unwrap();
    // 4 of 5 per partition, less the pinned one.
    assert_eq!(dry.collected.len(), 2 * (BATCHES - 1) - 1);
    let listed: BTreeSet<String> = dry.collected.iter().map(|c| c.batch.to_string()).collect();
    let listed_files: BTreeSet<String> =
        dry.collected.iter().flat_map(|c| c.files.clone()).collect();
    let protected: Vec<String> = {
        let mut out = Vec::new();
        for s in &dry.survivors {
            out.extend(
                ms.batch(&t, &s.batch)
                    .await
                    .unwrap()
                    .files
                    .iter()
                    .map(|f| f.path.clone()),
            );
        }
        out
    };
    let mut mismatches = Vec::new();
    let mut deletions: BTreeMap<String, usize> = BTreeMap::new();
    let mut rng = seed;
    let mut rounds = 0;
    loop {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Fewer than a batch's files: a kill is mid-batch at least once.
        let kill_after = 1 + (rng % (FILES as u64 - 1)) as usize;
        let (deleted, finished) = run_gc(
            place,
            &format!("gc_pause_after_delete,{faults}"),
            kill_after,
        );
        for d in deleted {
            *deletions.entry(d).or_default() += 1;
        }
        rounds += 1;
        for p in &protected {
            if !exists(place, p) {
                mismatches.push(format!("round {rounds}: protected file {p} lost"));
            }
        }
        let v = meta_verify(place);
        if !v.is_empty() {
            mismatches.push(format!("round {rounds}: meta verify: {v:?}"));
        }
        if finished || rounds > 40 {
            break;
        }
    }
    // A rerun without the fault finishes whatever is left.
    let (_, finished) = run_gc(place, "", usize::MAX);
    assert!(finished);
    for (path, n) in &deletions {
        if *n > 1 {
            mismatches.push(format!("{path} deleted {n} times"));
        }
    }
    for f in &listed_files {
        if exists(place, f) {
            mismatches.push(format!("{f} of a collected batch is still there"));
        }
    }
    let events = ms
        .events(&EventQuery {
            action: Some(Action::Expire),
            table: Some(t.clone()),
            limit: Some(1000),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    let mut per_batch: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events.items {
        *per_batch
            .entry(
                e.from_batch
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
            .or_default() += 1;
    }
    if per_batch.keys().cloned().collect::<BTreeSet<_>>() != listed
        || per_batch.values().any(|n| *n != 1)
    {
        mismatches.push(format!(
            "expire events {per_batch:?}, expected one each for {listed:?}"
        ));
    }
    for b in &listed {
        let got = ms
            .batch(&t, &batchmeta::model::BatchId::parse(b).unwrap())
            .await
            .unwrap();
        if got.state != batchmeta::model::BatchState::Expired {
            mismatches.push(format!("{b} is {:?}, not expired", got.state));
        }
    }
    println!(
        "gc crash loop: seed {seed}, {rounds} rounds, {} deletions",
        deletions.len()
    );
    mismatches
}

fn seed() -> u64 {
    std::env::var("BATCHMETA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_gc_apply_sqlite() {
    let m = gc_kill_loop(&Place::sqlite(), "", seed()).await;
    assert!(m.is_empty(), "{m:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_gc_apply_postgres() {
    let Some(server) = service(POSTGRES_URL) else {
        return;
    };
    let m = gc_kill_loop(&Place::postgres(&server).await, "", seed()).await;
    assert!(m.is_empty(), "{m:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_control_gc_mark_expired_first_is_caught() {
    let m = gc_kill_loop(&Place::sqlite(), "gc_mark_expired_first", seed()).await;
    assert!(
        m.iter()
            .any(|m| m.contains("of a collected batch is still there")),
        "the loop should have found files left by expiring first: {m:#?}"
    );
}
