//! `meta serve` as a real process: a 200 MB Parquet upload streams to the
//! store without the server's memory growing with it, an upload over the
//! limit gets 413 with nothing written, and SIGTERM shuts down cleanly.
//!
//! Slow clients (issue 15): 500 idle TCP connections, a client sending its
//! request head one byte a second and one sending its body one byte a
//! second, while other clients read and write: the others are answered,
//! the idle connections and the slow head are closed by the header read
//! timeout. Negative control: with a huge header read timeout the same
//! check reports the idle connections and the slow head still open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_meta"))
            .arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .current_dir(dir.path())
            .env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let banner = lines.next().unwrap().unwrap();
        assert!(
            banner.contains(&format!("serving on http://127.0.0.1:{port}")),
            "{banner}"
        );
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// Sockets the server process has open.
    fn sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        std::fs::read_link(e.path())
                            .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Peak resident memory of the server process, in bytes.
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    }

    fn warehouse_files(&self) -> Vec<String> {
        let root = self._dir.path().join(".batchmeta/warehouse");
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path())
                } else {
                    out.push(e.path().display().to_string())
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Parquet file of about `rows * 32` bytes that does not compress.
fn big_parquet(path: &std::path::Path, rows: usize) -> u64 {
    let schema = Arc::new(Schema::new(
        ["a", "b", "c", "d"]
            .map(|n| Field::new(n, DataType::Int64, false))
            .to_vec(),
    ));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let chunk = 1 << 20;
    for start in (0..rows).step_by(chunk) {
        let n = chunk.min(rows - start);
        let cols = (0..4)
            .map(|_| {
                let v: Vec<i64> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as i64
                    })
                    .collect();
                Arc::new(Int64Array::from(v)) as _
            })
            .collect();
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
            .unwrap();
    }
    w.close().unwrap();
    std::fs::metadata(path).unwrap().len()
}

async fn create_table(http: &reqwest::Client, base: &str) {
    let r = http
        .post(format!("{base}/v1/namespaces"))
        .json(&json!({"name": "big"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cols: Vec<Value> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| json!({"name": n, "type": "int64", "nullable": false}))
        .collect();
    let r = http
        .post(format!("{base}/v1/namespaces/big/tables"))
        .json(&json!({"name": "t", "columns": cols, "partition_keys": [{"name": "day", "type": "date"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_upload_streams_and_an_oversized_one_is_refused() {
    const LIMIT: u64 = 250_000_000;
    let server = Server::start(&["--max-upload-bytes", &LIMIT.to_string()]);
    let http = reqwest::Client::new();
    create_table(&http, &server.base).await;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.parquet");
    let size = big_parquet(&path, 6_500_000);
    assert!(size > 200_000_000 && size < LIMIT, "{size}");

    let before = server.peak_rss();
    let file = tokio::fs::File::open(&path).await.unwrap();
    let res = http
        .post(format!(
            "{}/v1/namespaces/big/tables/t/store?partition=day%3D2024-01-01",
            server.base
        ))
        .header("content-type", "application/vnd.apache.parquet")
        .body(reqwest::Body::from(file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let stored: Value = res.json().await.unwrap();
    assert_eq!(stored["batch"]["rows"], 6_500_000);
    assert_eq!(stored["batch"]["bytes"], size);
    let growth = server.peak_rss().saturating_sub(before);
    eprintln!(
        "upload of {size} bytes: server peak RSS {before} -> {} (+{growth})",
        server.peak_rss()
    );
    assert!(
        growth < 100 * 1024 * 1024,
        "peak RSS grew by {growth} bytes for a {size}-byte upload"
    );

    // Over the limit, streamed without a length: 413 and nothing written.
    let files = server.warehouse_files();
    let events: Value = http
        .get(format!("{}/v1/events", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chunks = futures::stream::iter(
        (0..300).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 1_000_000]))),
    );
    let res = http
        .post(format!(
            "{}/v1/namespaces/big/tables/t/store?partition=day%3D2024-01-02",
            server.base
        ))
        .header("content-type", "application/vnd.apache.parquet")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Declared too large: refused before reading.
    let res = http
        .post(format!(
            "{}/v1/namespaces/big/tables/t/store?partition=day%3D2024-01-02",
            server.base
        ))
        .header("content-type", "application/vnd.apache.parquet")
        .header("content-length", (LIMIT + 1).to_string())
        .body(vec![0u8; 16])
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), 413);
    }
    assert_eq!(server.warehouse_files(), files, "nothing written");
    let after: Value = http
        .get(format!("{}/v1/events", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["items"][0]["id"], events["items"][0]["id"],
        "no event"
    );
    let report: Value = http
        .post(format!("{}/v1/verify", server.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["violations"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully() {
    let mut server = Server::start(&[]);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = Duration::ZERO;
    loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(waited < Duration::from_secs(10), "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
}

// ---------------------------------------------------------------------------
// Slow clients
// ---------------------------------------------------------------------------

const IDLE: usize = 500;

/// What the slow clients and the others saw.
#[derive(Debug, Default)]
struct SlowReport {
    header_timeout_secs: u64,
    /// Seconds to open the idle connections.
    opened_in: f64,
    /// Seconds from connect to the server closing each idle connection
    /// (`None`: still open at the end of the window).
    idle_closed: Vec<Option<f64>>,
    /// The same for the client sending its head a byte a second, and how
    /// many bytes it got to send.
    slow_head_closed: Option<f64>,
    slow_head_bytes: u64,
    /// The same for the client sending a JSON body a byte a second
    /// (watched for a fixed time only: the body timeout is an idle
    /// timeout, and a byte a second never pauses that long).
    slow_body_closed: Option<f64>,
    slow_body_bytes: u64,
    slow_body_answer: String,
    /// Other clients' requests while the idle connections were all open,
    /// their failures (status and body), and their latencies (s).
    answered_while_open: usize,
    /// Sockets the server process held once the idle connections were
    /// open (waited for, at most 5 s), and once the window was over (its
    /// listener and the test client's pool remain).
    server_sockets_open: usize,
    server_sockets_after: usize,
    failures: Vec<String>,
    latencies: Vec<f64>,
}

impl SlowReport {
    /// What is wrong, by the test's standard (empty: nothing).
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let open = self.idle_closed.iter().filter(|c| c.is_none()).count();
        if open > 0 {
            out.push(format!(
                "{open} of {IDLE} idle connections still open after the window"
            ));
        }
        if self.slow_head_closed.is_none() {
            out.push(format!(
                "the slow head ({} bytes sent) is still open after the window",
                self.slow_head_bytes
            ));
        }
        if !self.slow_body_answer.contains(" 408 ") || self.slow_body_closed.is_none() {
            out.push(format!(
                "the slow body ({} bytes sent) was not cut off with a 408 (answer {:?}, closed after {:?} s)",
                self.slow_body_bytes, self.slow_body_answer, self.slow_body_closed
            ));
        }
        if self.server_sockets_open < IDLE {
            out.push(format!(
                "the server held only {} sockets with the {IDLE} idle connections open: it never got the others",
                self.server_sockets_open
            ));
        }
        if self.answered_while_open == 0 {
            out.push(
                "no request of another client was answered while the idle connections were open"
                    .into(),
            );
        }
        out.extend(self.failures.iter().cloned());
        out
    }

    fn summary(&self) -> String {
        fn spread(v: &mut [f64]) -> String {
            v.sort_by(f64::total_cmp);
            match (v.first(), v.get(v.len() / 2), v.last()) {
                (Some(a), Some(m), Some(z)) => format!("{a:.3}/{m:.3}/{z:.3}s"),
                _ => "-".into(),
            }
        }
        let mut closed: Vec<f64> = self.idle_closed.iter().flatten().copied().collect();
        let mut lat = self.latencies.clone();
        format!(
            "header timeout {}s: {IDLE} idle connections opened in {:.2}s (the server then held {} \
             sockets), {} closed by the server after \
             min/median/max {}; slow head closed after {:?}s ({} bytes sent); slow body \
             closed after {:?}s ({} bytes sent, answer {:?}); other clients: {} requests \
             answered while all idle connections were open, {} in all, latency \
             min/median/max {}, {} failures {:?}; the server holds {} sockets after the window",
            self.header_timeout_secs,
            self.opened_in,
            self.server_sockets_open,
            closed.len(),
            spread(&mut closed),
            self.slow_head_closed.map(|t| (t * 100.0).round() / 100.0),
            self.slow_head_bytes,
            self.slow_body_closed.map(|t| (t * 100.0).round() / 100.0),
            self.slow_body_bytes,
            self.slow_body_answer,
            self.answered_while_open,
            self.latencies.len(),
            spread(&mut lat),
            self.failures.len(),
            self.failures.iter().take(5).collect::<Vec<_>>(),
            self.server_sockets_after,
        )
    }
}

/// Sends `head` then `trickle` one byte a second until the server closes
/// the connection or `window` ends: (seconds to the close, bytes of
/// `trickle` sent, what the server answered).
async fn trickle(
    addr: &str,
    head: &[u8],
    trickle: &[u8],
    window: Duration,
) -> (Option<f64>, u64, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let start = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let mut answer = Vec::new();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let deadline = tokio::time::sleep(window);
    tokio::pin!(deadline);
    let mut buf = [0u8; 4096];
    loop {
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    return (
                        Some(start.elapsed().as_secs_f64()),
                        sent,
                        String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_owned(),
                    );
                }
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                let byte = trickle[(sent as usize) % trickle.len()];
                if wr.write_all(&[byte]).await.is_err() {
                    return (Some(start.elapsed().as_secs_f64()), sent, String::new());
                }
                sent += 1;
            }
            () = &mut deadline => {
                return (None, sent, String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_owned());
            }
        }
    }
}

/// 500 idle connections, a slow head and a slow body (one byte a second,
/// never a pause long enough for the idle timeout) against a server with
/// `header_secs` of header read timeout, a 2 s body timeout and a minimum
/// body rate of `min_body_rate` bytes a second, and other clients reading
/// and writing meanwhile; everything bounded by `window`.
async fn slow_clients(header_secs: u64, min_body_rate: u64, window: Duration) -> SlowReport {
    use tokio::io::AsyncReadExt;
    let server = Server::start(&[
        "--header-read-timeout-secs",
        &header_secs.to_string(),
        "--body-read-timeout-secs",
        "2",
        "--min-body-rate",
        &min_body_rate.to_string(),
    ]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    create_table(&http, &server.base).await;
    let mut report = SlowReport {
        header_timeout_secs: header_secs,
        ..SlowReport::default()
    };

    // The idle connections: connected, then silent; each task waits for
    // the server to close it.
    let mut idle = Vec::with_capacity(IDLE);
    let connects = (0..IDLE).map(|_| async {
        let at = Instant::now();
        (at, tokio::net::TcpStream::connect(&addr).await.unwrap())
    });
    let opening = Instant::now();
    let streams = futures::future::join_all(connects).await;
    let all_open_at = Instant::now();
    report.opened_in = (all_open_at - opening).as_secs_f64();
    // That they reached the server (not only the kernel's accept queue).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        report.server_sockets_open = server.sockets();
        if report.server_sockets_open >= IDLE || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (at, mut s) in streams {
        idle.push(tokio::spawn(async move {
            let mut buf = Vec::new();
            match tokio::time::timeout(window, s.read_to_end(&mut buf)).await {
                Ok(_) => Some((at, at.elapsed())),
                Err(_) => None,
            }
        }));
    }
    let head = {
        let addr = addr.clone();
        tokio::spawn(async move {
            trickle(
                &addr,
                b"GET /v1/namespaces HTTP/1.1\r\nhost: x\r\nx-slow: ",
                b"abcdefghij",
                window,
            )
            .await
        })
    };
    let body = {
        let addr = addr.clone();
        tokio::spawn(async move {
            trickle(
                &addr,
                b"POST /v1/namespaces HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"name\": \"",
                b"abcdefghij",
                Duration::from_secs(8).min(window),
            )
            .await
        })
    };

    // The other clients: reads and writes, while the idle connections are
    // open (the first idle one closes after about `header_secs`).
    let until = all_open_at + Duration::from_secs(header_secs.min(3));
    let mut answered = Vec::new();
    let mut n = 0;
    while Instant::now() < until && n < 400 {
        n += 1;
        let t = Instant::now();
        let r = if n % 2 == 0 {
            http.get(format!("{}/v1/namespaces", server.base))
                .send()
                .await
        } else {
            http.post(format!("{}/v1/namespaces", server.base))
                .json(&json!({"name": format!("ns_{n}")}))
                .send()
                .await
        };
        let done = Instant::now();
        report.latencies.push((done - t).as_secs_f64());
        match r {
            Ok(r) if r.status().is_success() => answered.push(done),
            Ok(r) => report.failures.push(format!(
                "request {n}: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            )),
            Err(e) => report.failures.push(format!("request {n}: {e}")),
        }
    }
    let mut first_close: Option<Instant> = None;
    for t in idle {
        let closed = t.await.unwrap();
        if let Some((at, after)) = closed {
            first_close = Some(first_close.map_or(at + after, |f| f.min(at + after)));
        }
        report
            .idle_closed
            .push(closed.map(|(_, after)| after.as_secs_f64()));
    }
    // Answered while every idle connection was still open.
    report.answered_while_open = answered
        .iter()
        .filter(|done| first_close.is_none_or(|f| **done < f))
        .count();
    (report.slow_head_closed, report.slow_head_bytes, _) = head.await.unwrap();
    (
        report.slow_body_closed,
        report.slow_body_bytes,
        report.slow_body_answer,
    ) = body.await.unwrap();
    report.server_sockets_after = server.sockets();
    // And the server still answers afterwards.
    match http
        .get(format!("{}/v1/namespaces", server.base))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {}
        other => report
            .failures
            .push(format!("after the slow clients: {other:?}")),
    }
    eprintln!("slow clients: {}", report.summary());
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_connections_and_slow_clients_do_not_starve_others() {
    // 5 s: time enough, on a loaded machine, to open the 500 connections
    // and run the other clients before the first is cut off.
    let r = slow_clients(5, 500, Duration::from_secs(20)).await;
    assert!(
        r.problems().is_empty(),
        "{:#?}\n{}",
        r.problems(),
        r.summary()
    );
}

/// The negative control: with a header read timeout of an hour and no
/// minimum body rate the idle connections, the slow head and the slow body
/// outlast the window, and the same check says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negative_control_a_huge_header_timeout_keeps_idle_connections_open() {
    let r = slow_clients(3600, 0, Duration::from_secs(8)).await;
    let problems = r.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("idle connections still open"))
            && problems.iter().any(|p| p.contains("slow head"))
            && problems.iter().any(|p| p.contains("slow body")),
        "the check did not notice: {problems:#?}\n{}",
        r.summary()
    );
}
