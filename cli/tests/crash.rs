//! Crash safety of `meta serve` (issue 8).
//!
//! - **The SIGKILL loop** (`sigkill_loop_sqlite`): round after round on one
//!   catalog and one warehouse, start the test build of `meta serve`, check
//!   the audit trail against what the writers were told, run `meta verify`,
//!   let 4 writers publish continuously over HTTP (stores with an idempotency
//!   key, stage + upload + publish, some compare-and-swap), and kill the
//!   server with SIGKILL at a random moment. A writer logs every 2xx before
//!   it sends its next request; a request whose answer the kill took away is
//!   retried, with the same idempotency key, after the restart. Checked every
//!   round: every acknowledged publish is in the trail exactly once, as
//!   acknowledged; every publish in the trail was acknowledged or was in
//!   flight at the kill; each partition's pointer is at its last acknowledged
//!   publish or at a later one that was in flight; `meta verify` finds
//!   nothing. The seed is printed; `BATCHMETA_CRASH_SEED` replays one and
//!   `BATCHMETA_CRASH_ROUNDS` changes the number of rounds (default 50).
//! - **Failpoints**: one test per step of a publish (`crash_after_data_written`,
//!   `crash_before_commit`, `crash_after_commit`, compiled into test builds
//!   only, see `src/faults.rs`): the server aborts there, restarts without
//!   the fault, and the test checks what the crash left and that a retry with
//!   the same idempotency key (or of the same publish) ends with exactly one
//!   event and, after a commit, returns the original result.
//! - **Negative control**: the same loop against a server that answers before
//!   it commits (`ack_before_commit`) must report lost acknowledged publishes.
//! - **Rollbacks and pins** (issue 15, `sigkill_rollback_loop_*`,
//!   `sigkill_pin_loop_*`, 20 rounds on SQLite, 8 on PostgreSQL): the same
//!   loop with about half the writers' ops rollbacks (compare-and-swap on
//!   the current batch, the op's key as the message, so a retry after a
//!   commit is refused and the trail says whether it had committed) or pin
//!   creations (named by the op, on a current batch or on the table as of
//!   the writer's last publish). Checked besides the above: every
//!   acknowledged rollback has exactly its event and every rollback event
//!   was acknowledged or in flight; every pointer event starts where the one
//!   before left the pointer; every acknowledged pin exists as acknowledged,
//!   every pin was acknowledged or in flight, a pin and its `create_pin`
//!   event exist together, and a pin holds what it was created on (a batch
//!   pin its batch, listed among that batch's holders; an as-of pin every
//!   partition's batch at that time by the trail). Their negative controls
//!   kill the server right after a rollback (pin) was acknowledged under
//!   `ack_before_commit`, which answers those before committing too, and
//!   must report the acknowledged rollbacks (pins) lost.
//!
//! With `BATCHMETA_TEST_POSTGRES_URL` set (scripts/with-services), a shorter
//! loop and the failpoint tests also run on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;
#[path = "crash_gc/mod.rs"]
mod crash_gc;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use batchmeta::Stored;
use batchmeta::model::{Action, Batch, BatchState, Commit, Event, Page, Pin, PinTarget, Resolved};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use common::servers::{MetaServe, Served};
use common::services::{POSTGRES_URL, Place, service};

const NS: &str = "crash";
const TABLE: &str = "t";
const PARTITIONS: usize = 3;
const WRITERS: usize = 4;

// ---------------------------------------------------------------------------
// Places, servers, the CLI
// ---------------------------------------------------------------------------

/// A `meta serve` process on a free loopback port, on `place`.
fn serve(place: &Place, faults: &str) -> Served {
    MetaServe::on(place).faults(faults).start()
}

/// Waits for the server to die by a failpoint: it must have aborted.
fn expect_abort(server: &mut Served) {
    let status = server.child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(6),
        "the server should have aborted at the failpoint (SIGABRT), but it ended with {status}"
    );
}

/// `meta verify` (the CLI, on the catalog itself, not through a server):
/// the violations it reports.
fn meta_verify(place: &Place) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args([
            "--url",
            &place.database_url,
            "--warehouse",
            &place.warehouse,
        ])
        .args(["--output", "json", "verify"])
        .current_dir(place.dir.path())
        .env("BATCHMETA_FAULTS", "")
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "meta verify did not print its report ({e}): status {}, stdout {stdout}, stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let violations = report["violations"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        out.status.code(),
        Some(if violations.is_empty() { 0 } else { 1 }),
        "meta verify: {report}"
    );
    violations
}

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

fn frame(writer: usize, seq: u64, rows: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("writer", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![writer as i64; rows])),
            Arc::new(Int64Array::from(vec![seq as i64; rows])),
        ],
    )
    .unwrap()
}

fn parquet_bytes(b: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
    buf
}

fn ipc_bytes(b: &RecordBatch) -> Vec<u8> {
    let mut w = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &b.schema()).unwrap();
    w.write(b).unwrap();
    w.finish().unwrap();
    w.into_inner().unwrap()
}

fn part(p: usize) -> String {
    format!("p={p}")
}

// ---------------------------------------------------------------------------
// The HTTP API
// ---------------------------------------------------------------------------

/// What one request came to.
#[derive(Debug)]
enum Outcome<T> {
    /// A 2xx, with its body.
    Done(T),
    /// An error answer: nothing happened.
    Refused { status: u16, body: String },
    /// No (complete) answer: the server may or may not have done it.
    Unknown(String),
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        // A hang guard only: a request to a killed server fails at once.
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(http: &reqwest::Client, server: &Served) -> Self {
        Api {
            http: http.clone(),
            base: server.base.clone(),
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v1/namespaces/{NS}/tables/{TABLE}{rest}", self.base)
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Outcome<T> {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Unknown(e.to_string()),
        };
        let status = resp.status();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Outcome::Unknown(e.to_string()),
        };
        if status.is_success() {
            Outcome::Done(
                serde_json::from_slice(&body)
                    .unwrap_or_else(|e| panic!("a 2xx the test cannot read ({e}): {body:?}")),
            )
        } else {
            Outcome::Refused {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        }
    }

    /// The namespace and the table (an existing one is fine).
    async fn setup(&self) {
        let ns = self.http.post(format!("{}/v1/namespaces", self.base));
        match self.send::<Value>(ns.json(&json!({"name": NS}))).await {
            Outcome::Done(_) | Outcome::Refused { status: 409, .. } => {}
            other => panic!("create namespace: {other:?}"),
        }
        let t = self
            .http
            .post(format!("{}/v1/namespaces/{NS}/tables", self.base))
            .json(&json!({
                "name": TABLE,
                "columns": [
                    {"name": "writer", "type": "int64", "nullable": false},
                    {"name": "seq", "type": "int64", "nullable": false},
                ],
                "partition_keys": [{"name": "p", "type": "int"}],
            }));
        match self.send::<Value>(t).await {
            Outcome::Done(_) | Outcome::Refused { status: 409, .. } => {}
            other => panic!("create table: {other:?}"),
        }
    }

    /// `POST .../store` of a Parquet body with an idempotency key.
    async fn store(
        &self,
        p: usize,
        key: &str,
        expect: Option<&Option<String>>,
        body: Vec<u8>,
    ) -> Outcome<Stored> {
        let mut q = vec![("partition", part(p)), ("idempotency_key", key.to_owned())];
        if let Some(e) = expect {
            q.push(("expected_batch", e.clone().unwrap_or_else(|| "none".into())));
        }
        let req = self
            .http
            .post(self.url("/store"))
            .query(&q)
            .header("content-type", "application/vnd.apache.parquet")
            .body(body);
        self.send(req).await
    }

    async fn stage(&self, p: usize, key: &str) -> Outcome<Vec<Batch>> {
        let req = self
            .http
            .post(self.url("/stage"))
            .json(&json!({"partitions": [part(p)], "idempotency_key": key}));
        self.send(req).await
    }

    /// `PUT .../batches/{id}/data` of an Arrow IPC stream.
    async fn upload(&self, batch: &str, body: Vec<u8>) -> Outcome<Batch> {
        let req = self
            .http
            .put(self.url(&format!("/batches/{batch}/data")))
            .header("content-type", "application/vnd.apache.arrow.stream")
            .body(body);
        self.send(req).await
    }

    async fn publish(
        &self,
        p: usize,
        batch: &str,
        expect: Option<&Option<String>>,
    ) -> Outcome<Commit> {
        let mut item = json!({"partition": part(p), "batch_id": batch});
        if let Some(e) = expect {
            item["expected_batch"] = json!(e.clone().unwrap_or_else(|| "none".into()));
        }
        let req = self
            .http
            .post(self.url("/publish"))
            .json(&json!({"items": [item]}));
        self.send(req).await
    }

    /// The partition's current batch (`None`: never published).
    async fn current(&self, p: usize) -> Outcome<Option<String>> {
        let req = self
            .http
            .post(self.url("/resolve"))
            .json(&json!({"partitions": [part(p)]}));
        match self.send::<Vec<Resolved>>(req).await {
            Outcome::Done(r) => Outcome::Done(r.into_iter().next().map(|r| r.batch.id.to_string())),
            Outcome::Refused { status: 404, .. } => Outcome::Done(None),
            Outcome::Refused { status, body } => Outcome::Refused { status, body },
            Outcome::Unknown(e) => Outcome::Unknown(e),
        }
    }

    fn must<T: std::fmt::Debug>(o: Outcome<T>, what: &str) -> T {
        match o {
            Outcome::Done(t) => t,
            other => panic!("{what}: {other:?}"),
        }
    }

    /// Every event of the table with this action, oldest first.
    async fn try_events(&self, action: Action) -> Outcome<Vec<Event>> {
        let mut out = Vec::new();
        let mut after = 0i64;
        loop {
            let req = self.http.get(format!("{}/v1/events", self.base)).query(&[
                ("namespace", NS.to_owned()),
                ("table", TABLE.to_owned()),
                ("action", action.as_str().to_owned()),
                ("after", after.to_string()),
                ("limit", "1000".to_owned()),
            ]);
            let page: Page<Event> = match self.send(req).await {
                Outcome::Done(p) => p,
                Outcome::Refused { status, body } => return Outcome::Refused { status, body },
                Outcome::Unknown(e) => return Outcome::Unknown(e),
            };
            let Some(last) = page.items.last() else { break };
            after = last.id;
            let n = page.items.len();
            out.extend(page.items);
            if n < 1000 {
                break;
            }
        }
        out.retain(|e| e.action == action);
        Outcome::Done(out)
    }

    async fn events(&self, action: Action) -> Vec<Event> {
        Self::must(self.try_events(action).await, "list events")
    }

    /// Every publish event of the table, oldest first.
    async fn publish_events(&self) -> Vec<Event> {
        self.events(Action::Publish).await
    }

    /// Every event that moved a pointer (publishes and rollbacks), oldest
    /// first.
    async fn pointer_events(&self) -> Vec<Event> {
        let mut all = self.publish_events().await;
        all.extend(self.events(Action::Rollback).await);
        all.sort_by_key(|e| e.id);
        all
    }

    /// Rolls partition `p` back from `expect` (compare-and-swap) to its
    /// parent; the message names the op.
    async fn rollback(&self, p: usize, expect: &str, message: &str) -> Outcome<Event> {
        let req = self.http.post(self.url("/rollback")).json(&json!({
            "partition": part(p),
            "expected_batch": expect,
            "message": message,
        }));
        self.send(req).await
    }

    /// Creates pin `name` on a batch of partition `p`, or on the table as
    /// of a time.
    async fn create_pin(&self, name: &str, target: &PinAsk) -> Outcome<Pin> {
        let body = match target {
            PinAsk::Batch { partition, batch } => {
                json!({"name": name, "partition": part(*partition), "batch_id": batch})
            }
            PinAsk::AsOf(at) => json!({"name": name, "as_of": at}),
        };
        self.send(self.http.post(self.url("/pins")).json(&body))
            .await
    }

    async fn pin(&self, name: &str) -> Outcome<Pin> {
        self.send(self.http.get(self.url(&format!("/pins/{name}"))))
            .await
    }

    async fn pins(&self) -> Vec<Pin> {
        Self::must(
            self.send(self.http.get(self.url("/pins"))).await,
            "list pins",
        )
    }

    async fn pins_holding(&self, batch: &str) -> Vec<Pin> {
        let req = self.http.get(self.url(&format!("/batches/{batch}/pins")));
        Self::must(self.send(req).await, "pins holding")
    }

    /// What pin `name` holds: partition path → batch.
    async fn resolve_pin(&self, name: &str) -> Vec<(String, String)> {
        let req = self
            .http
            .post(self.url("/resolve"))
            .json(&json!({"pin": name}));
        let r: Vec<Resolved> = Self::must(self.send(req).await, "resolve pin");
        r.into_iter()
            .map(|r| (r.partition.path(), r.batch.id.to_string()))
            .collect()
    }

    async fn try_batch(&self, id: &str) -> Outcome<Batch> {
        self.send(self.http.get(self.url(&format!("/batches/{id}"))))
            .await
    }

    async fn batch(&self, id: &str) -> Batch {
        let req = self.http.get(self.url(&format!("/batches/{id}")));
        Self::must(self.send(req).await, "get batch")
    }

    async fn batches(&self, p: usize) -> Vec<Batch> {
        let req = self
            .http
            .get(self.url("/batches"))
            .query(&[("partition", part(p))]);
        Self::must(self.send(req).await, "list batches")
    }
}

// ---------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so a seed replays a run.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `POST .../store?idempotency_key=...` with a Parquet body.
    Store,
    /// Stage with an idempotency key, upload an Arrow stream, publish.
    StagePublish,
    /// `POST .../rollback` of a partition to its current batch's parent,
    /// compare-and-swap on the current batch (so a retry after a commit is
    /// refused, never applied twice), the op's key as its message.
    Rollback,
    /// `POST .../pins` named by the op's key: on a partition's current batch,
    /// or on the whole table as of the writer's last acknowledged publish.
    Pin,
}

impl Kind {
    fn publishes(self) -> bool {
        matches!(self, Kind::Store | Kind::StagePublish)
    }
}

/// What the writers do besides publishing (about half their ops).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Workload {
    /// Publishes only.
    Publish,
    /// Publishes and rollbacks.
    Rollback,
    /// Publishes and pin creations.
    Pin,
}

/// What a pin op asks to hold.
#[derive(Debug, Clone, PartialEq)]
enum PinAsk {
    Batch {
        partition: usize,
        batch: String,
    },
    /// A server time, RFC 3339 with microseconds.
    AsOf(String),
}

fn rfc3339(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// One publish a writer wants done.
#[derive(Debug, Clone)]
struct Op {
    writer: usize,
    seq: u64,
    kind: Kind,
    key: String,
    partition: usize,
    /// Compare-and-swap: the batch expected to be current (`None`: empty).
    expect: Option<Option<String>>,
    rows: usize,
    /// The staged batch, once a stage answered; for a rollback, the parent
    /// it moves to.
    batch: Option<String>,
    /// For a pin: what it holds.
    pin: Option<PinAsk>,
}

/// An acknowledged change, as the writer logged it before going on: a
/// publish or a rollback (its event), or a pin (`pin`; no event id).
#[derive(Debug, Clone)]
struct Ack {
    kind: Kind,
    key: String,
    partition: String,
    batch: String,
    commit_id: String,
    event: i64,
    /// The event's server time.
    at: Option<DateTime<Utc>>,
    pin: Option<Box<Pin>>,
}

impl Ack {
    fn of_event(kind: Kind, key: &str, e: &Event) -> Self {
        Ack {
            kind,
            key: key.to_owned(),
            partition: e.partition.clone().unwrap_or_default(),
            batch: e
                .to_batch
                .as_ref()
                .map(|b| b.to_string())
                .unwrap_or_default(),
            commit_id: e.commit_id.clone().unwrap_or_default(),
            event: e.id,
            at: Some(e.at),
            pin: None,
        }
    }

    fn of_pin(key: &str, p: Pin) -> Self {
        let (partition, batch) = match &p.target {
            PinTarget::Batch { partition, batch } => (partition.path(), batch.to_string()),
            PinTarget::AsOf { .. } => (String::new(), String::new()),
        };
        Ack {
            kind: Kind::Pin,
            key: key.to_owned(),
            partition,
            batch,
            commit_id: String::new(),
            event: -1,
            at: None,
            pin: Some(Box::new(p)),
        }
    }
}

enum Step {
    Done(Ack),
    Conflict,
    Failed(String),
    Unknown,
}

#[derive(Debug)]
struct Writer {
    id: usize,
    rng: Rng,
    seq: u64,
    /// The op whose answer a kill took away; retried after the restart.
    pending: Option<Op>,
    acks: Vec<Ack>,
    /// Ops that got a definite refusal: they must never show up as published.
    failed: HashSet<String>,
    conflicts: u64,
    retried: u64,
    acked_after_retry: u64,
    errors: Vec<String>,
    /// A retry with the same key that came back with something else.
    mismatches: Vec<String>,
    workload: Workload,
    /// The negative controls' trigger: an acknowledgement of this kind
    /// (not of a retry) wakes the loop, which kills the server at once.
    kill_on: Option<(Kind, Arc<tokio::sync::Notify>)>,
}

impl Writer {
    fn new(id: usize, seed: u64) -> Self {
        Writer {
            id,
            rng: Rng::new(seed),
            seq: 0,
            pending: None,
            acks: Vec::new(),
            failed: HashSet::new(),
            conflicts: 0,
            retried: 0,
            acked_after_retry: 0,
            errors: Vec::new(),
            mismatches: Vec::new(),
            workload: Workload::Publish,
            kill_on: None,
        }
    }

    /// The next op, or `None` when the server is gone.
    async fn next_op(&mut self, api: &Api) -> Option<Op> {
        let partition = self.rng.below(PARTITIONS as u64) as usize;
        let kind = if self.rng.below(2) == 0 {
            Kind::Store
        } else {
            Kind::StagePublish
        };
        let cas = self.rng.below(3) == 0;
        let rows = 1 + self.rng.below(20) as usize;
        if self.workload != Workload::Publish && self.rng.below(2) == 0 {
            match self.other_op(api, partition).await {
                Ok(Some(op)) => return Some(op),
                // Nothing to roll back or pin yet: publish instead.
                Ok(None) => {}
                Err(()) => return None,
            }
        }
        let expect = if cas {
            match api.current(partition).await {
                Outcome::Done(c) => Some(c),
                Outcome::Refused { status, body } => {
                    self.errors.push(format!("resolve: {status} {body}"));
                    return None;
                }
                Outcome::Unknown(_) => return None,
            }
        } else {
            None
        };
        self.seq += 1;
        Some(Op {
            writer: self.id,
            seq: self.seq,
            kind,
            key: format!("w{}-{}", self.id, self.seq),
            partition,
            expect,
            rows,
            batch: None,
            pin: None,
        })
    }

    /// A rollback or a pin (by the workload) on `partition`; `Ok(None)`
    /// when there is nothing to do it to, `Err` when the server is gone.
    async fn other_op(&mut self, api: &Api, partition: usize) -> Result<Option<Op>, ()> {
        let as_of = self
            .acks
            .iter()
            .rev()
            .find(|a| a.kind.publishes())
            .and_then(|a| a.at);
        let by_time = self.workload == Workload::Pin && self.rng.below(2) == 0;
        let current = match api.current(partition).await {
            Outcome::Done(c) => c,
            Outcome::Refused { status, body } => {
                self.errors.push(format!("resolve: {status} {body}"));
                return Err(());
            }
            Outcome::Unknown(_) => return Err(()),
        };
        let (kind, expect, batch, pin) = match (self.workload, by_time, as_of, current) {
            (Workload::Pin, true, Some(at), _) => {
                (Kind::Pin, None, None, PinAsk::AsOf(rfc3339(&at)))
            }
            (Workload::Pin, _, _, Some(cur)) => (
                Kind::Pin,
                None,
                None,
                PinAsk::Batch {
                    partition,
                    batch: cur,
                },
            ),
            (Workload::Rollback, _, _, Some(cur)) => {
                let parent = match api.try_batch(&cur).await {
                    Outcome::Done(b) => b.parent.map(|b| b.to_string()),
                    Outcome::Refused { status, body } => {
                        self.errors.push(format!("get batch: {status} {body}"));
                        return Err(());
                    }
                    Outcome::Unknown(_) => return Err(()),
                };
                let Some(parent) = parent else {
                    return Ok(None);
                };
                return Ok(Some(self.op(
                    Kind::Rollback,
                    partition,
                    Some(Some(cur)),
                    Some(parent),
                    None,
                )));
            }
            _ => return Ok(None),
        };
        Ok(Some(self.op(kind, partition, expect, batch, Some(pin))))
    }

    fn op(
        &mut self,
        kind: Kind,
        partition: usize,
        expect: Option<Option<String>>,
        batch: Option<String>,
        pin: Option<PinAsk>,
    ) -> Op {
        self.seq += 1;
        Op {
            writer: self.id,
            seq: self.seq,
            kind,
            // Pin names are identifiers.
            key: format!(
                "w{}{}{}",
                self.id,
                if kind == Kind::Pin { "_" } else { "-" },
                self.seq
            ),
            partition,
            expect,
            rows: 0,
            batch,
            pin,
        }
    }

    /// Runs (or retries) an op and logs its outcome; false when the server
    /// is gone (the op stays pending).
    async fn settle(&mut self, api: &Api, mut op: Op, retry: bool) -> bool {
        match run_op(api, &mut op, retry, &mut self.mismatches).await {
            Step::Done(ack) => {
                let wake = match &self.kill_on {
                    Some((kind, n)) if *kind == ack.kind && !retry => Some(n.clone()),
                    _ => None,
                };
                // Logged before anything else is sent.
                self.acks.push(ack);
                if retry {
                    self.acked_after_retry += 1;
                }
                if let Some(n) = wake {
                    n.notify_one();
                }
                true
            }
            Step::Conflict => {
                self.conflicts += 1;
                self.failed.insert(op.key);
                true
            }
            Step::Failed(e) => {
                self.errors.push(format!("{}: {e}", op.key));
                self.failed.insert(op.key);
                true
            }
            Step::Unknown => {
                self.pending = Some(op);
                false
            }
        }
    }

    /// One round: retry the pending op, then publish until the server dies
    /// (or, with `recovery_only`, stop after the retry).
    async fn round(mut self, api: Api, recovery_only: bool) -> Self {
        if let Some(op) = self.pending.take() {
            self.retried += 1;
            if !self.settle(&api, op, true).await {
                return self;
            }
        }
        if recovery_only {
            return self;
        }
        loop {
            let Some(op) = self.next_op(&api).await else {
                return self;
            };
            if !self.settle(&api, op, false).await {
                return self;
            }
        }
    }
}

fn refused(what: &str, status: u16, body: &str) -> Step {
    if status == 409 {
        Step::Conflict
    } else {
        Step::Failed(format!("{what}: {status} {body}"))
    }
}

async fn run_op(api: &Api, op: &mut Op, retry: bool, mismatches: &mut Vec<String>) -> Step {
    let data = frame(op.writer, op.seq, op.rows);
    match op.kind {
        Kind::Rollback => run_rollback(api, op, retry, mismatches).await,
        Kind::Pin => run_pin(api, op, retry, mismatches).await,
        Kind::Store => match api
            .store(
                op.partition,
                &op.key,
                op.expect.as_ref(),
                parquet_bytes(&data),
            )
            .await
        {
            Outcome::Done(s) => {
                let id = s.batch.id.to_string();
                if s.batch.idempotency_key.as_deref() != Some(op.key.as_str())
                    || s.commit.events.len() != 1
                    || s.commit.events[0].to_batch.as_ref().map(|b| b.to_string())
                        != Some(id.clone())
                {
                    mismatches.push(format!("store {}: {s:?}", op.key));
                }
                Step::Done(Ack {
                    kind: op.kind,
                    key: op.key.clone(),
                    partition: s.batch.partition.path(),
                    batch: id,
                    commit_id: s.commit.commit_id.clone(),
                    event: s.commit.events.first().map(|e| e.id).unwrap_or(-1),
                    at: s.commit.events.first().map(|e| e.at),
                    pin: None,
                })
            }
            Outcome::Refused { status, body } => refused("store", status, &body),
            Outcome::Unknown(_) => Step::Unknown,
        },
        Kind::StagePublish => {
            let b = match api.stage(op.partition, &op.key).await {
                Outcome::Done(mut v) if v.len() == 1 => v.remove(0),
                Outcome::Done(v) => return Step::Failed(format!("stage returned {v:?}")),
                Outcome::Refused { status, body } => return refused("stage", status, &body),
                Outcome::Unknown(_) => return Step::Unknown,
            };
            let id = b.id.to_string();
            if let Some(before) = &op.batch
                && *before != id
            {
                mismatches.push(format!(
                    "stage {} again gave batch {id}, first {before}",
                    op.key
                ));
            }
            op.batch = Some(id.clone());
            if b.state == BatchState::Staged && b.files.is_empty() {
                match api.upload(&id, ipc_bytes(&data)).await {
                    Outcome::Done(_) => {}
                    Outcome::Refused { status, body } => return refused("upload", status, &body),
                    Outcome::Unknown(_) => return Step::Unknown,
                }
            }
            match api.publish(op.partition, &id, op.expect.as_ref()).await {
                Outcome::Done(c) => {
                    if c.events.len() != 1
                        || c.events[0].to_batch.as_ref().map(|b| b.to_string()) != Some(id.clone())
                    {
                        mismatches.push(format!("publish {}: {c:?}", op.key));
                    }
                    Step::Done(Ack {
                        kind: op.kind,
                        key: op.key.clone(),
                        partition: part(op.partition),
                        batch: id,
                        commit_id: c.commit_id.clone(),
                        event: c.events.first().map(|e| e.id).unwrap_or(-1),
                        at: c.events.first().map(|e| e.at),
                        pin: None,
                    })
                }
                Outcome::Refused { status, body } => refused("publish", status, &body),
                Outcome::Unknown(_) => Step::Unknown,
            }
        }
    }
}

/// A rollback: compare-and-swap on the batch the writer saw current, so a
/// retry of one that committed before the kill is refused (409); the trail
/// then says whether it had (its event carries the op's key).
async fn run_rollback(api: &Api, op: &Op, retry: bool, mismatches: &mut Vec<String>) -> Step {
    let expect = op.expect.clone().flatten().unwrap_or_default();
    match api.rollback(op.partition, &expect, &op.key).await {
        Outcome::Done(e) => {
            if e.message.as_deref() != Some(op.key.as_str())
                || e.to_batch.as_ref().map(|b| b.to_string()) != op.batch
                || e.from_batch.as_ref().map(|b| b.to_string()) != Some(expect)
            {
                mismatches.push(format!("rollback {}: {e:?}", op.key));
            }
            Step::Done(Ack::of_event(Kind::Rollback, &op.key, &e))
        }
        Outcome::Refused { status: 409, .. } if retry => {
            match api.try_events(Action::Rollback).await {
                Outcome::Done(evs) => {
                    match evs
                        .iter()
                        .find(|e| e.message.as_deref() == Some(op.key.as_str()))
                    {
                        Some(e) => Step::Done(Ack::of_event(Kind::Rollback, &op.key, e)),
                        None => Step::Conflict,
                    }
                }
                Outcome::Refused { status, body } => refused("list events", status, &body),
                Outcome::Unknown(_) => Step::Unknown,
            }
        }
        Outcome::Refused { status, body } => refused("rollback", status, &body),
        Outcome::Unknown(_) => Step::Unknown,
    }
}

/// A pin: named by the op, so a retry of one that committed before the
/// kill is refused (409) and the pin is there to read.
async fn run_pin(api: &Api, op: &Op, retry: bool, mismatches: &mut Vec<String>) -> Step {
    let Some(ask) = &op.pin else {
        return Step::Failed(format!("pin op {} without a target", op.key));
    };
    let pin = match api.create_pin(&op.key, ask).await {
        Outcome::Done(p) => p,
        Outcome::Refused { status: 409, .. } if retry => match api.pin(&op.key).await {
            Outcome::Done(p) => p,
            Outcome::Refused { status, body } => return refused("get pin", status, &body),
            Outcome::Unknown(_) => return Step::Unknown,
        },
        // A 409 of a first try would be a name clash: the names are unique.
        Outcome::Refused { status, body } => {
            return Step::Failed(format!("create pin: {status} {body}"));
        }
        Outcome::Unknown(_) => return Step::Unknown,
    };
    let holds = match (&pin.target, ask) {
        (
            PinTarget::Batch { partition, batch },
            PinAsk::Batch {
                partition: p,
                batch: b,
            },
        ) => partition.path() == part(*p) && batch.to_string() == *b,
        (PinTarget::AsOf { at }, PinAsk::AsOf(a)) => rfc3339(at) == *a,
        _ => false,
    };
    if !holds || pin.name.as_str() != op.key {
        mismatches.push(format!("pin {}: asked {ask:?}, got {pin:?}", op.key));
    }
    Step::Done(Ack::of_pin(&op.key, pin))
}

// ---------------------------------------------------------------------------
// The loop and its checks
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Report {
    seed: u64,
    rounds: usize,
    kills: usize,
    acknowledged: usize,
    /// Acknowledged by the retry of a request whose answer a kill took away.
    acknowledged_after_retry: u64,
    /// Requests whose answer a kill took away, retried after the restart.
    retried: u64,
    /// Of those, how many had committed before the kill (the retry had to
    /// return the original result).
    committed_before_retry: usize,
    /// Of those, the rollbacks and the pins (their retries are refused
    /// with 409, and the trail or the pin shows they had committed).
    committed_rollbacks_before_retry: usize,
    committed_pins_before_retry: usize,
    publish_events: usize,
    /// Of the acknowledged changes, the rollbacks and the pins.
    acknowledged_rollbacks: usize,
    acknowledged_pins: usize,
    rollback_events: usize,
    pins: usize,
    conflicts: u64,
    verify_runs: usize,
    /// Acknowledged publishes missing from the trail (or recorded otherwise
    /// than acknowledged), or partitions behind their last acknowledged one.
    lost: BTreeSet<String>,
    /// A batch or an idempotency key published more than once.
    duplicates: BTreeSet<String>,
    /// Publishes in the trail that no writer had in flight, or that a writer
    /// was told had failed.
    unexplained: BTreeSet<String>,
    /// A retry with the same key answered with another batch or commit.
    idempotency_mismatches: Vec<String>,
    /// Half-done changes: a pointer event that does not start where the
    /// previous one left the pointer, a pin without its event or an event
    /// without its pin, a pin that does not hold what it was created on.
    half_done: BTreeSet<String>,
    verify_violations: Vec<String>,
    unexpected_errors: Vec<String>,
    /// From each kill to the next server serving.
    restarts: Vec<Duration>,
    elapsed: Duration,
}

impl Report {
    fn failures(&self) -> usize {
        self.lost.len()
            + self.duplicates.len()
            + self.unexplained.len()
            + self.idempotency_mismatches.len()
            + self.half_done.len()
            + self.verify_violations.len()
    }

    /// Lost changes of one kind (the entries name it first).
    fn lost_of(&self, what: &str) -> usize {
        self.lost.iter().filter(|l| l.starts_with(what)).count()
    }

    /// The restart times: min, median, max (s).
    fn restart_times(&self) -> String {
        let mut t: Vec<f64> = self.restarts.iter().map(Duration::as_secs_f64).collect();
        t.sort_by(f64::total_cmp);
        match (t.first(), t.get(t.len() / 2), t.last()) {
            (Some(a), Some(m), Some(z)) => format!("{a:.2}/{m:.2}/{z:.2}s"),
            _ => "-".into(),
        }
    }

    fn summary(&self) -> String {
        fn few<T: std::fmt::Debug>(v: impl IntoIterator<Item = T>) -> Vec<T> {
            v.into_iter().take(5).collect()
        }
        format!(
            "seed {} (BATCHMETA_CRASH_SEED), {} rounds, {} kills, {} acknowledged changes \
             ({} after a retry; {} rollbacks, {} pins), {} publish events, {} rollback events, \
             {} pins, {} requests retried after a kill ({} had \
             committed before it: {} rollbacks, {} pins), {} conflicts, {} verify runs, kill to serving again \
             min/median/max {}, {:.1}s\n  \
             failures: lost {} {:?}, duplicates {} {:?}, unexplained {} {:?}, \
             idempotency mismatches {} {:?}, half done {} {:?}, verify violations {} {:?}\n  \
             unexpected errors {} {:?}",
            self.seed,
            self.rounds,
            self.kills,
            self.acknowledged,
            self.acknowledged_after_retry,
            self.acknowledged_rollbacks,
            self.acknowledged_pins,
            self.publish_events,
            self.rollback_events,
            self.pins,
            self.retried,
            self.committed_before_retry,
            self.committed_rollbacks_before_retry,
            self.committed_pins_before_retry,
            self.conflicts,
            self.verify_runs,
            self.restart_times(),
            self.elapsed.as_secs_f64(),
            self.lost.len(),
            few(&self.lost),
            self.duplicates.len(),
            few(&self.duplicates),
            self.unexplained.len(),
            few(&self.unexplained),
            self.idempotency_mismatches.len(),
            few(&self.idempotency_mismatches),
            self.half_done.len(),
            few(&self.half_done),
            self.verify_violations.len(),
            few(&self.verify_violations),
            self.unexpected_errors.len(),
            few(&self.unexpected_errors),
        )
    }
}

#[derive(Debug, Clone)]
struct LoopConfig {
    rounds: usize,
    faults: &'static str,
    seed: u64,
    /// How long the writers run before the kill, at most (ms).
    max_run_ms: u64,
    workload: Workload,
    /// Kill right after the first acknowledgement of this kind in a round
    /// (bounded by 10 s) instead of at a random moment: the negative
    /// controls, so that the fault's window is always hit.
    kill_on_ack: Option<Kind>,
}

fn seed() -> u64 {
    match std::env::var("BATCHMETA_CRASH_SEED") {
        Ok(s) if !s.is_empty() => s.parse().expect("BATCHMETA_CRASH_SEED is a number"),
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

fn rounds(default: usize) -> usize {
    std::env::var("BATCHMETA_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Who published what: the batch → idempotency key of every batch in the
/// trail (looked up once); the pins whose holdings were checked (a pin
/// never changes).
#[derive(Default)]
struct Ledger {
    key_of: HashMap<String, Option<String>>,
    pins_checked: HashSet<String>,
}

/// Compares the trail and the pointers with the writers' logs. `pending`
/// ops were in flight at the last kill.
async fn check(api: &Api, writers: &[Writer], ledger: &mut Ledger, report: &mut Report) {
    let events = api.publish_events().await;
    report.publish_events = events.len();
    let mut by_key: HashMap<String, Vec<&Event>> = HashMap::new();
    let mut batch_seen: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let Some(b) = e.to_batch.as_ref().map(|b| b.to_string()) else {
            continue;
        };
        *batch_seen.entry(b.clone()).or_default() += 1;
        if !ledger.key_of.contains_key(&b) {
            let key = api.batch(&b).await.idempotency_key;
            ledger.key_of.insert(b.clone(), key);
        }
        match ledger.key_of[&b].clone() {
            Some(k) => by_key.entry(k).or_default().push(e),
            None => {
                report
                    .unexplained
                    .insert(format!("event {} to batch {b}: no idempotency key", e.id));
            }
        }
    }
    for (b, n) in &batch_seen {
        if *n > 1 {
            report
                .duplicates
                .insert(format!("batch {b} published {n} times"));
        }
    }
    let mut acked: HashMap<&str, &Ack> = HashMap::new();
    let mut pending: HashSet<&str> = HashSet::new();
    let mut failed: HashSet<&str> = HashSet::new();
    for w in writers {
        for a in w.acks.iter().filter(|a| a.kind.publishes()) {
            acked.insert(a.key.as_str(), a);
        }
        if let Some(op) = &w.pending {
            pending.insert(op.key.as_str());
        }
        failed.extend(w.failed.iter().map(String::as_str));
    }
    // Every acknowledged publish: exactly one event, the one acknowledged.
    for a in acked.values() {
        match by_key.get(a.key.as_str()).map(Vec::as_slice) {
            Some([e])
                if e.id == a.event
                    && e.to_batch.as_ref().map(|b| b.to_string()).as_deref()
                        == Some(a.batch.as_str())
                    && e.commit_id.as_deref() == Some(a.commit_id.as_str())
                    && e.partition.as_deref() == Some(a.partition.as_str()) => {}
            Some(evs) if evs.len() > 1 => {
                report
                    .duplicates
                    .insert(format!("key {} has {} publish events", a.key, evs.len()));
            }
            other => {
                report.lost.insert(format!(
                    "acknowledged {} (batch {}, event {}), trail has {:?}",
                    a.key,
                    a.batch,
                    a.event,
                    other.map(|evs| evs.iter().map(|e| e.id).collect::<Vec<_>>())
                ));
            }
        }
    }
    // Every publish in the trail: acknowledged, or in flight at the kill.
    for (key, evs) in &by_key {
        if evs.len() > 1 {
            report
                .duplicates
                .insert(format!("key {key} has {} publish events", evs.len()));
        }
        if acked.contains_key(key.as_str()) {
            continue;
        }
        if pending.contains(key.as_str()) {
            continue;
        }
        let why = if failed.contains(key.as_str()) {
            "was refused to its writer"
        } else {
            "was never sent"
        };
        report.unexplained.insert(format!(
            "key {key} (event {}) is in the trail but {why}",
            evs[0].id
        ));
    }
    // Each pointer: at its last acknowledged publish or rollback, or at a
    // later one that was in flight; each move starts where the one before
    // left the pointer.
    let moves = api.pointer_events().await;
    let acked_moves: Vec<&Ack> = writers
        .iter()
        .flat_map(|w| &w.acks)
        .filter(|a| a.kind != Kind::Pin)
        .collect();
    for p in 0..PARTITIONS {
        let path = part(p);
        let current = Api::must(api.current(p).await, "resolve");
        let mine: Vec<&Event> = moves
            .iter()
            .filter(|e| e.partition.as_deref() == Some(path.as_str()))
            .collect();
        for pair in mine.windows(2) {
            if pair[1].from_batch != pair[0].to_batch {
                report.half_done.insert(format!(
                    "{path}: event {} ({}) moves the pointer from {:?}, event {} had left it at {:?}",
                    pair[1].id,
                    pair[1].action.as_str(),
                    pair[1].from_batch,
                    pair[0].id,
                    pair[0].to_batch
                ));
            }
        }
        let last_event = mine.last();
        let last_ack = acked_moves
            .iter()
            .filter(|a| a.partition == path)
            .max_by_key(|a| a.event);
        let at = last_event.and_then(|e| e.to_batch.as_ref().map(|b| b.to_string()));
        if current != at {
            report.lost.insert(format!(
                "{path}: the pointer is at {current:?}, its last event moved it to {at:?}"
            ));
        }
        if let Some(a) = last_ack {
            match last_event {
                Some(e) if e.id >= a.event => {}
                _ => {
                    report.lost.insert(format!(
                        "{path}: the pointer is at {current:?}, behind the acknowledged {} (batch {})",
                        a.key, a.batch
                    ));
                }
            }
        }
    }
    check_rollbacks(api, writers, report).await;
    check_pins(api, writers, &moves, ledger, report).await;
}

/// Who had a key: acknowledged it (the ack), had it in flight at the last
/// kill, or was refused.
struct Keys<'a> {
    acked: HashMap<&'a str, &'a Ack>,
    pending: HashSet<&'a str>,
    failed: HashSet<&'a str>,
}

impl<'a> Keys<'a> {
    fn of(writers: &'a [Writer], kind: Kind) -> Self {
        let mut k = Keys {
            acked: HashMap::new(),
            pending: HashSet::new(),
            failed: HashSet::new(),
        };
        for w in writers {
            for a in w.acks.iter().filter(|a| a.kind == kind) {
                k.acked.insert(a.key.as_str(), a);
            }
            if let Some(op) = &w.pending {
                k.pending.insert(op.key.as_str());
            }
            k.failed.extend(w.failed.iter().map(String::as_str));
        }
        k
    }

    /// Why a change in the catalog that nobody acknowledged is there, if
    /// it should not be.
    fn unexplained(&self, key: &str) -> Option<&'static str> {
        if self.acked.contains_key(key) || self.pending.contains(key) {
            None
        } else if self.failed.contains(key) {
            Some("was refused to its writer")
        } else {
            Some("was never sent")
        }
    }
}

/// Every acknowledged rollback has exactly its event; every rollback event
/// was acknowledged or in flight.
async fn check_rollbacks(api: &Api, writers: &[Writer], report: &mut Report) {
    let events = api.events(Action::Rollback).await;
    report.rollback_events = events.len();
    let keys = Keys::of(writers, Kind::Rollback);
    let mut by_key: HashMap<&str, Vec<&Event>> = HashMap::new();
    for e in &events {
        match e.message.as_deref() {
            Some(k) => by_key.entry(k).or_default().push(e),
            None => {
                report
                    .unexplained
                    .insert(format!("rollback event {} without a message", e.id));
            }
        }
    }
    for a in keys.acked.values() {
        match by_key.get(a.key.as_str()).map(Vec::as_slice) {
            Some([e])
                if e.id == a.event
                    && e.to_batch.as_ref().map(|b| b.to_string()).as_deref()
                        == Some(a.batch.as_str())
                    && e.partition.as_deref() == Some(a.partition.as_str()) => {}
            other => {
                report.lost.insert(format!(
                    "rollback {} acknowledged (to batch {}, event {}), trail has {:?}",
                    a.key,
                    a.batch,
                    a.event,
                    other.map(|evs| evs.iter().map(|e| e.id).collect::<Vec<_>>())
                ));
            }
        }
    }
    for (key, evs) in &by_key {
        if evs.len() > 1 {
            report
                .duplicates
                .insert(format!("rollback {key} has {} events", evs.len()));
        }
        if let Some(why) = keys.unexplained(key) {
            report.unexplained.insert(format!(
                "rollback {key} (event {}) is in the trail but {why}",
                evs[0].id
            ));
        }
    }
}

/// Every acknowledged pin exists as acknowledged; every pin was
/// acknowledged or in flight; a pin and its `create_pin` event exist
/// together; each pin holds what it was created on (checked once per pin):
/// a batch pin its batch (and that batch lists it among its holders), an
/// as-of pin every partition's batch at that time by the trail.
async fn check_pins(
    api: &Api,
    writers: &[Writer],
    moves: &[Event],
    ledger: &mut Ledger,
    report: &mut Report,
) {
    let pins = api.pins().await;
    report.pins = pins.len();
    let keys = Keys::of(writers, Kind::Pin);
    let events = api.events(Action::CreatePin).await;
    let mut event_of: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let name = e
            .details
            .as_ref()
            .and_then(|d| d.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        *event_of.entry(name).or_default() += 1;
    }
    let by_name: HashMap<&str, &Pin> = pins.iter().map(|p| (p.name.as_str(), p)).collect();
    for (name, n) in &event_of {
        if !by_name.contains_key(name.as_str()) {
            report
                .half_done
                .insert(format!("pin {name}: {n} create_pin events, no pin"));
        }
    }
    for a in keys.acked.values() {
        match by_name.get(a.key.as_str()) {
            Some(p) if Some(*p) == a.pin.as_deref() => {}
            other => {
                report.lost.insert(format!(
                    "pin {} acknowledged as {:?}, the catalog has {other:?}",
                    a.key, a.pin
                ));
            }
        }
    }
    for p in &pins {
        let name = p.name.as_str();
        if let Some(why) = keys.unexplained(name) {
            report
                .unexplained
                .insert(format!("pin {name} exists but {why}"));
        }
        match event_of.get(name) {
            Some(1) => {}
            n => {
                report.half_done.insert(format!(
                    "pin {name} has {} create_pin events",
                    n.copied().unwrap_or(0)
                ));
            }
        }
        if !ledger.pins_checked.insert(name.to_owned()) {
            continue;
        }
        let held = api.resolve_pin(name).await;
        let want: Vec<(String, String)> = match &p.target {
            PinTarget::Batch { partition, batch } => {
                let holders = api.pins_holding(&batch.to_string()).await;
                if !holders.iter().any(|h| h.name == p.name) {
                    report.half_done.insert(format!(
                        "pin {name} is not among the holders of its batch {batch}"
                    ));
                }
                vec![(partition.path(), batch.to_string())]
            }
            PinTarget::AsOf { at } => (0..PARTITIONS)
                .filter_map(|i| {
                    let path = part(i);
                    moves
                        .iter()
                        .rfind(|e| e.partition.as_deref() == Some(path.as_str()) && e.at <= *at)
                        .and_then(|e| e.to_batch.as_ref())
                        .map(|b| (path, b.to_string()))
                })
                .collect(),
        };
        let mut held_sorted = held.clone();
        held_sorted.sort();
        if held_sorted != want {
            report.half_done.insert(format!(
                "pin {name} ({:?}) holds {held:?}, the trail says {want:?}",
                p.target
            ));
        }
    }
}

/// The SIGKILL loop on one catalog; returns what it found (the caller
/// asserts).
async fn crash_loop(place: &Place, cfg: &LoopConfig) -> Report {
    let started = Instant::now();
    let mut report = Report {
        seed: cfg.seed,
        ..Report::default()
    };
    eprintln!(
        "crash loop: seed {} (set BATCHMETA_CRASH_SEED={} to replay), {} rounds, workload {:?}, faults {:?}",
        cfg.seed, cfg.seed, cfg.rounds, cfg.workload, cfg.faults
    );
    let mut rng = Rng::new(cfg.seed);
    let http = http_client();
    let mut ledger = Ledger::default();
    let mut writers: Vec<Writer> = (0..WRITERS)
        .map(|i| {
            let mut w = Writer::new(i, rng.next());
            w.workload = cfg.workload;
            w
        })
        .collect();
    let mut counted_committed: HashSet<String> = HashSet::new();
    let mut killed_at: Option<Instant> = None;
    for round in 0..=cfg.rounds {
        let last = round == cfg.rounds;
        let server = serve(place, if last { "" } else { cfg.faults });
        if let Some(k) = killed_at.take() {
            report.restarts.push(k.elapsed());
        }
        let api = Api::new(&http, &server);
        if round == 0 {
            api.setup().await;
        }
        check(&api, &writers, &mut ledger, &mut report).await;
        // Requests in flight at the kill that had committed before it.
        let mut done_keys: HashSet<String> = api
            .publish_events()
            .await
            .iter()
            .filter_map(|e| e.to_batch.as_ref())
            .filter_map(|b| ledger.key_of.get(&b.to_string()).cloned().flatten())
            .collect();
        if cfg.workload == Workload::Rollback {
            done_keys.extend(
                api.events(Action::Rollback)
                    .await
                    .into_iter()
                    .filter_map(|e| e.message),
            );
        }
        if cfg.workload == Workload::Pin {
            done_keys.extend(api.pins().await.into_iter().map(|p| p.name.to_string()));
        }
        for w in &writers {
            if let Some(op) = &w.pending {
                let committed = done_keys.contains(&op.key);
                if committed && counted_committed.insert(op.key.clone()) {
                    report.committed_before_retry += 1;
                    match op.kind {
                        Kind::Rollback => report.committed_rollbacks_before_retry += 1,
                        Kind::Pin => report.committed_pins_before_retry += 1,
                        Kind::Store | Kind::StagePublish => {}
                    }
                }
            }
        }
        report
            .verify_violations
            .extend(meta_verify(place).iter().map(|v| v.to_string()));
        report.verify_runs += 1;
        let kill_signal = Arc::new(tokio::sync::Notify::new());
        for w in &mut writers {
            w.kill_on = cfg.kill_on_ack.map(|k| (k, kill_signal.clone()));
        }
        let tasks: Vec<_> = writers
            .drain(..)
            .map(|w| tokio::spawn(w.round(api.clone(), last)))
            .collect();
        let mut server = server;
        if last {
            for t in tasks {
                writers.push(t.await.unwrap());
            }
            // Nothing is in flight now: every publish must be acknowledged.
            assert!(writers.iter().all(|w| w.pending.is_none()));
            check(&api, &writers, &mut ledger, &mut report).await;
            report
                .verify_violations
                .extend(meta_verify(place).iter().map(|v| v.to_string()));
            report.verify_runs += 1;
        } else {
            let wait = 100 + rng.below(cfg.max_run_ms.saturating_sub(100).max(1));
            if cfg.kill_on_ack.is_some() {
                let _ = tokio::time::timeout(Duration::from_secs(10), kill_signal.notified()).await;
            } else {
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            server.kill();
            killed_at = Some(Instant::now());
            report.kills += 1;
            for t in tasks {
                writers.push(t.await.unwrap());
            }
            report.rounds += 1;
        }
        drop(server);
    }
    for w in &writers {
        report.acknowledged += w.acks.len();
        report.acknowledged_rollbacks += w.acks.iter().filter(|a| a.kind == Kind::Rollback).count();
        report.acknowledged_pins += w.acks.iter().filter(|a| a.kind == Kind::Pin).count();
        report.acknowledged_after_retry += w.acked_after_retry;
        report.retried += w.retried;
        report.conflicts += w.conflicts;
        report.idempotency_mismatches.extend(w.mismatches.clone());
        report.unexpected_errors.extend(w.errors.clone());
    }
    report.elapsed = started.elapsed();
    eprintln!(
        "crash loop (workload {:?}, faults {:?}): {}",
        cfg.workload,
        cfg.faults,
        report.summary()
    );
    report
}

fn assert_clean(r: &Report) {
    assert_eq!(r.failures(), 0, "{}", r.summary());
    assert!(
        r.unexpected_errors.is_empty(),
        "requests refused unexpectedly: {}",
        r.summary()
    );
    assert_eq!(r.kills, r.rounds);
    assert!(r.acknowledged > 0, "nothing was published: {}", r.summary());
    assert!(
        r.retried > 0,
        "no request was ever cut off by a kill: {}",
        r.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loop_sqlite() {
    let place = Place::sqlite();
    let cfg = LoopConfig {
        rounds: rounds(50),
        faults: "",
        seed: seed(),
        max_run_ms: 1200,
        workload: Workload::Publish,
        kill_on_ack: None,
    };
    let r = crash_loop(&place, &cfg).await;
    assert_clean(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loop_postgres() {
    let Some(pg) = service(POSTGRES_URL) else {
        return;
    };
    let place = Place::postgres(&pg).await;
    let cfg = LoopConfig {
        rounds: rounds(50).min(12),
        faults: "",
        seed: seed(),
        max_run_ms: 1200,
        workload: Workload::Publish,
        kill_on_ack: None,
    };
    let r = crash_loop(&place, &cfg).await;
    assert_clean(&r);
}

/// The negative control: a server that answers before it commits loses
/// acknowledged publishes when it is killed, and the loop must say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_ack_before_commit_is_caught() {
    let place = Place::sqlite();
    let cfg = LoopConfig {
        rounds: 8,
        faults: "ack_before_commit",
        seed: seed(),
        max_run_ms: 1000,
        workload: Workload::Publish,
        kill_on_ack: None,
    };
    let r = crash_loop(&place, &cfg).await;
    assert!(
        !r.lost.is_empty(),
        "the loop did not notice acknowledged publishes being lost: {}",
        r.summary()
    );
}

// ---------------------------------------------------------------------------
// Rollbacks and pins under SIGKILL (issue 15)
// ---------------------------------------------------------------------------

fn other_config(workload: Workload, rounds: usize) -> LoopConfig {
    LoopConfig {
        rounds,
        faults: "",
        seed: seed(),
        max_run_ms: 600,
        workload,
        kill_on_ack: None,
    }
}

fn assert_clean_with(r: &Report, workload: Workload) {
    assert_clean(r);
    match workload {
        Workload::Rollback => assert!(
            r.acknowledged_rollbacks > 0,
            "no rollback was acknowledged: {}",
            r.summary()
        ),
        Workload::Pin => assert!(
            r.acknowledged_pins > 0,
            "no pin was acknowledged: {}",
            r.summary()
        ),
        Workload::Publish => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_rollback_loop_sqlite() {
    let r = crash_loop(
        &Place::sqlite(),
        &other_config(Workload::Rollback, rounds(20)),
    )
    .await;
    assert_clean_with(&r, Workload::Rollback);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_pin_loop_sqlite() {
    let r = crash_loop(&Place::sqlite(), &other_config(Workload::Pin, rounds(20))).await;
    assert_clean_with(&r, Workload::Pin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_rollback_loop_postgres() {
    let Some(pg) = service(POSTGRES_URL) else {
        return;
    };
    let place = Place::postgres(&pg).await;
    let r = crash_loop(&place, &other_config(Workload::Rollback, rounds(20).min(8))).await;
    assert_clean_with(&r, Workload::Rollback);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_pin_loop_postgres() {
    let Some(pg) = service(POSTGRES_URL) else {
        return;
    };
    let place = Place::postgres(&pg).await;
    let r = crash_loop(&place, &other_config(Workload::Pin, rounds(20).min(8))).await;
    assert_clean_with(&r, Workload::Pin);
}

/// The negative controls of the two loops above: `ack_before_commit` also
/// answers rollbacks and pin creations before committing them, and the
/// loop kills the server right after such an answer (so the window is hit
/// every round): the checks must report acknowledged rollbacks (pins) lost.
async fn negative_control_other(place: &Place, workload: Workload, kind: Kind, what: &str) {
    let mut cfg = other_config(workload, 5);
    cfg.faults = "ack_before_commit";
    cfg.kill_on_ack = Some(kind);
    let r = crash_loop(place, &cfg).await;
    eprintln!(
        "negative control ({what}): {} of {} rounds lost an acknowledged {what}",
        r.lost_of(what),
        r.rounds
    );
    assert!(
        r.lost_of(what) > 0,
        "the loop did not notice acknowledged {what}s being lost: {}",
        r.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_rollback_ack_before_commit_is_caught() {
    let place = Place::sqlite();
    negative_control_other(&place, Workload::Rollback, Kind::Rollback, "rollback").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_pin_ack_before_commit_is_caught() {
    negative_control_other(&Place::sqlite(), Workload::Pin, Kind::Pin, "pin").await;
}

/// The same on PostgreSQL, whose rollback and pin transactions have their
/// own `ack_before_commit` paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_rollback_and_pin_ack_before_commit_are_caught_postgres() {
    let Some(pg) = service(POSTGRES_URL) else {
        return;
    };
    let place = Place::postgres(&pg).await;
    negative_control_other(&place, Workload::Rollback, Kind::Rollback, "rollback").await;
    let place = Place::postgres(&pg).await;
    negative_control_other(&place, Workload::Pin, Kind::Pin, "pin").await;
}

// ---------------------------------------------------------------------------
// Failpoints: one per step of a publish
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    AfterDataWritten,
    BeforeCommit,
    AfterCommit,
}

impl Point {
    fn fault(self) -> &'static str {
        match self {
            Point::AfterDataWritten => "crash_after_data_written",
            Point::BeforeCommit => "crash_before_commit",
            Point::AfterCommit => "crash_after_commit",
        }
    }
}

fn stored_batch(s: &Stored) -> (String, String, i64) {
    (
        s.batch.id.to_string(),
        s.commit.commit_id.clone(),
        s.commit.events[0].id,
    )
}

fn committed(c: &Commit) -> (String, i64) {
    (c.commit_id.clone(), c.events[0].id)
}

/// The one batch of partition `p` staged with `key`.
async fn batch_with_key(api: &Api, p: usize, key: &str) -> Batch {
    let mut found: Vec<Batch> = api
        .batches(p)
        .await
        .into_iter()
        .filter(|b| b.idempotency_key.as_deref() == Some(key))
        .collect();
    assert_eq!(found.len(), 1, "batches of p={p} with key {key}: {found:?}");
    found.remove(0)
}

/// Crash one store (p=0) and one stage + upload + publish (p=1) at `point`,
/// restart, check what is left, retry both with the same key, check again.
async fn failpoint(place: &Place, point: Point) {
    let http = http_client();
    let data = |seq| frame(9, seq, 5);
    // Before: each partition has a first batch (so the pointers have
    // somewhere to be).
    let (base0, base1) = {
        let server = serve(place, "");
        let api = Api::new(&http, &server);
        api.setup().await;
        let s0 = Api::must(
            api.store(0, "base-0", None, parquet_bytes(&data(0))).await,
            "store",
        );
        let s1 = Api::must(
            api.store(1, "base-1", None, parquet_bytes(&data(1))).await,
            "store",
        );
        (s0.batch.id.to_string(), s1.batch.id.to_string())
    };
    let e0 = Some(Some(base0.clone()));
    let e1 = Some(Some(base1.clone()));

    // The crashes.
    {
        let mut server = serve(place, point.fault());
        let api = Api::new(&http, &server);
        let r = api
            .store(0, "k-store", e0.as_ref(), parquet_bytes(&data(2)))
            .await;
        assert!(
            matches!(r, Outcome::Unknown(_)),
            "{point:?}: store answered {r:?}"
        );
        expect_abort(&mut server);
    }
    let staged_wap = {
        let mut server = serve(place, point.fault());
        let api = Api::new(&http, &server);
        let b = Api::must(api.stage(1, "k-wap").await, "stage").remove(0);
        let up = api.upload(&b.id.to_string(), ipc_bytes(&data(3))).await;
        if point == Point::AfterDataWritten {
            assert!(
                matches!(up, Outcome::Unknown(_)),
                "{point:?}: upload answered {up:?}"
            );
        } else {
            Api::must(up, "upload");
            let r = api.publish(1, &b.id.to_string(), e1.as_ref()).await;
            assert!(
                matches!(r, Outcome::Unknown(_)),
                "{point:?}: publish answered {r:?}"
            );
        }
        expect_abort(&mut server);
        b.id.to_string()
    };

    // What the crashes left.
    let server = serve(place, "");
    let api = Api::new(&http, &server);
    let k_store = batch_with_key(&api, 0, "k-store").await;
    let k_wap = batch_with_key(&api, 1, "k-wap").await;
    assert_eq!(k_wap.id.to_string(), staged_wap);
    let events = api.publish_events().await;
    let cur0 = Api::must(api.current(0).await, "resolve");
    let cur1 = Api::must(api.current(1).await, "resolve");
    let before_retry: Option<[(String, i64); 2]> = match point {
        Point::AfterDataWritten | Point::BeforeCommit => {
            // Only an unpublished staged batch: no pointer moved, no event.
            assert_eq!(k_store.state, BatchState::Staged, "{k_store:?}");
            assert_eq!(k_wap.state, BatchState::Staged, "{k_wap:?}");
            // Before the commit the files are recorded; before recording
            // them, nothing is.
            let recorded = point == Point::BeforeCommit;
            assert_eq!(!k_store.files.is_empty(), recorded, "{k_store:?}");
            assert_eq!(!k_wap.files.is_empty(), recorded, "{k_wap:?}");
            assert_eq!(events.len(), 2, "{events:#?}");
            assert_eq!(cur0.as_deref(), Some(base0.as_str()));
            assert_eq!(cur1.as_deref(), Some(base1.as_str()));
            assert_eq!(api.batches(0).await.len(), 2);
            assert_eq!(api.batches(1).await.len(), 2);
            None
        }
        Point::AfterCommit => {
            assert_eq!(k_store.state, BatchState::Committed, "{k_store:?}");
            assert_eq!(k_wap.state, BatchState::Committed, "{k_wap:?}");
            assert_eq!(events.len(), 4, "{events:#?}");
            assert_eq!(cur0, Some(k_store.id.to_string()));
            assert_eq!(cur1, Some(k_wap.id.to_string()));
            let of = |b: &Batch| {
                let e = events
                    .iter()
                    .find(|e| e.to_batch.as_ref() == Some(&b.id))
                    .unwrap();
                (e.commit_id.clone().unwrap(), e.id)
            };
            Some([of(&k_store), of(&k_wap)])
        }
    };
    assert!(meta_verify(place).is_empty());

    // The retries, each twice: the same answer both times.
    let mut store_results = Vec::new();
    let mut wap_results = Vec::new();
    for _ in 0..2 {
        let s = Api::must(
            api.store(0, "k-store", e0.as_ref(), parquet_bytes(&data(2)))
                .await,
            "store retry",
        );
        assert_eq!(s.batch.id, k_store.id, "the retry used the staged batch");
        store_results.push(stored_batch(&s));
        let b = Api::must(api.stage(1, "k-wap").await, "stage retry").remove(0);
        assert_eq!(b.id, k_wap.id, "the same key stages the same batch");
        if b.state == BatchState::Staged && b.files.is_empty() {
            Api::must(
                api.upload(&b.id.to_string(), ipc_bytes(&data(3))).await,
                "upload retry",
            );
        }
        let c = Api::must(
            api.publish(1, &b.id.to_string(), e1.as_ref()).await,
            "publish retry",
        );
        wap_results.push(committed(&c));
    }
    assert_eq!(store_results[0], store_results[1]);
    assert_eq!(wap_results[0], wap_results[1]);
    if let Some([s, w]) = &before_retry {
        // After the commit: the original result, no second event.
        assert_eq!(
            (store_results[0].1.clone(), store_results[0].2),
            s.clone(),
            "the retried store returns the original commit"
        );
        assert_eq!(
            &wap_results[0], w,
            "the retried publish returns the original commit"
        );
    }
    let events = api.publish_events().await;
    assert_eq!(events.len(), 4, "one event per batch: {events:#?}");
    for b in [&k_store, &k_wap] {
        assert_eq!(
            events
                .iter()
                .filter(|e| e.to_batch.as_ref() == Some(&b.id))
                .count(),
            1
        );
    }
    let published = api.batch(&k_store.id.to_string()).await;
    assert_eq!(published.state, BatchState::Committed);
    assert_eq!(published.rows, 5);
    assert_eq!(published.parent.map(|b| b.to_string()), Some(base0.clone()));
    let published = api.batch(&k_wap.id.to_string()).await;
    assert_eq!(published.state, BatchState::Committed);
    assert_eq!(published.rows, 5);
    assert_eq!(
        Api::must(api.current(0).await, "resolve"),
        Some(k_store.id.to_string())
    );
    assert_eq!(
        Api::must(api.current(1).await, "resolve"),
        Some(k_wap.id.to_string())
    );
    drop(server);
    let violations = meta_verify(place);
    assert!(violations.is_empty(), "{violations:#?}");
    eprintln!("failpoint {}: ok", point.fault());
}

async fn failpoint_everywhere(point: Point) {
    failpoint(&Place::sqlite(), point).await;
    if let Some(pg) = service(POSTGRES_URL) {
        failpoint(&Place::postgres(&pg).await, point).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_data_written_leaves_a_staged_batch_and_a_retry_publishes_once() {
    failpoint_everywhere(Point::AfterDataWritten).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_before_commit_leaves_a_staged_batch_and_a_retry_publishes_once() {
    failpoint_everywhere(Point::BeforeCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_commit_a_retry_returns_the_original_result() {
    failpoint_everywhere(Point::AfterCommit).await;
}

/// The trail and pointers checks are not vacuous: a publish the writers
/// never sent is reported (a quick self-test of `check`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_a_publish_nobody_sent() {
    let place = Place::sqlite();
    let http = http_client();
    let server = serve(&place, "");
    let api = Api::new(&http, &server);
    api.setup().await;
    let mut writers = vec![Writer::new(0, 1)];
    let mut ledger = Ledger::default();
    // An acknowledged publish, then one behind the writers' backs.
    let op = Op {
        writer: 0,
        seq: 1,
        kind: Kind::Store,
        key: "w0-1".into(),
        partition: 0,
        expect: None,
        rows: 3,
        batch: None,
        pin: None,
    };
    assert!(writers[0].settle(&api, op, false).await);
    Api::must(
        api.store(0, "intruder", None, parquet_bytes(&frame(7, 7, 2)))
            .await,
        "store",
    );
    let mut report = Report::default();
    check(&api, &writers, &mut ledger, &mut report).await;
    assert_eq!(report.lost.len(), 0, "{}", report.summary());
    assert_eq!(report.unexplained.len(), 1, "{}", report.summary());
    // And an acknowledged publish that is not in the trail is lost.
    writers[0].acks.push(Ack {
        kind: Kind::Store,
        key: "w0-999".into(),
        partition: part(1),
        batch: "20990101000000000000".into(),
        commit_id: "nope".into(),
        event: 10_000,
        at: None,
        pin: None,
    });
    let mut report = Report::default();
    check(&api, &writers, &mut ledger, &mut report).await;
    assert_eq!(
        report.lost.len(),
        2,
        "missing and behind: {}",
        report.summary()
    );
}
