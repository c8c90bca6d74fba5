//! The bad-input corpus through real HTTP: a live server on a loopback
//! port, requests written byte for byte on a TCP socket ([`wire`], so that
//! `..`, `%2e%2e` and friends reach the server exactly as sent,
//! unnormalized). The corpus is a table ([`cases::CORPUS`], in the shape
//! of [`table`]); one runner ([`run_cases`]) sends every case. Every case
//! must get its documented 4xx with the shared error body, and after every
//! case the catalog's row counts, the newest event id and the store listing
//! must be what they were. The run ends with `verify`.
//!
//! Negative controls: a case expecting the wrong status must fail the run
//! (`a_case_expecting_the_wrong_status_fails_the_run`), and a slice of the
//! corpus run in a child process with the `skip_name_validation` fault
//! must be reported.

mod cases;
mod table;
mod wire;

use std::time::Duration;

use batchmeta::model::{KeyType, PartitionSpec};
use batchmeta::server::{ServerConfig, app, limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::Env;
use table::PARQUET;
use wire::{enc, parse_response, send};

/// One request of the corpus and what it must get.
#[derive(Debug, Clone)]
pub struct Case {
    pub category: &'static str,
    pub label: String,
    pub method: &'static str,
    pub target: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// Send the body with chunked transfer encoding (no content-length).
    pub chunked: bool,
    /// Declare this content-length but send only the head.
    pub declared_only: Option<u64>,
    pub status: u16,
    pub code: &'static str,
}

impl Case {
    fn new(
        category: &'static str,
        label: impl Into<String>,
        method: &'static str,
        target: impl Into<String>,
        status: u16,
        code: &'static str,
    ) -> Self {
        Self {
            category,
            label: label.into(),
            method,
            target: target.into(),
            content_type: None,
            body: Vec::new(),
            chunked: false,
            declared_only: None,
            status,
            code,
        }
    }
}

/// Runs every case; returns one line per failure (wrong status or code, no
/// error body, an overlong message, or any change to rows, events or objects).
pub async fn run_cases(env: &Env, addr: &str, cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut before = env.snapshot().await;
    for c in cases {
        let tag = format!("[{}] {}", c.category, c.label);
        match send(addr, c).await {
            Err(e) => failures.push(format!("{tag}: {e}")),
            Ok((status, body)) => {
                let code = body["error"]["code"].as_str().unwrap_or("<none>");
                let message = body["error"]["message"].as_str().unwrap_or("");
                if status != c.status || code != c.code {
                    failures.push(format!(
                        "{tag}: expected {} {}, got {status} {code}: {}",
                        c.status,
                        c.code,
                        cut(&body.to_string())
                    ));
                } else if message.is_empty() || message.chars().count() > 2000 {
                    failures.push(format!(
                        "{tag}: the message must be non-empty and short, got {} characters",
                        message.chars().count()
                    ));
                }
            }
        }
        let after = env.snapshot().await;
        if after != before {
            failures.push(format!(
                "{tag}: changed the catalog or the store: rows {:?} -> {:?}, max event {:?} -> {:?}, {} -> {} objects",
                before.rows,
                after.rows,
                before.max_event,
                after.max_event,
                before.objects.len(),
                after.objects.len()
            ));
            before = after;
        }
    }
    failures
}

fn cut(s: &str) -> String {
    s.chars().take(300).collect()
}

/// The server config of the corpus: small limits so that each can be hit cheaply.
pub fn corpus_config() -> ServerConfig {
    ServerConfig {
        max_upload_bytes: 1 << 20,
        max_json_bytes: 64 * 1024,
        max_json_depth: 32,
        max_partitions_per_request: 100,
        max_uncompressed_bytes: 20 << 20,
        max_compression_ratio: 1000,
        header_read_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    }
}

/// Stops the server task when dropped.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A live server on a free loopback port; returns its `host:port`.
async fn start(env: &Env, config: ServerConfig) -> (String, Task) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let ms = env.ms.clone();
    let task = tokio::spawn(async move {
        let router = app(ms, config.clone());
        limits::serve_with(listener, router, std::future::pending(), &config)
            .await
            .unwrap();
    });
    (addr, Task(task))
}

/// What the corpus needs to exist: ids of batches in various states.
pub struct Fixture {
    pub good: String,
    pub other_partition: String,
    pub other_table: String,
    pub other_table_staged: String,
    pub staged: String,
    pub staged_other_partition: String,
}

pub const TP: &str = "/v1/namespaces/sales/tables/sold_items";

pub async fn fixture(env: &Env) -> Fixture {
    let keys = [("date", KeyType::Date), ("region", KeyType::String)];
    let t = env.table("sales", "sold_items", &keys).await;
    let good = env.store(&t, "date=2016-10-31/region=us", 0, 3, "ok").await;
    let eu = env.store(&t, "date=2016-10-31/region=eu", 0, 1, "eu").await;
    let other = env.table("sales", "returns", &keys).await;
    let ob = env
        .store(&other, "date=2016-10-31/region=us", 0, 1, "r")
        .await;
    env.table("sales", "counts", &[("n", KeyType::Int)]).await;
    let stage = |t: batchmeta::model::TableIdent, p: &'static str| async move {
        env.ms
            .stage(
                &env.ctx,
                &t,
                &[PartitionSpec::parse(p).unwrap()],
                &Default::default(),
            )
            .await
            .unwrap()
            .remove(0)
            .id
            .to_string()
    };
    Fixture {
        good: good.batch.id.to_string(),
        other_partition: eu.batch.id.to_string(),
        other_table: ob.batch.id.to_string(),
        other_table_staged: stage(other.clone(), "date=2016-11-01/region=us").await,
        staged: stage(t.clone(), "date=2016-10-31/region=us").await,
        staged_other_partition: stage(t.clone(), "date=2016-10-30/region=us").await,
    }
}

/// The corpus, its placeholders filled from `fx`.
pub fn corpus(fx: &Fixture) -> Vec<Case> {
    table::expand(cases::CORPUS, fx)
}

fn summary(cases: &[Case]) -> String {
    let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in cases {
        *by.entry(c.category).or_default() += 1;
    }
    format!("{} cases: {by:?}", cases.len())
}

/// Runs `cases` and fails, listing them, if any case failed.
async fn assert_all_refused(env: &Env, addr: &str, cases: &[Case]) {
    let failures = run_cases(env, addr, cases).await;
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bad_input_corpus_is_refused_and_changes_nothing() {
    let env = crate::sqlite::env().await;
    let fx = fixture(&env).await;
    let (addr, _server) = start(&env, corpus_config()).await;
    let cases = corpus(&fx);
    eprintln!("{}", summary(&cases));
    assert!(cases.len() >= 150, "{}", summary(&cases));
    assert_all_refused(&env, &addr, &cases).await;
    // The server still works, and the catalog is sound.
    let (s, b) = send(
        &addr,
        &Case::new("ok", "ok", "GET", format!("{TP}/partitions"), 200, ""),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let report = env.ms.verify().await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
}

/// Negative control of the runner: the first case of the corpus, once as
/// it is and once expecting a status it does not get, must fail the run
/// with exactly the mutated case.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[should_panic(
    expected = "1 of 2 cases failed:\n[name] mutated: expected 401 invalid_name, got 400 invalid_name"
)]
async fn a_case_expecting_the_wrong_status_fails_the_run() {
    let env = crate::sqlite::env().await;
    let fx = fixture(&env).await;
    let (addr, _server) = start(&env, corpus_config()).await;
    let good = corpus(&fx).remove(0);
    assert_eq!((good.status, good.code), (400, "invalid_name"), "{good:?}");
    let mutated = Case {
        label: "mutated".into(),
        status: 401,
        ..good.clone()
    };
    assert_all_refused(&env, &addr, &[good, mutated]).await;
}

/// A request whose head never ends is cut off; a body that stalls gets 408
/// `body_timeout`; nothing changes either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off_and_change_nothing() {
    let env = crate::sqlite::env().await;
    let fx = fixture(&env).await;
    let config = ServerConfig {
        header_read_timeout: Duration::from_millis(300),
        body_read_timeout: Duration::from_millis(300),
        ..corpus_config()
    };
    let (addr, _server) = start(&env, config).await;
    let before = env.snapshot().await;
    // The outer timeouts only keep a broken server from hanging the test.
    let guard = Duration::from_secs(30);

    // Headers that never end: the server closes the connection.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(guard, s.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the server kept a connection with an unfinished head open"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");

    // A client that connects and says nothing is cut off too.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(guard, s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a silent connection open");

    // Stalled bodies: JSON, then a Parquet upload.
    for (target, ct) in [
        ("/v1/namespaces".to_owned(), "application/json"),
        (format!("{TP}/batches/{}/data", fx.staged), PARQUET),
        (
            format!("{TP}/store?partition={}", enc("date=2016-11-02/region=us")),
            PARQUET,
        ),
    ] {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let method = if target.ends_with("/data") {
            "PUT"
        } else {
            "POST"
        };
        let head = format!(
            "{method} {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: {ct}\r\ncontent-length: 1000\r\n\r\n{{\"name\""
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(guard, s.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "{target}: the server waited forever for a stalled body"
        );
        let (status, body) = parse_response(&buf).unwrap();
        assert_eq!(status, 408, "{target}: {body}");
        assert_eq!(body["error"]["code"], "body_timeout", "{target}: {body}");
    }
    assert_eq!(env.snapshot().await, before);
    assert!(env.ms.verify().await.unwrap().is_clean());
}

/// The child side of the negative control: runs the name and path slices
/// of the corpus and prints how many cases the harness reported. Does
/// nothing unless run as the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_child() {
    if std::env::var("BATCHMETA_BAD_INPUT_CHILD").is_err() {
        return;
    }
    let env = crate::sqlite::env().await;
    let fx = fixture(&env).await;
    let (addr, _server) = start(&env, corpus_config()).await;
    let slice: Vec<Case> = corpus(&fx)
        .into_iter()
        .filter(|c| c.category == "name" || c.category == "path")
        .collect();
    let failures = run_cases(&env, &addr, &slice).await;
    println!("CASES {} FAILURES {}", slice.len(), failures.len());
    for f in failures.iter().take(5) {
        println!("FAILURE {f}");
    }
    assert!(failures.is_empty());
}

/// With name validation switched off (a test-only fault), the harness must
/// report failures: refused names get accepted and write rows and events.
#[test]
fn the_harness_catches_a_server_that_skips_name_validation() {
    if std::env::var("BATCHMETA_BAD_INPUT_CHILD").is_ok() {
        return;
    }
    let run = |faults: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "bad_input_http::negative_control_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("BATCHMETA_BAD_INPUT_CHILD", "1")
            .env("BATCHMETA_FAULTS", faults)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let counts = stdout
            .lines()
            .find_map(|l| l.split_once("CASES ").map(|(_, r)| r.to_owned()))
            .unwrap_or_else(|| {
                panic!(
                    "the child printed no counts:\n{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let failures: usize = counts.split_whitespace().nth(2).unwrap().parse().unwrap();
        (out.status.success(), failures, stdout)
    };
    // Without the fault the slice passes: the control is about the fault.
    let (ok, failures, stdout) = run("");
    assert!(
        ok && failures == 0,
        "the slice fails without the fault:\n{stdout}"
    );
    let (ok, failures, stdout) = run("skip_name_validation");
    assert!(!ok, "the child passed with name validation off:\n{stdout}");
    assert!(
        failures >= 20,
        "the harness reported only {failures} failures with name validation off:\n{stdout}"
    );
    assert!(stdout.contains("changed the catalog"), "{stdout}");
}
