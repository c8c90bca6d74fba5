//! The authorization matrix: tokens {none, malformed, unknown, revoked,
//! expired, reader A, writer A, admin A, global admin} × every endpoint ×
//! resources in namespaces A (`alpha`) and B (`beta`), against a real
//! `meta serve --auth tokens` on loopback.
//!
//! Every cell has an expected status, written here from the documented
//! roles (not read from the server's policy). For every refused cell the
//! database row counts, the highest event id and the warehouse listing must
//! be unchanged; for every allowed cell by a token of namespace A, nothing in
//! namespace B may change and no response may show B. Requests that reach
//! across namespaces from A's own routes (B's batch IDs in A's publish, pin,
//! read and rollback; event queries naming B) must be refused the same way.
//! The test also fails if an endpoint of the OpenAPI document has no row.
//!
//! Negative control: the same harness against a server built with the
//! test-only fault `skip_authorization` must report failures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::rows::{self, State, sqlite_url};
use common::servers::{MetaServe, Served};

use reqwest::Method;
use serde_json::{Value, json};

const A: &str = "alpha";
const B: &str = "beta";
const PART: &str = "date=2016-10-31";

/// The callers of the matrix.
const CALLERS: [&str; 9] = [
    "none",
    "malformed",
    "unknown",
    "revoked",
    "expired",
    "reader_a",
    "writer_a",
    "admin_a",
    "global_admin",
];

/// What an endpoint needs (the documented roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Public,
    AnyToken,
    /// Role rank (1 reader, 2 writer, 3 admin) on the namespace the cell targets.
    On(u8),
    /// Role rank on every namespace.
    Everywhere(u8),
}

/// One endpoint of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Healthz,
    Readyz,
    Metrics,
    Config,
    ListNamespaces,
    CreateNamespace,
    GetNamespace,
    UpdateNamespace,
    ListTables,
    CreateTable,
    GetTable,
    UpdateTable,
    DropTable,
    ListPartitions,
    Resolve,
    History,
    Wait,
    Read,
    Stage,
    ListBatches,
    GetBatch,
    DiscardBatch,
    AddFiles,
    UploadData,
    Store,
    Publish,
    Rollback,
    Holders,
    ListPins,
    CreatePin,
    GetPin,
    DeletePin,
    ListAllPins,
    Events,
    EventsOf,
    Verify,
    Committed,
    ListTokens,
    CreateToken,
    RevokeToken,
    Lineage,
    RollbackImpact,
    Stale,
    LineageEdges,
    GetRunReads,
    SaveRunReads,
    Gc,
    GcAll,
}

const OPS: [Op; 48] = [
    Op::Healthz,
    Op::Readyz,
    Op::Metrics,
    Op::Config,
    Op::ListNamespaces,
    Op::CreateNamespace,
    Op::GetNamespace,
    Op::UpdateNamespace,
    Op::ListTables,
    Op::CreateTable,
    Op::GetTable,
    Op::UpdateTable,
    Op::DropTable,
    Op::ListPartitions,
    Op::Resolve,
    Op::History,
    Op::Wait,
    Op::Read,
    Op::Stage,
    Op::ListBatches,
    Op::GetBatch,
    Op::DiscardBatch,
    Op::AddFiles,
    Op::UploadData,
    Op::Store,
    Op::Publish,
    Op::Rollback,
    Op::Holders,
    Op::ListPins,
    Op::CreatePin,
    Op::GetPin,
    Op::DeletePin,
    Op::ListAllPins,
    Op::Events,
    Op::EventsOf,
    Op::Verify,
    Op::Committed,
    Op::ListTokens,
    Op::CreateToken,
    Op::RevokeToken,
    Op::Lineage,
    Op::RollbackImpact,
    Op::Stale,
    Op::LineageEdges,
    Op::GetRunReads,
    Op::SaveRunReads,
    Op::Gc,
    Op::GcAll,
];

const T: &str = "/v1/namespaces/{namespace}/tables/{table}";

impl Op {
    /// Method, route template, what it needs, and its status when allowed.
    fn spec(self) -> (Method, String, Needs, u16) {
        use Needs::*;
        let t = |rest: &str| format!("{T}{rest}");
        let (m, route, needs, ok) = match self {
            Op::Healthz => (Method::GET, "/healthz".into(), Public, 200),
            Op::Readyz => (Method::GET, "/readyz".into(), Public, 200),
            Op::Metrics => (Method::GET, "/metrics".into(), AnyToken, 200),
            Op::Config => (Method::GET, "/v1/config".into(), AnyToken, 200),
            Op::ListNamespaces => (Method::GET, "/v1/namespaces".into(), AnyToken, 200),
            Op::CreateNamespace => (Method::POST, "/v1/namespaces".into(), Everywhere(3), 201),
            Op::GetNamespace => (Method::GET, "/v1/namespaces/{namespace}".into(), On(1), 200),
            Op::UpdateNamespace => (
                Method::PATCH,
                "/v1/namespaces/{namespace}".into(),
                On(3),
                200,
            ),
            Op::ListTables => (
                Method::GET,
                "/v1/namespaces/{namespace}/tables".into(),
                On(1),
                200,
            ),
            Op::CreateTable => (
                Method::POST,
                "/v1/namespaces/{namespace}/tables".into(),
                On(3),
                201,
            ),
            Op::GetTable => (Method::GET, T.into(), On(1), 200),
            Op::UpdateTable => (Method::PATCH, T.into(), On(3), 200),
            Op::DropTable => (Method::DELETE, T.into(), On(3), 204),
            Op::ListPartitions => (Method::GET, t("/partitions"), On(1), 200),
            Op::Resolve => (Method::POST, t("/resolve"), On(1), 200),
            Op::History => (Method::GET, t("/history"), On(1), 200),
            Op::Wait => (Method::GET, t("/wait"), On(1), 200),
            Op::Read => (Method::POST, t("/read"), On(1), 200),
            Op::Stage => (Method::POST, t("/stage"), On(2), 201),
            Op::ListBatches => (Method::GET, t("/batches"), On(1), 200),
            Op::GetBatch => (Method::GET, t("/batches/{batch_id}"), On(1), 200),
            Op::DiscardBatch => (Method::DELETE, t("/batches/{batch_id}"), On(2), 204),
            Op::AddFiles => (Method::POST, t("/batches/{batch_id}/files"), On(2), 200),
            Op::UploadData => (Method::PUT, t("/batches/{batch_id}/data"), On(2), 200),
            Op::Store => (Method::POST, t("/store"), On(2), 201),
            Op::Publish => (Method::POST, t("/publish"), On(2), 200),
            Op::Rollback => (Method::POST, t("/rollback"), On(2), 200),
            Op::Holders => (Method::GET, t("/batches/{batch_id}/pins"), On(1), 200),
            Op::ListPins => (Method::GET, t("/pins"), On(1), 200),
            Op::CreatePin => (Method::POST, t("/pins"), On(2), 201),
            Op::GetPin => (Method::GET, t("/pins/{pin}"), On(1), 200),
            Op::DeletePin => (Method::DELETE, t("/pins/{pin}"), On(2), 204),
            Op::ListAllPins => (Method::GET, "/v1/pins".into(), AnyToken, 200),
            // Without a namespace: a token of one namespace sees its events.
            Op::Events => (Method::GET, "/v1/events".into(), AnyToken, 200),
            Op::EventsOf => (Method::GET, "/v1/events".into(), On(1), 200),
            Op::Verify => (Method::POST, "/v1/verify".into(), Everywhere(3), 200),
            Op::Committed => (Method::GET, "/v1/batches".into(), Everywhere(3), 200),
            // Admin of A lists the tokens it administers.
            Op::ListTokens => (Method::GET, "/v1/tokens".into(), On(3), 200),
            // A token granting a role on the cell's namespace.
            Op::CreateToken => (Method::POST, "/v1/tokens".into(), On(3), 201),
            Op::RevokeToken => (Method::DELETE, "/v1/tokens/{name}".into(), On(3), 200),
            // Lineage crosses namespaces: a reader of every namespace.
            Op::Lineage => (Method::GET, t("/lineage"), Everywhere(1), 200),
            Op::RollbackImpact => (Method::POST, t("/rollback/impact"), On(2), 200),
            Op::Stale => (Method::GET, "/v1/stale".into(), Everywhere(1), 200),
            Op::LineageEdges => (Method::POST, "/v1/lineage/edges".into(), Everywhere(1), 200),
            Op::GetRunReads => (Method::GET, "/v1/runs/{run}/reads".into(), AnyToken, 200),
            Op::SaveRunReads => (Method::PUT, "/v1/runs/{run}/reads".into(), AnyToken, 200),
            // Retention: admin of the namespace the body names; of every
            // namespace when it names none.
            Op::Gc => (Method::POST, "/v1/gc".into(), On(3), 200),
            Op::GcAll => (Method::POST, "/v1/gc".into(), Everywhere(3), 200),
        };
        (m, route, needs, ok)
    }

    /// Whether the cell's namespace matters (else the op runs once).
    fn per_namespace(self) -> bool {
        matches!(self.spec().2, Needs::On(_)) && self != Op::ListTokens
    }
}

/// A caller's grant: role rank and namespace (`None`: every namespace).
fn grant_of(caller: &str) -> Option<(u8, Option<&'static str>)> {
    match caller {
        "reader_a" => Some((1, Some(A))),
        "writer_a" => Some((2, Some(A))),
        "admin_a" => Some((3, Some(A))),
        "global_admin" => Some((3, None)),
        _ => None,
    }
}

/// The documented status of a cell.
fn expected(op: Op, caller: &str, ns: &str) -> u16 {
    let (_, _, needs, ok) = op.spec();
    if needs == Needs::Public {
        return ok;
    }
    let Some((rank, scope)) = grant_of(caller) else {
        return 401;
    };
    let allowed = match needs {
        Needs::Public | Needs::AnyToken => true,
        Needs::Everywhere(r) => scope.is_none() && rank >= r,
        Needs::On(r) => rank >= r && scope.is_none_or(|s| s == ns),
    };
    if allowed { ok } else { 403 }
}

fn meta(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meta"));
    c.current_dir(dir)
        .env_remove("BATCHMETA_URL")
        .env_remove("BATCHMETA_TOKEN")
        .env_remove("BATCHMETA_FAULTS")
        .args(["--url", &catalog_url(dir)])
        .args(["--warehouse", &dir.join("warehouse").display().to_string()]);
    c
}

/// `meta serve --auth tokens` on the catalog and the warehouse in `dir`.
fn start(dir: &Path, faults: &str, rate_limit: &str) -> Served {
    MetaServe::new(dir)
        .catalog(
            &catalog_url(dir),
            &dir.join("warehouse").display().to_string(),
        )
        .faults(faults)
        .args(["--auth", "tokens", "--rate-limit", rate_limit])
        .start()
}

/// The SQLite catalog in `dir`.
fn catalog_url(dir: &Path) -> String {
    sqlite_url(&dir.join("catalog.db"))
}

fn parquet(ids: std::ops::Range<i64>) -> Vec<u8> {
    use arrow_array::{Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("value", DataType::Utf8, true),
    ]));
    let n = ids.clone().count();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            std::sync::Arc::new(Int64Array::from_iter_values(ids)),
            std::sync::Arc::new(StringArray::from(vec!["v"; n])),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Value,
    text: String,
}

/// A request body: content type and bytes.
type Body = Option<(&'static str, Vec<u8>)>;

/// The world of one matrix run.
struct Fixture {
    dir: PathBuf,
    server: Served,
    http: reqwest::Client,
    /// Caller label -> Authorization header value (`None`: no header).
    auth: BTreeMap<&'static str, Option<String>>,
    /// Per namespace: a committed batch of `t`, the staged one, and the pin.
    committed: BTreeMap<&'static str, String>,
    seq: std::sync::atomic::AtomicUsize,
}

impl Fixture {
    fn next(&self) -> usize {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    async fn send(
        &self,
        caller: &str,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.server.base));
        if let Some(Some(h)) = self.auth.get(caller) {
            rb = rb.header("authorization", h);
        }
        if let Some((ct, bytes)) = body {
            rb = rb.header("content-type", ct).body(bytes);
        }
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = res.text().await.unwrap();
        Reply {
            status,
            challenge,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// A request as the global admin that must succeed.
    async fn admin(&self, method: Method, path: &str, body: Option<(&str, Vec<u8>)>) -> Value {
        let r = self.send("global_admin", method.clone(), path, body).await;
        assert!(
            (200..300).contains(&r.status),
            "setup {method} {path}: {} {}",
            r.status,
            r.text
        );
        r.body
    }

    async fn admin_json(&self, method: Method, path: &str, body: Value) -> Value {
        self.admin(
            method,
            path,
            Some(("application/json", serde_json::to_vec(&body).unwrap())),
        )
        .await
    }

    async fn store(&self, ns: &str, table: &str) -> String {
        let i = self.next() as i64;
        let v = self
            .admin(
                Method::POST,
                &format!("/v1/namespaces/{ns}/tables/{table}/store?partition={PART}"),
                Some((
                    "application/vnd.apache.parquet",
                    parquet(i * 10..i * 10 + 3),
                )),
            )
            .await;
        v["batch"]["id"]
            .as_str()
            .expect("store reply has a batch")
            .to_owned()
    }

    async fn stage(&self, ns: &str) -> String {
        let v = self
            .admin_json(
                Method::POST,
                &format!("/v1/namespaces/{ns}/tables/t/stage"),
                json!({"partitions": [PART]}),
            )
            .await;
        v[0]["id"]
            .as_str()
            .expect("stage reply has a batch")
            .to_owned()
    }

    async fn staged_with_data(&self, ns: &str) -> String {
        let b = self.stage(ns).await;
        let i = self.next() as i64;
        self.admin(
            Method::PUT,
            &format!("/v1/namespaces/{ns}/tables/t/batches/{b}/data"),
            Some((
                "application/vnd.apache.parquet",
                parquet(i * 10..i * 10 + 2),
            )),
        )
        .await;
        b
    }

    async fn create_table(&self, ns: &str, name: &str) {
        self.admin_json(
            Method::POST,
            &format!("/v1/namespaces/{ns}/tables"),
            json!({
                "name": name,
                "columns": [{"name": "id", "type": "int64"}, {"name": "value", "type": "string"}],
                "partition_keys": [{"name": "date", "type": "string"}],
            }),
        )
        .await;
    }

    async fn token(&self, name: &str, grants: &[String], expires: Option<&str>) -> String {
        let mut body = json!({"name": name, "grants": grants});
        if let Some(e) = expires {
            body["expires_at"] = json!(e);
        }
        let v = self.admin_json(Method::POST, "/v1/tokens", body).await;
        v["secret"].as_str().unwrap().to_owned()
    }

    /// Builds the request of one cell (running its setup as the global admin).
    async fn request(&self, op: Op, ns: &str) -> (Method, String, Option<(&'static str, Vec<u8>)>) {
        let i = self.next();
        let t = format!("/v1/namespaces/{ns}/tables/t");
        let js = |v: Value| Some(("application/json", serde_json::to_vec(&v).unwrap()));
        let (m, _, _, _) = op.spec();
        let (path, body) = match op {
            Op::Healthz => ("/healthz".to_owned(), None),
            Op::Readyz => ("/readyz".to_owned(), None),
            Op::Metrics => ("/metrics".to_owned(), None),
            Op::Config => ("/v1/config".to_owned(), None),
            Op::ListNamespaces => ("/v1/namespaces".to_owned(), None),
            Op::CreateNamespace => (
                "/v1/namespaces".to_owned(),
                js(json!({"name": format!("n{i}")})),
            ),
            Op::GetNamespace => (format!("/v1/namespaces/{ns}"), None),
            Op::UpdateNamespace => (
                format!("/v1/namespaces/{ns}"),
                js(json!({"description": format!("d{i}")})),
            ),
            Op::ListTables => (format!("/v1/namespaces/{ns}/tables"), None),
            Op::CreateTable => (
                format!("/v1/namespaces/{ns}/tables"),
                js(json!({"name": format!("c{i}"), "columns": [{"name": "id", "type": "int64"}]})),
            ),
            Op::GetTable => (t.clone(), None),
            Op::UpdateTable => (t.clone(), js(json!({"description": format!("d{i}")}))),
            Op::DropTable => {
                self.create_table(ns, &format!("d{i}")).await;
                (format!("/v1/namespaces/{ns}/tables/d{i}"), None)
            }
            Op::ListPartitions => (format!("{t}/partitions"), None),
            Op::Resolve => (format!("{t}/resolve"), js(json!({"partitions": [PART]}))),
            Op::History => (format!("{t}/history?partition={PART}"), None),
            Op::Wait => (format!("{t}/wait?partition={PART}&timeout_ms=0"), None),
            Op::Read => (format!("{t}/read"), js(json!({"partitions": [PART]}))),
            Op::Stage => (format!("{t}/stage"), js(json!({"partitions": [PART]}))),
            Op::ListBatches => (format!("{t}/batches?partition={PART}"), None),
            Op::GetBatch => (format!("{t}/batches/{}", self.committed[ns_key(ns)]), None),
            Op::DiscardBatch => (format!("{t}/batches/{}", self.stage(ns).await), None),
            Op::AddFiles => {
                let b = self.stage(ns).await;
                let batch = self
                    .admin(Method::GET, &format!("{t}/batches/{b}"), None)
                    .await;
                let prefix = batch["location"].as_str().expect("batch location");
                let file = format!("{}/part-{i}.parquet", prefix.trim_end_matches('/'));
                let local = self.dir.join("warehouse").join(&file);
                std::fs::create_dir_all(local.parent().unwrap()).unwrap();
                std::fs::write(&local, parquet(0..2)).unwrap();
                (
                    format!("{t}/batches/{b}/files"),
                    js(json!({"paths": [file]})),
                )
            }
            Op::UploadData => (
                format!("{t}/batches/{}/data", self.stage(ns).await),
                Some(("application/vnd.apache.parquet", parquet(0..2))),
            ),
            Op::Store => (
                format!("{t}/store?partition={PART}"),
                Some(("application/vnd.apache.parquet", parquet(0..2))),
            ),
            Op::Publish => {
                let b = self.staged_with_data(ns).await;
                (
                    format!("{t}/publish"),
                    js(json!({"items": [{"partition": PART, "batch_id": b}]})),
                )
            }
            Op::Rollback => {
                self.store(ns, "t").await;
                (format!("{t}/rollback"), js(json!({"partition": PART})))
            }
            Op::Holders => (
                format!("{t}/batches/{}/pins", self.committed[ns_key(ns)]),
                None,
            ),
            Op::ListPins => (format!("{t}/pins"), None),
            Op::CreatePin => (
                format!("{t}/pins"),
                js(
                    json!({"name": format!("p{i}"), "partition": PART, "batch_id": self.committed[ns_key(ns)]}),
                ),
            ),
            Op::GetPin => (format!("{t}/pins/keep"), None),
            Op::DeletePin => {
                self.admin_json(
                    Method::POST,
                    &format!("{t}/pins"),
                    json!({"name": format!("q{i}"), "partition": PART, "batch_id": self.committed[ns_key(ns)]}),
                )
                .await;
                (format!("{t}/pins/q{i}"), None)
            }
            Op::ListAllPins => ("/v1/pins".to_owned(), None),
            Op::Events => ("/v1/events".to_owned(), None),
            Op::EventsOf => (format!("/v1/events?namespace={ns}"), None),
            Op::Verify => ("/v1/verify?scope=catalog".to_owned(), None),
            Op::Committed => ("/v1/batches".to_owned(), None),
            Op::ListTokens => ("/v1/tokens".to_owned(), None),
            Op::CreateToken => (
                "/v1/tokens".to_owned(),
                js(json!({"name": format!("k{i}"), "grants": [format!("reader:{ns}")]})),
            ),
            Op::RevokeToken => {
                let name = format!("r{i}");
                self.token(&name, &[format!("reader:{ns}")], None).await;
                (format!("/v1/tokens/{name}"), None)
            }
            Op::Lineage => (format!("{t}/lineage?partition={PART}"), None),
            Op::RollbackImpact => {
                self.store(ns, "t").await;
                (
                    format!("{t}/rollback/impact"),
                    js(json!({"partition": PART})),
                )
            }
            Op::Stale => ("/v1/stale".to_owned(), None),
            Op::LineageEdges => (
                "/v1/lineage/edges".to_owned(),
                js(json!({"batches": [self.committed[ns_key(ns)]], "direction": "down"})),
            ),
            Op::GetRunReads => (format!("/v1/runs/run-{i}/reads"), None),
            Op::SaveRunReads => (
                format!("/v1/runs/run-{i}/reads"),
                js(json!({"reads": [], "stored": false})),
            ),
            // Applied: with the default grace nothing here is old enough,
            // and a refused one must change nothing all the same.
            Op::Gc => (
                "/v1/gc".to_owned(),
                js(json!({"namespace": ns, "table": "t", "keep_last": 1, "apply": true})),
            ),
            Op::GcAll => ("/v1/gc".to_owned(), js(json!({"keep_last": 1}))),
        };
        (m, path, body)
    }
}

fn ns_key(ns: &str) -> &'static str {
    if ns == A { A } else { B }
}

/// Everything a refused request must leave as it was.
async fn snapshot(dir: &Path) -> State {
    rows::state(&catalog_url(dir), &dir.join("warehouse")).await
}

/// Namespaces of the events after `after`.
async fn namespaces_of_events_after(dir: &Path, after: i64) -> BTreeSet<String> {
    let sql = format!("SELECT namespace FROM events WHERE id > {after}");
    let v = common::sqlite::texts(&catalog_url(dir), &sql).await;
    v.into_iter().map(|n| n.unwrap_or_default()).collect()
}

async fn setup(faults: &str) -> (Fixture, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("warehouse")).unwrap();
    let out = meta(&dir)
        .args(["token", "create", "root", "--role", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let server = start(&dir, faults, "0");
    let mut fx = Fixture {
        dir,
        server,
        http: reqwest::Client::new(),
        auth: BTreeMap::new(),
        committed: BTreeMap::new(),
        seq: Default::default(),
    };
    fx.auth.insert("none", None);
    fx.auth
        .insert("global_admin", Some(format!("Bearer {root}")));
    fx.auth
        .insert("malformed", Some("Bearer not-a-batchmeta-token".into()));
    fx.auth.insert(
        "unknown",
        Some(format!("Bearer bm_0123456789abcdef_{}", "ab".repeat(32))),
    );
    for ns in [A, B] {
        fx.admin_json(Method::POST, "/v1/namespaces", json!({"name": ns}))
            .await;
        fx.create_table(ns, "t").await;
        fx.store(ns, "t").await;
        let b = fx.store(ns, "t").await;
        fx.committed.insert(ns_key(ns), b);
        fx.admin_json(
            Method::POST,
            &format!("/v1/namespaces/{ns}/tables/t/pins"),
            json!({"name": "keep", "partition": PART, "batch_id": fx.committed[ns_key(ns)]}),
        )
        .await;
        fx.stage(ns).await;
    }
    for (label, grant) in [
        ("reader_a", "reader:alpha"),
        ("writer_a", "writer:alpha"),
        ("admin_a", "admin:alpha"),
    ] {
        let s = fx.token(label, &[grant.to_owned()], None).await;
        fx.auth.insert(label, Some(format!("Bearer {s}")));
    }
    // A token of B that A's admin must not see or revoke.
    fx.token("beta_reader", &[format!("reader:{B}")], None)
        .await;
    let revoked = fx.token("revoked", &["admin".to_owned()], None).await;
    fx.admin(Method::DELETE, "/v1/tokens/revoked", None).await;
    fx.auth.insert("revoked", Some(format!("Bearer {revoked}")));
    let expired = fx
        .token(
            "expired",
            &["admin".to_owned()],
            Some("2020-01-01T00:00:00Z"),
        )
        .await;
    fx.auth.insert("expired", Some(format!("Bearer {expired}")));
    (fx, tmp)
}

/// The result of a matrix run.
#[derive(Debug, Default)]
struct Outcome {
    cells: usize,
    mismatches: Vec<String>,
    cross_reads: usize,
    cross_writes: usize,
    covered: BTreeSet<(String, String)>,
}

async fn cell(fx: &Fixture, out: &mut Outcome, op: Op, caller: &str, ns: &str) {
    let (method, path, body) = fx.request(op, ns).await;
    let want = expected(op, caller, ns);
    let before = snapshot(&fx.dir).await;
    let reply = fx.send(caller, method.clone(), &path, body).await;
    let after = snapshot(&fx.dir).await;
    out.cells += 1;
    let label = format!("{caller} {method} {path} [{ns}]");
    if reply.status != want {
        out.mismatches.push(format!(
            "{label}: expected {want}, got {} {}",
            reply.status,
            reply.text.chars().take(200).collect::<String>()
        ));
    }
    if reply.status == 401
        && !reply
            .challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer"))
    {
        out.mismatches
            .push(format!("{label}: 401 without WWW-Authenticate: Bearer"));
    }
    if matches!(reply.status, 401 | 403) && before != after {
        out.mismatches
            .push(format!("{label}: refused but changed state"));
    }
    // A token of A: nothing of B changes and nothing of B is shown.
    if grant_of(caller).is_some_and(|(_, s)| s == Some(A)) {
        let touched = namespaces_of_events_after(&fx.dir, before.max_event.unwrap_or(0)).await;
        if touched.iter().any(|n| n != A) {
            out.cross_writes += 1;
            out.mismatches
                .push(format!("{label}: wrote events outside {A}: {touched:?}"));
        }
        let shows_b = reply.text.contains(&format!("\"{B}\""))
            || reply.text.contains(&format!("{B}."))
            || reply.text.contains(&format!("reader:{B}"))
            || reply.text.contains(&fx.committed[B]);
        if (200..300).contains(&reply.status) && shows_b {
            out.cross_reads += 1;
            out.mismatches
                .push(format!("{label}: the reply shows namespace {B}"));
        }
    }
}

/// Requests from A's own routes that reach for B's objects.
async fn reach_across(fx: &Fixture, out: &mut Outcome) {
    let b_batch = fx.committed[B].clone();
    let b_staged = fx.staged_with_data(B).await;
    let t = format!("/v1/namespaces/{A}/tables/t");
    let js = |v: Value| Some(("application/json", serde_json::to_vec(&v).unwrap()));
    let cases: Vec<(&str, Method, String, Body)> = vec![
        (
            "reader_a",
            Method::GET,
            format!("{t}/batches/{b_batch}"),
            None,
        ),
        (
            "reader_a",
            Method::GET,
            format!("{t}/batches/{b_batch}/pins"),
            None,
        ),
        (
            "reader_a",
            Method::POST,
            format!("{t}/read"),
            js(json!({"partitions": [PART], "batch_id": b_batch})),
        ),
        (
            "reader_a",
            Method::POST,
            format!("{t}/resolve"),
            js(json!({"partitions": [PART], "batch_id": b_batch})),
        ),
        (
            "reader_a",
            Method::GET,
            format!("/v1/events?namespace={B}"),
            None,
        ),
        (
            "reader_a",
            Method::GET,
            format!("/v1/events?namespace={B}&table=t"),
            None,
        ),
        (
            "writer_a",
            Method::POST,
            format!("{t}/publish"),
            js(json!({"items": [{"partition": PART, "batch_id": b_staged}]})),
        ),
        (
            "writer_a",
            Method::POST,
            format!("{t}/pins"),
            js(json!({"name": "stolen", "partition": PART, "batch_id": b_batch})),
        ),
        (
            "writer_a",
            Method::POST,
            format!("{t}/rollback"),
            js(json!({"partition": PART, "to": b_batch})),
        ),
        (
            "writer_a",
            Method::DELETE,
            format!("{t}/batches/{b_staged}"),
            None,
        ),
        (
            "writer_a",
            Method::PUT,
            format!("{t}/batches/{b_staged}/data"),
            Some(("application/vnd.apache.parquet", parquet(0..2))),
        ),
        (
            "admin_a",
            Method::POST,
            "/v1/tokens".to_owned(),
            js(json!({"name": "sneaky", "grants": [format!("writer:{B}")]})),
        ),
        (
            "admin_a",
            Method::POST,
            "/v1/tokens".to_owned(),
            js(json!({"name": "sneaky2", "grants": ["admin"]})),
        ),
        (
            "admin_a",
            Method::DELETE,
            "/v1/tokens/beta_reader".to_owned(),
            None,
        ),
    ];
    for (caller, method, path, body) in cases {
        let before = snapshot(&fx.dir).await;
        let reply = fx.send(caller, method.clone(), &path, body).await;
        let after = snapshot(&fx.dir).await;
        out.cells += 1;
        let label = format!("{caller} {method} {path} (reaching into {B})");
        if (200..300).contains(&reply.status) {
            out.mismatches.push(format!(
                "{label}: allowed with {} {}",
                reply.status,
                reply.text.chars().take(200).collect::<String>()
            ));
            if method == Method::GET || reply.text.contains(B) {
                out.cross_reads += 1;
            }
        }
        if !matches!(reply.status, 400 | 403 | 404 | 409 | 422) {
            out.mismatches
                .push(format!("{label}: status {}", reply.status));
        }
        if before != after {
            out.cross_writes += 1;
            out.mismatches.push(format!("{label}: changed state"));
        }
    }
}

async fn run_matrix(faults: &str) -> Outcome {
    let (fx, _tmp) = setup(faults).await;
    let mut out = Outcome::default();
    for op in OPS {
        let (m, route, _, _) = op.spec();
        out.covered.insert((m.to_string(), route));
        let namespaces: &[&str] = if op.per_namespace() { &[A, B] } else { &[A] };
        for ns in namespaces {
            for caller in CALLERS {
                cell(&fx, &mut out, op, caller, ns).await;
            }
        }
    }
    reach_across(&fx, &mut out).await;
    // Every token of A saw only A's namespaces, pins and events.
    for caller in ["reader_a", "writer_a", "admin_a"] {
        for path in ["/v1/namespaces", "/v1/pins", "/v1/events"] {
            let r = fx.send(caller, Method::GET, path, None).await;
            let text = r.text.clone();
            if r.status != 200 || text.contains(&format!("\"{B}\"")) || !text.contains(A) {
                out.cross_reads += usize::from(text.contains(B));
                out.mismatches.push(format!(
                    "{caller} GET {path}: {} {}",
                    r.status,
                    text.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    let verify = meta(&fx.dir).args(["verify"]).output().unwrap();
    if !verify.status.success() {
        out.mismatches.push(format!(
            "meta verify failed: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        ));
    }
    out
}

fn documented_operations() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(batchmeta::server::openapi()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let out = run_matrix("").await;
    let missing: Vec<_> = documented_operations()
        .difference(&out.covered)
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "endpoints without a matrix row: {missing:?}"
    );
    eprintln!(
        "authorization matrix: {} cells, {} mismatches, {} cross-namespace reads, {} cross-namespace writes",
        out.cells,
        out.mismatches.len(),
        out.cross_reads,
        out.cross_writes
    );
    assert!(
        out.mismatches.is_empty(),
        "{} mismatches:\n{}",
        out.mismatches.len(),
        out.mismatches.join("\n")
    );
    assert_eq!((out.cross_reads, out.cross_writes), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_catches_a_server_that_skips_authorization() {
    let out = run_matrix("skip_authorization").await;
    eprintln!(
        "negative control: {} cells, {} mismatches, {} cross-namespace writes",
        out.cells,
        out.mismatches.len(),
        out.cross_writes
    );
    assert!(
        out.mismatches.len() > 50,
        "the matrix missed the hole: {:?}",
        out.mismatches
    );
    assert!(out.cross_writes > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_principal_is_the_token_and_no_header_changes_it() {
    let (fx, _tmp) = setup("").await;
    // A publish that claims to be someone else.
    let b = fx.staged_with_data(A).await;
    let res = fx
        .http
        .post(format!(
            "{}/v1/namespaces/{A}/tables/t/publish",
            fx.server.base
        ))
        .header("authorization", fx.auth["writer_a"].clone().unwrap())
        .header("x-batchmeta-principal", "mallory")
        .json(&json!({"items": [{"partition": PART, "batch_id": b}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["events"][0]["principal"], "token:writer_a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_the_client_waits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("warehouse")).unwrap();
    let out = meta(dir)
        .args(["token", "create", "busy", "--role", "reader"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let server = start(dir, "", "5");
    let http = reqwest::Client::new();
    let mut limited = 0;
    for _ in 0..20 {
        let r = http
            .get(format!("{}/v1/namespaces", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            limited += 1;
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&retry));
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        } else {
            assert_eq!(r.status().as_u16(), 200);
        }
    }
    assert!(
        limited >= 10,
        "only {limited} of 20 rapid requests were limited"
    );
    // The Rust client (and so the CLI and Python) waits out a 429 and succeeds.
    let ms = batchmeta::Metastore::connect(
        Some(&server.base),
        &batchmeta::ConnectOptions {
            token: Some(batchmeta::model::Secret::new(token.clone())),
            direct_data: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for _ in 0..12 {
        ms.namespaces().await.unwrap();
    }
}

#[test]
fn serving_beyond_loopback_needs_auth_or_insecure() {
    let tmp = tempfile::tempdir().unwrap();
    let out = MetaServe::new(tmp.path())
        .bind("0.0.0.0:0")
        .command()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--auth tokens"), "{err}");
    assert!(
        !tmp.path().join(".batchmeta").exists(),
        "refused, yet created a catalog"
    );
}
