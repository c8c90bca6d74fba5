//! The HTTP edge: every error status with the shared body shape, and
//! nothing changed in the database or the store; health, readiness,
//! metrics; the OpenAPI document; long-poll.

use std::time::{Duration, Instant};

use batchmeta::model::KeyType;
use batchmeta::server::{ServerConfig, openapi};
use serde_json::{Value, json};

use crate::harness::{Env, frame};
use crate::remote::served_env;

struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> (u16, Value) {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some((ct, bytes)) = body {
            rb = rb.header("content-type", ct).body(bytes);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        self.call(
            method,
            path,
            Some(("application/json", serde_json::to_vec(&body).unwrap())),
        )
        .await
    }
}

async fn server(config: ServerConfig) -> (Env, Http) {
    let (env, base) = served_env(config).await;
    (
        env,
        Http {
            base,
            client: reqwest::Client::new(),
        },
    )
}

fn parquet_bytes(batch: &arrow_array::RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

/// label, method, path, body (content type, bytes), expected status, expected code.
type Case = (
    &'static str,
    reqwest::Method,
    String,
    Option<(&'static str, Vec<u8>)>,
    u16,
    &'static str,
);

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str, label: &str) {
    assert_eq!(status, want_status, "{label}: {body}");
    assert_eq!(body["error"]["code"], want_code, "{label}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{label}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_error_status_has_the_error_body_and_changes_nothing() {
    use reqwest::Method as M;
    let (env, http) = server(ServerConfig {
        max_upload_bytes: 64 * 1024,
        ..ServerConfig::default()
    })
    .await;
    let t = env
        .table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    let first = env.store(&t, "date=2016-10-31", 0, 5, "a").await;
    let tp = "/v1/namespaces/sales/tables/sold_items";

    let cases: Vec<Case> = vec![
        (
            "malformed json",
            M::POST,
            "/v1/namespaces".into(),
            Some(("application/json", b"{\"name\":".to_vec())),
            400,
            "malformed_json",
        ),
        (
            "wrong json type",
            M::POST,
            "/v1/namespaces".into(),
            Some(("application/json", b"{\"name\": 5}".to_vec())),
            400,
            "invalid_json",
        ),
        (
            "unknown field",
            M::POST,
            "/v1/namespaces".into(),
            Some((
                "application/json",
                b"{\"name\": \"x\", \"nope\": 1}".to_vec(),
            )),
            400,
            "invalid_json",
        ),
        (
            "no content type",
            M::POST,
            "/v1/namespaces".into(),
            Some(("text/plain", b"{\"name\": \"x\"}".to_vec())),
            415,
            "unsupported_media_type",
        ),
        (
            "invalid name",
            M::POST,
            "/v1/namespaces".into(),
            Some(("application/json", b"{\"name\": \"../etc\"}".to_vec())),
            400,
            "invalid_name",
        ),
        (
            "traversal in path",
            M::GET,
            "/v1/namespaces/sales/tables/..%2F..%2Fetc".into(),
            None,
            400,
            "invalid_name",
        ),
        (
            "bad batch id",
            M::GET,
            format!("{tp}/batches/2016"),
            None,
            400,
            "invalid_batch_id",
        ),
        (
            "bad partition",
            M::GET,
            format!("{tp}/history?partition=date%3D2016-13-45"),
            None,
            400,
            "invalid_partition",
        ),
        (
            "bad query type",
            M::GET,
            format!("{tp}/partitions?limit=many"),
            None,
            400,
            "invalid_query",
        ),
        (
            "unknown namespace",
            M::GET,
            "/v1/namespaces/nope".into(),
            None,
            404,
            "namespace_not_found",
        ),
        (
            "unknown table",
            M::GET,
            "/v1/namespaces/sales/tables/nope".into(),
            None,
            404,
            "table_not_found",
        ),
        (
            "unknown partition",
            M::GET,
            format!("{tp}/history?partition=date%3D1999-01-01"),
            None,
            404,
            "partition_not_found",
        ),
        (
            "unknown batch",
            M::GET,
            format!("{tp}/batches/20000101000000000000"),
            None,
            404,
            "batch_not_found",
        ),
        (
            "unknown route",
            M::GET,
            "/v1/nothing/here".into(),
            None,
            404,
            "route_not_found",
        ),
        (
            "namespace exists",
            M::POST,
            "/v1/namespaces".into(),
            Some(("application/json", b"{\"name\": \"sales\"}".to_vec())),
            409,
            "namespace_exists",
        ),
        (
            "cas conflict",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-10-31&expected_batch=none"),
            Some((
                "application/vnd.apache.parquet",
                parquet_bytes(&frame(0, 2, "x")),
            )),
            409,
            "conflict",
        ),
        (
            "upload too large",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-11-01"),
            Some(("application/vnd.apache.parquet", vec![0u8; 100 * 1024])),
            413,
            "payload_too_large",
        ),
        (
            "unsupported upload",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-11-01"),
            Some(("text/csv", b"a,b\n1,2\n".to_vec())),
            415,
            "unsupported_media_type",
        ),
        (
            "not parquet",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-11-01"),
            Some((
                "application/vnd.apache.parquet",
                b"not parquet at all".to_vec(),
            )),
            400,
            "invalid_data_file",
        ),
        (
            "schema mismatch",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-11-01"),
            Some((
                "application/vnd.apache.parquet",
                parquet_bytes(&mismatched()),
            )),
            422,
            "schema_mismatch",
        ),
        (
            "bad arrow stream",
            M::POST,
            format!("{tp}/store?partition=date%3D2016-11-01"),
            Some(("application/vnd.apache.arrow.stream", b"garbage".to_vec())),
            400,
            "invalid_arrow_stream",
        ),
    ];
    let staged = env
        .ms
        .stage(
            &env.ctx,
            &t,
            &[batchmeta::model::PartitionSpec::parse("date=2016-11-02").unwrap()],
            &batchmeta::StageOptions::default(),
        )
        .await
        .unwrap()
        .remove(0);
    let before = env.snapshot().await;
    let cases: Vec<Case> = cases
        .into_iter()
        .chain([
            (
                "a method the collection lacks",
                M::PUT,
                "/v1/namespaces".into(),
                None,
                405,
                "method_not_allowed",
            ),
            (
                "a method the namespace lacks",
                M::DELETE,
                "/v1/namespaces/sales".into(),
                None,
                405,
                "method_not_allowed",
            ),
            (
                "a time nobody can parse",
                M::GET,
                "/v1/events?since=yesterday".into(),
                None,
                400,
                "invalid_time",
            ),
            (
                "adding a file that is not there",
                M::POST,
                format!("{tp}/batches/{}/files", staged.id),
                Some((
                    "application/json",
                    serde_json::to_vec(&json!({"paths": [format!("{}/nope.parquet", staged.location)]}))
                        .unwrap(),
                )),
                400,
                "batch_file_missing",
            ),
            (
                "republishing a committed batch with a wrong expected batch",
                M::POST,
                format!("{tp}/publish"),
                Some((
                    "application/json",
                    serde_json::to_vec(&json!({"items": [{"partition": "date=2016-10-31", "batch_id": first.batch.id.to_string(), "expected_batch": "20000101000000000000"}]}))
                        .unwrap(),
                )),
                409,
                "conflict",
            ),
        ])
        .collect();
    for (label, method, path, body, status, code) in cases {
        let (s, b) = http.call(method, &path, body).await;
        assert_error(s, &b, status, code, label);
    }
    // A 405 says which methods the route has.
    let res = http
        .client
        .put(format!("{}/v1/namespaces", http.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "GET, POST");
    // `since` takes what the CLI takes: an age or a bare date.
    for since in ["1h", "2016-10-31", "2016-10-31T00:00:00Z"] {
        let (s, b) = http
            .call(M::GET, &format!("/v1/events?since={since}"), None)
            .await;
        assert_eq!(s, 200, "since={since}: {b}");
        assert!(
            !b["items"].as_array().unwrap().is_empty(),
            "since={since}: {b}"
        );
    }
    // A conflict names the current batch.
    let (s, b) = http
        .json(
            M::POST,
            &format!("{tp}/rollback"),
            json!({"partition": "date=2016-10-31", "expected_batch": "20000101000000000000"}),
        )
        .await;
    assert_error(s, &b, 409, "conflict", "rollback conflict");
    assert_eq!(b["error"]["current_batch"], first.batch.id.to_string());
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains(first.batch.id.as_str())
    );
    assert_eq!(
        env.snapshot().await,
        before,
        "no refused request changed rows, events or objects"
    );
}

fn mismatched() -> arrow_array::RecordBatch {
    use std::sync::Arc;
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "other",
        arrow_schema::DataType::Utf8,
        true,
    )]));
    arrow_array::RecordBatch::try_new(
        schema,
        vec![Arc::new(arrow_array::StringArray::from(vec!["x"]))],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_by_upload_resolve_rollback_and_audit() {
    use reqwest::Method as M;
    let (env, http) = server(ServerConfig::default()).await;
    env.table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    let tp = "/v1/namespaces/sales/tables/sold_items";
    let mut ids = Vec::new();
    for tag in ["a", "b"] {
        let (s, b) = http
            .call(
                M::POST,
                &format!("{tp}/store?partition=date%3D2016-10-31&message=load+{tag}"),
                Some((
                    "application/vnd.apache.parquet",
                    parquet_bytes(&frame(0, 3, tag)),
                )),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["batch"]["id"].as_str().unwrap().to_owned());
    }
    // Arrow IPC upload to a staged batch, then publish with CAS.
    let (s, staged) = http
        .json(
            M::POST,
            &format!("{tp}/stage"),
            json!({"partitions": ["date=2016-11-01"]}),
        )
        .await;
    assert_eq!(s, 201, "{staged}");
    let bid = staged[0]["id"].as_str().unwrap();
    let mut ipc = Vec::new();
    {
        let f = frame(0, 4, "ipc");
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut ipc, &f.schema()).unwrap();
        w.write(&f).unwrap();
        w.finish().unwrap();
    }
    let (s, b) = http
        .call(
            M::PUT,
            &format!("{tp}/batches/{bid}/data"),
            Some(("application/vnd.apache.arrow.stream", ipc)),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], 4);
    let (s, c) = http.json(M::POST, &format!("{tp}/publish"), json!({"items": [{"partition": "date=2016-11-01", "batch_id": bid, "expected_batch": "none"}]})).await;
    assert_eq!(s, 200, "{c}");
    let (s, r) = http
        .json(
            M::POST,
            &format!("{tp}/resolve"),
            json!({"partitions": ["date=2016-10-31"]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r[0]["batch"]["id"], ids[1]);
    assert_eq!(r[0]["partition"], "date=2016-10-31");
    let (s, e) = http
        .json(
            M::POST,
            &format!("{tp}/rollback"),
            json!({"partition": "date=2016-10-31", "message": "bad load"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["to_batch"], ids[0]);
    let (s, ev) = http
        .call(
            M::GET,
            "/v1/events?namespace=sales&table=sold_items&action=rollback",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(ev["items"][0]["message"], "bad load");
    assert_eq!(ev["items"][0]["from_batch"], ids[1]);
    let (s, feed) = http.call(M::GET, "/v1/events?after=0&limit=2", None).await;
    assert_eq!(s, 200);
    assert!(feed["items"][0]["id"].as_i64() < feed["items"][1]["id"].as_i64());
    assert!(feed["next_cursor"].is_string());
    // Reads through the server come back as Arrow IPC.
    let res = http
        .client
        .post(format!("{}{tp}/read", http.base))
        .json(&json!({"partitions": ["date=2016-11-01"], "columns": ["value", "date"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let bytes = res.bytes().await.unwrap();
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 4);
    // Health, readiness, metrics, config.
    assert_eq!(http.call(M::GET, "/healthz", None).await.0, 200);
    assert_eq!(http.call(M::GET, "/readyz", None).await.0, 200);
    let (_, metrics) = http.call(M::GET, "/metrics", None).await;
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(metrics.contains("batchmeta_publishes_total 3"), "{metrics}");
    assert!(metrics.contains("batchmeta_rollbacks_total 1"), "{metrics}");
    assert!(
        metrics.contains(
            "route=\"/v1/namespaces/{namespace}/tables/{table}/store\",status=\"201\"} 2"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("batchmeta_http_request_duration_seconds_bucket{route=\"/v1/namespaces/{namespace}/tables/{table}/resolve\",le=\"+Inf\"} 1"), "{metrics}");
    let (_, cfg) = http.call(M::GET, "/v1/config", None).await;
    assert!(cfg["warehouse"].as_str().unwrap().starts_with("file://"));
    assert!(env.ms.verify().await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_waiting_reader_returns_within_a_second_of_a_publish() {
    let (env, http) = server(ServerConfig::default()).await;
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let first = env.store(&t, "d=x", 0, 1, "a").await.batch.id;
    let url = format!(
        "{}/v1/namespaces/s/tables/t/wait?partition=d%3Dx&after={first}&timeout_ms=20000",
        http.base
    );
    let waiter = tokio::spawn(async move {
        let res = reqwest::get(url).await.unwrap();
        (
            res.status().as_u16(),
            res.json::<Value>().await.unwrap(),
            Instant::now(),
        )
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "the reader waits");
    // Another client publishes.
    let published = env.store(&t, "d=x", 0, 1, "b").await;
    let at = Instant::now();
    let (status, body, returned) = waiter.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["batch"]["id"], published.batch.id.to_string());
    let lag = returned.saturating_duration_since(at);
    assert!(
        lag < Duration::from_secs(1),
        "returned {lag:?} after the publish"
    );
    // Nothing new: a clear timeout.
    let (s, b) = http
        .call(
            reqwest::Method::GET,
            &format!(
                "/v1/namespaces/s/tables/t/wait?partition=d%3Dx&after={}&timeout_ms=200",
                published.batch.id
            ),
            None,
        )
        .await;
    assert_error(s, &b, 408, "wait_timeout", "wait timeout");
}

#[test]
fn the_openapi_document_is_valid_and_committed() {
    let doc = serde_json::to_value(openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every $ref points at a component that exists.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in &refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    // Every operation documents its responses; operation ids are unique.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "duplicate operationId at {method} {path}"
            );
            // OpenAPI requires a description on every response.
            for (status, r) in op["responses"].as_object().unwrap() {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
            // Bodies other than JSON and text are bytes, not arrays of numbers.
            let bodies = op["requestBody"]["content"].as_object().into_iter().chain(
                op["responses"]
                    .as_object()
                    .unwrap()
                    .values()
                    .filter_map(|r| r["content"].as_object()),
            );
            for (media_type, content) in bodies.flatten() {
                if media_type != "application/json" && !media_type.starts_with("text/") {
                    assert_eq!(
                        content["schema"],
                        json!({"type": "string", "format": "binary", "contentMediaType": media_type}),
                        "{method} {path} {media_type}"
                    );
                }
            }
        }
    }
    // Optional authentication, declared once: no token on loopback.
    assert_eq!(doc["security"], json!([{}, {"bearer": []}]));
    // Typed where the derive would say `object`.
    let schema = |name: &str| &doc["components"]["schemas"][name];
    assert_eq!(
        schema("Table")["properties"]["schema"]["$ref"],
        "#/components/schemas/ArrowSchema"
    );
    assert_eq!(
        schema("ReadBody")["allOf"][1]["properties"]["filters"]["items"]["$ref"],
        "#/components/schemas/Filter"
    );
    assert_eq!(
        schema("PinTarget")["oneOf"],
        json!([
            {"$ref": "#/components/schemas/PinTargetBatch"},
            {"$ref": "#/components/schemas/PinTargetAsOf"}
        ])
    );
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    if std::env::var_os("BATCHMETA_UPDATE_OPENAPI").is_some() {
        std::fs::write(&committed, &pretty).unwrap();
    }
    let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        on_disk == pretty,
        "docs/openapi.json is out of date: run `BATCHMETA_UPDATE_OPENAPI=1 cargo test --test it openapi` and commit it"
    );
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().unwrap_or_default().to_owned());
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Hints over HTTP name routes and body fields (never a `meta` command or a
/// Python call), and travel as a structure a client can word again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hints_are_worded_for_http_and_sent_as_structure() {
    use reqwest::Method as M;
    let (env, http) = server(ServerConfig::default()).await;
    let t = env
        .table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    env.store(&t, "date=2016-10-31", 0, 5, "a").await;

    let (status, body) = http
        .call(
            M::POST,
            "/v1/namespaces/slaes/tables/sold_items/store?partition=date%3D2016-10-31",
            Some((
                "application/vnd.apache.parquet",
                parquet_bytes(&mismatched()),
            )),
        )
        .await;
    assert_error(status, &body, 404, "namespace_not_found", "typo namespace");
    let e = &body["error"];
    assert_eq!(
        e["hint"],
        serde_json::json!({"kind": "create_namespace", "namespace": "slaes", "did_you_mean": "sales"}),
        "{body}"
    );
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("did you mean `sales`") && msg.contains("POST /v1/namespaces"),
        "{msg}"
    );

    let (status, body) = http
        .json(
            M::POST,
            "/v1/namespaces/sales/tables/sold_items/rollback",
            serde_json::json!({"partition": "date=2016-10-31"}),
        )
        .await;
    assert_error(
        status,
        &body,
        400,
        "no_parent",
        "rollback of a first publish",
    );
    assert_eq!(body["error"]["hint"]["kind"], "rollback_to", "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("\"to\": \"BATCH\"") && msg.contains("/history?partition=date%3D2016-10-31"),
        "{msg}"
    );

    for (status, body) in [
        http.call(M::GET, "/v1/namespaces/nope", None).await,
        http.call(M::GET, "/v1/namespaces/sales/tables/nope", None)
            .await,
        http.call(
            M::GET,
            "/v1/namespaces/sales/tables/sold_items/pins/nope",
            None,
        )
        .await,
    ] {
        assert!(status >= 400, "{body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(!msg.contains("meta ") && !msg.contains("bm."), "{msg}");
        assert!(body["error"]["hint"]["kind"].is_string(), "{body}");
    }
}
