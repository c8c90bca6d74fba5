//! `meta serve` as a real process: a 200 MB Parquet upload streams to the
//! store without the server's memory growing with it, an upload over the
//! limit gets 413 with nothing written, and SIGTERM shuts down cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

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
