//! Faults around `meta serve` (issue 15): the database, the object store or
//! the disk goes away under load. Each case runs one `meta serve` (never
//! restarted), breaks a dependency from outside, mends it, and checks:
//! every acknowledged publish is present and readable afterwards, `verify`
//! is clean, clients saw only the statuses and codes that say "retry"
//! (never a 500, never a hang), and the server serves again by itself. Each
//! case prints what clients saw, the time to the first error and the time to
//! recover (measured, not asserted: the machine is shared).
//!
//! - `postgres_outage_under_load`: PostgreSQL stopped (`pg_ctl stop -m
//!   immediate`) for ~10 s under 4 writers and 2 readers, then started.
//! - `postgres_restart_during_a_big_publish`: PostgreSQL restarted while a
//!   `partition_by` write of 3,000 partitions commits: all or nothing.
//! - `moto_killed_during_a_large_upload`: the S3 server killed during an
//!   upload, then started again (moto keeps its state in memory: the bucket
//!   is created again, so this proves the server's S3 client reconnects and
//!   that the failed upload published nothing, not that data survives).
//! - `disk_full`: the catalog and the warehouse on an 24 MiB tmpfs filled to
//!   ENOSPC: 507, nothing half-published, and writes work again once space
//!   is freed.
//! - `catalog_made_read_only`: the file system under the SQLite catalog
//!   turns read-only while serving (ext4 on a loop device, `remount,abort`,
//!   as `errors=remount-ro` does on an I/O error): 503 naming the path, reads
//!   go on; the kernel keeps such a file system read-only until it is
//!   unmounted, so recovery here is a remount and a restart, after which
//!   every acknowledged publish is there.
//! - During the outage a `meta --url <server> ns ls` rides it out on the
//!   client's 503 retries; an embedded `meta` against a PostgreSQL that is
//!   down exits 2 and says what to check.
//! - Negative control (`negative_control_unavailable_as_success`): the
//!   outage case against a server that answers `database_unavailable` with
//!   an empty 200 (`BATCHMETA_FAULTS=unavailable_as_success`) must report
//!   lost acknowledged publishes.
//!
//! The PostgreSQL cases need scripts/with-services (its fault cluster,
//! `BATCHMETA_TEST_FAULT_POSTGRES_*`); the tmpfs and read-only cases need
//! root (mount). Without them a case says SKIP and passes. The cases run one
//! at a time: they share the fault cluster and the machine's disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};

use common::servers::{MetaServe, Served, free_port};
use common::services::{fresh_database, var};

const NS: &str = "faults";
const TABLE: &str = "t";
/// A request that takes longer than this has hung (the server's own bounds
/// are a few seconds).
const HUNG: Duration = Duration::from_secs(20);

/// The cases run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

// ---------------------------------------------------------------------------
// The services the cases break
// ---------------------------------------------------------------------------

/// The fault cluster of scripts/with-services, which only this file uses.
struct Postgres {
    url: String,
    data: String,
    bindir: String,
}

impl Postgres {
    fn from_env() -> Option<Self> {
        let pg = Postgres {
            url: var("BATCHMETA_TEST_FAULT_POSTGRES_URL")?,
            data: var("BATCHMETA_TEST_FAULT_POSTGRES_DATA")?,
            bindir: var("BATCHMETA_TEST_PG_BINDIR")?,
        };
        Some(pg)
    }

    fn from_env_or_skip() -> Option<Self> {
        let pg = Self::from_env();
        if pg.is_none() {
            eprintln!("SKIP: the fault cluster is not set; run via scripts/with-services");
        }
        pg
    }

    fn pg_ctl(&self, args: &[&str]) {
        let ctl = format!("{}/pg_ctl", self.bindir);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", &ctl]);
            c
        } else {
            Command::new(&ctl)
        };
        let out = cmd
            .args(["-D", &self.data, "-w", "-t", "60"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server as a crash would (no checkpoint, connections cut).
    fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }

    fn start(&self) {
        let log = format!("{}.log", self.data);
        self.pg_ctl(&["-l", &log, "start"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A tmpfs (or a read-only bind mount) that is unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Option<Self> {
        let ok = is_root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(at)
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIP: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }

    /// A fresh ext4 file system of `size` in `image`, mounted at `at`
    /// through a loop device: unlike a tmpfs it can be turned read-only
    /// under open files ([`Mount::abort`]).
    fn ext4(image: &Path, at: &Path, size: &str) -> Option<Self> {
        let run = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
        let ok = is_root()
            && run(Command::new("truncate").args(["-s", size]).arg(image))
            && run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(image))
            && run(Command::new("mount")
                .args(["-o", "loop"])
                .arg(image)
                .arg(at));
        if !ok {
            eprintln!(
                "SKIP: cannot make and mount an ext4 loop file system here (needs root and mkfs.ext4)"
            );
            return None;
        }
        Some(Mount(at.to_path_buf()))
    }

    /// What ext4 does on an I/O error with `errors=remount-ro`: the file
    /// system turns read-only at once, open files included, until it is
    /// unmounted.
    fn abort(&self) {
        let st = Command::new("mount")
            .args(["-o", "remount,abort"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success(), "remount,abort");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A `meta serve` on a free loopback port, with short database timeouts.
fn serve(dir: &Path, database_url: &str, warehouse: &str, envs: &[(&str, &str)]) -> Served {
    envs.iter()
        .fold(MetaServe::new(dir), |s, (k, v)| s.env(k, v))
        .catalog(database_url, warehouse)
        .args([
            "--db-acquire-timeout-secs",
            "2",
            "--db-connect-timeout-secs",
            "2",
        ])
        .start()
}

/// The server's last log lines that report a failure.
fn failures(server: &Served) -> String {
    let log = server.log();
    let bad: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    bad.iter()
        .rev()
        .take(5)
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The same process is still serving (the harness never restarts it).
fn assert_alive(server: &mut Served) {
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "meta serve exited during the fault"
    );
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

fn parquet(writer: i64, seq: i64, rows: usize) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("writer", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
    ]));
    // Incompressible values, so that `rows` says how many bytes land on disk.
    let seqs: Vec<i64> = (0..rows as i64)
        .map(|i| seq ^ (i.wrapping_mul(0x9E37_79B9_7F4A_7C15u64 as i64)))
        .collect();
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![writer; rows])),
            Arc::new(Int64Array::from(seqs)),
        ],
    )
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, Some(props)).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    buf
}

/// What one request got.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    /// HTTP status, or 0 when the request failed or hung.
    status: u16,
    code: String,
    took: Duration,
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Api {
    fn new(base: &str) -> Self {
        Api {
            http: reqwest::Client::builder().timeout(HUNG).build().unwrap(),
            base: base.to_owned(),
            log: Arc::default(),
        }
    }

    fn table_url(&self, rest: &str) -> String {
        format!("{}/v1/namespaces/{NS}/tables/{TABLE}{rest}", self.base)
    }

    /// Sends, logs what came back, and returns the status and the body.
    async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let t = Instant::now();
        let (status, body) = match rb.send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.json::<Value>().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        };
        let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
        self.log.lock().unwrap().push(Seen {
            at: t,
            status,
            code,
            took: t.elapsed(),
        });
        (status, body)
    }

    async fn setup(&self) {
        let (s, b) = self
            .send(
                self.http
                    .post(format!("{}/v1/namespaces", self.base))
                    .json(&json!({"name": NS})),
            )
            .await;
        assert!(s == 201 || s == 200 || s == 409, "{s} {b}");
        let (s, b) = self
            .send(
                self.http
                    .post(format!("{}/v1/namespaces/{NS}/tables", self.base))
                    .json(&json!({
                        "name": TABLE,
                        "columns": [
                            {"name": "writer", "type": "int64", "nullable": false},
                            {"name": "seq", "type": "int64", "nullable": false},
                        ],
                        "partition_keys": [{"name": "p", "type": "int"}],
                    })),
            )
            .await;
        assert!(s == 201 || s == 200 || s == 409, "{s} {b}");
        self.log.lock().unwrap().clear();
    }

    async fn store(&self, partition: &str, key: &str, body: Vec<u8>) -> (u16, Value) {
        self.send(
            self.http
                .post(self.table_url("/store"))
                .query(&[("partition", partition), ("idempotency_key", key)])
                .header("content-type", "application/vnd.apache.parquet")
                .body(body),
        )
        .await
    }

    async fn read(&self, partition: &str) -> (u16, Value) {
        self.send(
            self.http
                .get(self.table_url("/partitions"))
                .query(&[("prefix", partition)]),
        )
        .await
    }

    async fn ready(&self) -> (u16, Duration) {
        let t = Instant::now();
        let s = self
            .http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        (s, t.elapsed())
    }

    /// Batch ID → idempotency key of the partition's committed batches.
    async fn committed(&self, partition: &str) -> BTreeMap<String, String> {
        let (s, b) = self
            .send(
                self.http
                    .get(self.table_url("/batches"))
                    .query(&[("partition", partition)]),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b.as_array()
            .unwrap()
            .iter()
            .filter(|x| x["state"] == "committed")
            .map(|x| {
                (
                    x["id"].as_str().unwrap().to_owned(),
                    x["idempotency_key"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    async fn current(&self, partition: &str) -> Option<String> {
        let (s, b) = self.read(partition).await;
        assert_eq!(s, 200, "{b}");
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partition"] == partition)
            .and_then(|p| p["current_batch"].as_str())
            .map(str::to_owned)
    }

    async fn verify(&self) -> Value {
        let (s, b) = self
            .send(self.http.post(format!("{}/v1/verify", self.base)))
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }

    /// Retries until the server answers 2xx again (bounded).
    async fn until_ok(&self, what: &str, mut f: impl AsyncFnMut() -> u16) -> Duration {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if (200..300).contains(&f().await) {
                return t.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: the server did not recover within 60 s");
    }
}

/// What the clients saw, by status and code.
fn tally(log: &[Seen]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in log {
        let key = match s.status {
            0 => "hung or connection failed".to_owned(),
            st if s.code.is_empty() => st.to_string(),
            st => format!("{st} {}", s.code),
        };
        *out.entry(key).or_default() += 1;
    }
    out
}

// ---------------------------------------------------------------------------
// PostgreSQL stopped under load
// ---------------------------------------------------------------------------

const WRITERS: usize = 4;
const READERS: usize = 2;

/// A writer, the idempotency key and the batch it was told was published.
type Acked = (usize, String, Option<String>);

#[derive(Debug)]
struct OutageReport {
    acknowledged: usize,
    /// Acknowledged keys with no committed batch, or whose batch is not the one acknowledged.
    lost: Vec<String>,
    seen: BTreeMap<String, usize>,
    /// Answers other than 2xx or the retryable 503s and 507s.
    wrong: Vec<String>,
    first_error_after: Option<Duration>,
    recovered_after: Duration,
    slowest_during_outage: Duration,
    ready_during_outage: (u16, Duration),
    violations: usize,
    /// `meta --url <server> ns ls` started 1 s into the outage: the client
    /// retries the 503s until the database is back (exit status, stdout).
    cli_during_outage: (Option<i32>, String),
}

impl OutageReport {
    /// One line per measurement, for the log and docs/faults.md.
    fn summary(&self) -> String {
        format!(
            "acknowledged {} publishes, lost {}; clients saw {:?}; first error {:?} after the stop; slowest answer during the outage {:?}; /readyz during the outage {} in {:?}; writes recovered {:?} after the start; verify: {} violations; the CLI started during the outage exited {:?}",
            self.acknowledged,
            self.lost.len(),
            self.seen,
            self.first_error_after,
            self.slowest_during_outage,
            self.ready_during_outage.0,
            self.ready_during_outage.1,
            self.recovered_after,
            self.violations,
            self.cli_during_outage.0
        )
    }

    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if !self.lost.is_empty() {
            problems.push(format!(
                "{} acknowledged publishes lost: {:?}",
                self.lost.len(),
                self.lost
            ));
        }
        if !self.wrong.is_empty() {
            problems.push(format!(
                "answers that are not a retryable 503: {:?}",
                self.wrong
            ));
        }
        if self.first_error_after.is_none() {
            problems.push("no client saw the outage (did the fault fire?)".to_owned());
        }
        if self.ready_during_outage.0 != 503 {
            problems.push(format!(
                "/readyz during the outage: {:?}",
                self.ready_during_outage
            ));
        }
        if self.violations > 0 {
            problems.push(format!("verify: {} violations", self.violations));
        }
        if self.cli_during_outage.0 != Some(0) || !self.cli_during_outage.1.contains(NS) {
            problems.push(format!(
                "the CLI started during the outage did not ride it out: {:?}",
                self.cli_during_outage
            ));
        }
        if self.acknowledged == 0 {
            problems.push("nothing was acknowledged".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

async fn postgres_outage(faults: &str) -> Option<OutageReport> {
    let pg = Postgres::from_env_or_skip()?;
    let url = fresh_database(&pg.url).await;
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let mut server = serve(
        dir.path(),
        &url,
        wh.to_str().unwrap(),
        &[("BATCHMETA_FAULTS", faults)],
    );
    let api = Api::new(&server.base);
    api.setup().await;
    let stop = Arc::new(AtomicBool::new(false));
    // key → batch the writer was told was published.
    let acks: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (api, stop, acks) = (api.clone(), stop.clone(), acks.clone());
        tasks.push(tokio::spawn(async move {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("w{w}-{seq}");
                let body = parquet(w as i64, seq, 100);
                // A real client retries 503s with the same key until it gets an answer.
                loop {
                    let (s, b) = api.store(&format!("p={w}"), &key, body.clone()).await;
                    if (200..300).contains(&s) {
                        let batch = b["batch"]["id"].as_str().map(str::to_owned);
                        acks.lock().unwrap().push((w, key.clone(), batch));
                        break;
                    }
                    if s != 503 || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                seq += 1;
            }
        }));
    }
    for r in 0..READERS {
        let (api, stop) = (api.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                api.read(&format!("p={r}")).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopped = Instant::now();
    pg.stop();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cli = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args(["--url", &server.base, "ns", "ls"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready_during_outage = api.ready().await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    pg.start();
    let started = Instant::now();
    let recovered_after = api
        .until_ok("a store after PostgreSQL came back", async || {
            api.store(
                "p=99",
                &format!("probe-{}", uuid::Uuid::new_v4()),
                parquet(99, 0, 10),
            )
            .await
            .0
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert_alive(&mut server);
    let cli = tokio::task::spawn_blocking(move || cli.wait_with_output().unwrap())
        .await
        .unwrap();
    let cli_during_outage = (
        cli.status.code(),
        String::from_utf8_lossy(&cli.stdout).into_owned(),
    );

    let log = api.log.lock().unwrap().clone();
    let outage: Vec<&Seen> = log
        .iter()
        .filter(|s| s.at >= stopped && s.at <= started)
        .collect();
    let first_error_after = log
        .iter()
        .filter(|s| s.at + s.took >= stopped && !(200..300).contains(&s.status))
        .map(|s| (s.at + s.took).duration_since(stopped))
        .min();
    let slowest_during_outage = outage.iter().map(|s| s.took).max().unwrap_or_default();
    let wrong = log
        .iter()
        .filter(|s| {
            !((200..300).contains(&s.status)
                || (s.status == 503 && s.code == "database_unavailable"))
        })
        .map(|s| format!("{} {}", s.status, s.code))
        .collect();
    let acks = acks.lock().unwrap().clone();
    let mut lost = Vec::new();
    let mut committed = BTreeMap::new();
    for w in 0..WRITERS {
        committed.insert(w, api.committed(&format!("p={w}")).await);
    }
    for (w, key, batch) in &acks {
        let found = committed[w]
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(b, _)| b.clone());
        if found.is_none() || (batch.is_some() && found != *batch) {
            lost.push(key.clone());
        }
    }
    // Each writer's partition points at its last acknowledged publish.
    for w in 0..WRITERS {
        let last = acks.iter().rev().find(|(x, _, _)| *x == w);
        if let Some((_, key, Some(batch))) = last
            && api.current(&format!("p={w}")).await.as_deref() != Some(batch.as_str())
        {
            lost.push(format!("{key} (not current)"));
        }
    }
    let violations = api.verify().await["violations"].as_array().unwrap().len();
    Some(OutageReport {
        acknowledged: acks.len(),
        lost,
        seen: tally(&log),
        wrong,
        first_error_after,
        recovered_after,
        slowest_during_outage,
        ready_during_outage,
        violations,
        cli_during_outage,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_under_load() {
    let _one = one_at_a_time().await;
    let Some(r) = postgres_outage("").await else {
        return;
    };
    eprintln!("postgres outage: {}", r.summary());
    r.check().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_unavailable_as_success() {
    let _one = one_at_a_time().await;
    let Some(r) = postgres_outage("unavailable_as_success").await else {
        return;
    };
    eprintln!("negative control: {}", r.summary());
    let err = r
        .check()
        .expect_err("a server that answers an outage with 200 must be caught");
    assert!(err.contains("acknowledged publishes lost"), "{err}");
}

#[test]
fn the_cli_says_a_database_that_is_down_is_not_its_fault() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args(["--url", "postgres://nobody@127.0.0.1:1/db", "ns", "ls"])
        .args(["--warehouse", dir.path().join("wh").to_str().unwrap()])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot connect to PostgreSQL at"), "{err}");
    assert!(
        err.contains("hint: check that the catalog database runs"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// PostgreSQL restarted during a big publish
// ---------------------------------------------------------------------------

const BIG: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restart_during_a_big_publish() {
    use batchmeta::model::Context;
    use batchmeta::{Config, Metastore, StoreOptions};
    let _one = one_at_a_time().await;
    let Some(pg) = Postgres::from_env_or_skip() else {
        return;
    };
    let url = fresh_database(&pg.url).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_url: Some(url),
        warehouse: Some(dir.path().join("wh").to_str().unwrap().to_owned()),
        postgres: batchmeta::catalog::PostgresOptions {
            acquire_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        ..Config::default()
    };
    let ms = Metastore::open(&config).await.unwrap();
    let ctx = Context::new("faults");
    let schema = Arc::new(Schema::new(vec![
        Field::new("p", DataType::Int64, false),
        Field::new("round", DataType::Int64, false),
    ]));
    let frame = |round: i64| {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from((0..BIG as i64).collect::<Vec<_>>())),
                Arc::new(Int64Array::from(vec![round; BIG])),
            ],
        )
        .unwrap()
    };
    let ident = batchmeta::model::TableIdent::new(NS, TABLE).unwrap();
    let ns = batchmeta::model::NewNamespace {
        name: batchmeta::model::NamespaceName::new(NS).unwrap(),
        description: None,
        owner: None,
        properties: Default::default(),
    };
    ms.create_namespace(&ctx, &ns).await.unwrap();
    let create =
        batchmeta::metastore::table_for_data(&ident, &schema, &[("p".to_owned(), None)]).unwrap();
    let keys = ["p".to_owned()];
    let options = StoreOptions::default();
    let mut outcomes = Vec::new();
    // The first write makes the table and every partition, the second
    // replaces them all and is timed; the next rounds replace them all while
    // PostgreSQL restarts at a different fraction of that time (mid-write,
    // around the commit, after it).
    let mut first_took = Duration::ZERO;
    let fractions = [0.0, 0.0, 0.3, 0.6, 0.85, 1.0];
    for (round, fraction) in fractions.iter().enumerate() {
        let round = round as i64;
        let began = Instant::now();
        let write = ms.store_partitioned(
            &ctx,
            &ident,
            &keys,
            schema.clone(),
            futures::stream::iter([Ok(frame(round))]),
            &options,
            Some(&create),
        );
        let restart = async {
            if round > 1 {
                tokio::time::sleep(first_took.mul_f64(*fraction)).await;
                tokio::task::spawn_blocking({
                    let pg = Postgres::from_env().unwrap();
                    move || {
                        pg.stop();
                        pg.start();
                    }
                })
                .await
                .unwrap();
            }
        };
        let (result, ()) = tokio::join!(write, restart);
        if round == 1 {
            first_took = began.elapsed();
        }
        let outcome = match &result {
            Ok(s) => format!("committed {} partitions", s.batches.len()),
            Err(e) => e.code().to_owned(),
        };
        // All or nothing: every partition shows this round, or none does.
        // Bounded: PostgreSQL is back within seconds, or the test fails.
        let reread_until = Instant::now() + Duration::from_secs(120);
        let reread = loop {
            match ms.read(&ident, &batchmeta::ReadRequest::default()).await {
                Ok(r) => break r,
                Err(e) if e.code() == "database_unavailable" && Instant::now() < reread_until => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("read after round {round}: {e}"),
            }
        };
        let mut rounds = HashSet::new();
        let mut rows = 0;
        use futures::TryStreamExt;
        let batches: Vec<RecordBatch> = reread.1.try_collect().await.unwrap();
        for b in &batches {
            let col = b
                .column_by_name("round")
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            rounds.extend(col.values().iter().copied());
            rows += b.num_rows();
        }
        assert_eq!(rows, BIG, "round {round}: {outcome}");
        assert_eq!(
            rounds.len(),
            1,
            "round {round} is half published: {rounds:?} ({outcome})"
        );
        let shown = *rounds.iter().next().unwrap();
        match &result {
            Ok(_) => assert_eq!(shown, round, "acknowledged but not visible"),
            Err(e) => assert!(e.code() == "database_unavailable", "round {round}: {e}"),
        }
        outcomes.push(format!(
            "round {round} (restart at {:.0}% of {first_took:?}): {outcome}, visible: round {shown}",
            fraction * 100.0
        ));
    }
    let report = ms.verify().await.unwrap();
    eprintln!("big publish ({BIG} partitions) with PostgreSQL restarts: {outcomes:#?}");
    assert!(report.is_clean(), "{:?}", report.violations);
}

// ---------------------------------------------------------------------------
// The S3 server killed during an upload
// ---------------------------------------------------------------------------

struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start(port: u16) -> Option<Self> {
        let bin = var("BATCHMETA_TEST_MOTO_BIN")?;
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let m = Moto { child, port };
        let t = Instant::now();
        loop {
            let ok = Command::new("curl")
                .args([
                    "-sf",
                    "-X",
                    "PUT",
                    &format!("http://127.0.0.1:{port}/faults"),
                ])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(m);
            }
            assert!(t.elapsed() < Duration::from_secs(60), "moto did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_killed_during_a_large_upload() {
    let _one = one_at_a_time().await;
    let port = free_port();
    let Some(moto) = Moto::start(port) else {
        eprintln!("SKIP: BATCHMETA_TEST_MOTO_BIN is not set; run via scripts/with-services");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/catalog.db", dir.path().display());
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let envs = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let mut server = serve(dir.path(), &db, "s3://faults/wh", &envs);
    let api = Api::new(&server.base);
    api.setup().await;
    let (s, b) = api.store("p=1", "small", parquet(1, 0, 1000)).await;
    assert_eq!(s, 201, "{b}");
    let before = api.current("p=1").await;
    // ~48 MB: a multipart upload that is under way when moto dies.
    let big = parquet(1, 1, 6_000_000);
    let mut moto = moto;
    let upload = api.store("p=1", "big", big.clone());
    let kill = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let _ = moto.child.kill();
        let _ = moto.child.wait();
        Instant::now()
    };
    let ((status, body), killed) = tokio::join!(upload, kill);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    let first_error_after = Instant::now().duration_since(killed);
    assert_alive(&mut server);
    assert!(
        status == 503 && code == "storage_unavailable",
        "an upload cut by a dead store: {status} {body}\n{}",
        failures(&server)
    );
    assert!(
        !body.to_string().contains("127.0.0.1:"),
        "no driver text to clients: {body}"
    );
    // Nothing of the failed upload is visible.
    assert_eq!(api.current("p=1").await, before);
    let (ready, _) = api.ready().await;
    assert_eq!(ready, 503, "/readyz with the store down");
    // moto again, on the same port, with its bucket made again (moto keeps
    // its state in memory: the old objects are gone).
    drop(moto);
    let _moto = Moto::start(port).unwrap();
    let recovered_after = api
        .until_ok("a store after moto came back", async || {
            api.store("p=2", "after", parquet(2, 0, 1000)).await.0
        })
        .await;
    assert_alive(&mut server);
    eprintln!(
        "moto killed during a {} MB upload: clients saw {:?}; the upload failed {first_error_after:?} after the kill; recovered {recovered_after:?} after moto was back",
        big.len() / 1_000_000,
        tally(&api.log.lock().unwrap())
    );
}

// ---------------------------------------------------------------------------
// The disk fills up; the catalog turns read-only
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disk_full() {
    let _one = one_at_a_time().await;
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("small");
    std::fs::create_dir(&root).unwrap();
    let Some(_mount) = Mount::tmpfs(&root, "24m") else {
        return;
    };
    // Space to free later.
    std::fs::write(root.join("filler"), vec![7u8; 6 << 20]).unwrap();
    let db = format!("sqlite://{}/catalog.db", root.display());
    let mut server = serve(&root, &db, root.join("wh").to_str().unwrap(), &[]);
    let api = Api::new(&server.base);
    api.setup().await;
    let body = parquet(1, 0, 120_000); // ~1.9 MB on disk
    let mut published = Vec::new();
    let mut full = None;
    for i in 0..40 {
        let (s, b) = api
            .store(&format!("p={i}"), &format!("k{i}"), body.clone())
            .await;
        match s {
            201 => published.push(i),
            507 => {
                full = Some((i, b));
                break;
            }
            other => panic!(
                "store {i} on a filling disk: {other} {b}\n{}",
                failures(&server)
            ),
        }
    }
    let (failed, b) = full.expect("the tmpfs never filled up");
    assert_eq!(b["error"]["code"], "insufficient_storage", "{b}");
    assert_alive(&mut server);
    // Nothing half-written is visible: the failed partition has no batch,
    // every published one reads back.
    assert_eq!(api.current(&format!("p={failed}")).await, None);
    for i in &published {
        let (s, b) = api
            .send(
                api.http
                    .post(api.table_url("/read"))
                    .json(&json!({"partitions": [format!("p={i}")]})),
            )
            .await;
        assert_eq!(s, 200, "read p={i} on a full disk: {b}");
    }
    std::fs::remove_file(root.join("filler")).unwrap();
    let recovered_after = api
        .until_ok("a store after space was freed", async || {
            api.store(&format!("p={failed}"), "after", body.clone())
                .await
                .0
        })
        .await;
    let v = api.verify().await;
    assert!(v["violations"].as_array().unwrap().is_empty(), "{v}");
    eprintln!(
        "disk full after {} stores: clients saw {:?}; recovered {recovered_after:?} after space was freed",
        published.len(),
        tally(&api.log.lock().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_made_read_only() {
    let _one = one_at_a_time().await;
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("catalog");
    std::fs::create_dir(&cat).unwrap();
    let Some(mount) = Mount::ext4(&dir.path().join("catalog.img"), &cat, "32M") else {
        return;
    };
    let db = format!("sqlite://{}/catalog.db", cat.display());
    let wh = dir.path().join("wh");
    let mut server = serve(dir.path(), &db, wh.to_str().unwrap(), &[]);
    let api = Api::new(&server.base);
    api.setup().await;
    let (s, b) = api.store("p=1", "k1", parquet(1, 0, 100)).await;
    assert_eq!(s, 201, "{b}");
    let first = api.current("p=1").await.unwrap();
    mount.abort();
    let (s, b) = api.store("p=2", "k2", parquet(2, 0, 100)).await;
    assert_alive(&mut server);
    assert_eq!(
        s,
        503,
        "a store into a read-only catalog: {b}\n{}",
        failures(&server)
    );
    assert_eq!(b["error"]["code"], "database_unavailable", "{b}");
    let message = b["error"]["message"].as_str().unwrap();
    assert!(message.contains("read-only"), "{message}");
    assert!(
        message.contains(&cat.display().to_string()),
        "names the path: {message}"
    );
    // Reads go on.
    assert_eq!(api.current("p=1").await.as_deref(), Some(first.as_str()));
    assert_eq!(api.current("p=2").await, None);
    let seen = tally(&api.log.lock().unwrap());
    // The kernel keeps an aborted file system read-only until it is
    // unmounted, so this case alone needs a restart: mount it again, start
    // the server again, and everything acknowledged is there.
    drop(server);
    drop(mount);
    let mount = Mount(cat.clone());
    let st = Command::new("mount")
        .args(["-o", "loop"])
        .arg(dir.path().join("catalog.img"))
        .arg(&cat)
        .status()
        .unwrap();
    assert!(st.success(), "mount again");
    let server = serve(dir.path(), &db, wh.to_str().unwrap(), &[]);
    let api = Api::new(&server.base);
    assert_eq!(api.current("p=1").await.as_deref(), Some(first.as_str()));
    assert_eq!(api.current("p=2").await, None);
    let (s, b) = api.store("p=2", "k2", parquet(2, 0, 100)).await;
    assert_eq!(s, 201, "{b}");
    let v = api.verify().await;
    assert!(v["violations"].as_array().unwrap().is_empty(), "{v}");
    eprintln!(
        "read-only catalog: clients saw {seen:?}; after a remount and a restart every acknowledged publish is there and writes work"
    );
    drop(server);
    drop(mount);
}
