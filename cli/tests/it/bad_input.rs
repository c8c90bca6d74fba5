//! The bad-input corpus through the `meta` binary, embedded and against a
//! real `meta serve`: every case exits 1 with a short `error: ...` message
//! (no panic), and the catalog's row counts, its newest event id and the
//! warehouse listing are unchanged after every case. Ends with `meta verify`.

use std::path::{Path, PathBuf};

use crate::common::rows::{self, State};
use crate::harness::Env;

/// Row counts of every catalog table, the newest event id and the
/// warehouse's files.
fn state(db: &Path, warehouse: &Path) -> State {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(rows::state(&rows::sqlite_url(db), warehouse))
}

const T: &str = "sales.sold_items";
const P: &str = "date=2016-10-31/region=us";

fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("dotdot", "..".into()),
        ("traversal", "../../etc".into()),
        ("slash", "a/b".into()),
        ("backslash", "a\\b".into()),
        ("percent-encoded dotdot", "%2e%2e".into()),
        ("double-encoded dotdot", "%252e%252e".into()),
        ("control character", "a\u{1}b".into()),
        ("newline", "a\nb".into()),
        ("fullwidth look-alike", "ｓａｌｅｓ".into()),
        ("zero-width space", "sa\u{200b}les".into()),
        ("10,000 characters", "x".repeat(10_000)),
        ("empty", String::new()),
        ("uppercase", "SALES".into()),
    ]
}

fn bad_partitions() -> Vec<(&'static str, String)> {
    let r = |v: &str| format!("date=2016-10-31/region={v}");
    vec![
        ("dotdot", r("..")),
        ("escaped slash", r("a%2Fb")),
        ("double-escaped dotdot", r("%252E%252E")),
        ("backslash", r("a\\b")),
        ("escaped nul", r("a%00b")),
        ("control character", r("a\u{1}b")),
        ("fullwidth slash", r("a／b")),
        ("zero-width space", r("u\u{200b}s")),
        ("10,000 characters", r(&"x".repeat(10_000))),
        ("empty value", r("")),
        ("bad date", "date=2016-13-45/region=us".into()),
        ("missing key", "date=2016-10-31".into()),
        ("unknown key", "day=2016-10-31/region=us".into()),
        ("traversal", "../date=2016-10-31/region=us".into()),
    ]
}

/// Every case as `meta` arguments.
fn corpus(good: &str, other_partition: &str) -> Vec<(String, Vec<String>)> {
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    let v = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    for (label, n) in bad_names() {
        cases.push((format!("ns create {label}"), v(&["ns", "create", &n])));
        cases.push((
            format!("table create {label}"),
            v(&[
                "table",
                "create",
                &format!("sales.{n}"),
                "--columns",
                "id:int64",
            ]),
        ));
        cases.push((
            format!("partition key {label}"),
            v(&[
                "table",
                "create",
                "sales.fresh",
                "--columns",
                "id:int64",
                "--partition-by",
                &format!("{n}:string"),
            ]),
        ));
        cases.push((
            format!("put into namespace {label}"),
            v(&["put", &format!("{n}.sold_items"), P, "good.parquet"]),
        ));
        cases.push((
            format!("pin {label}"),
            v(&["pin", "create", T, &n, "--partition", P, "--batch", good]),
        ));
    }
    for (label, p) in bad_partitions() {
        cases.push((format!("put {label}"), v(&["put", T, &p, "good.parquet"])));
        cases.push((format!("history {label}"), v(&["history", T, &p])));
        cases.push((format!("rollback {label}"), v(&["rollback", T, &p])));
    }
    for (label, id) in [
        ("short", "2016"),
        ("letters", "abcdefghijklmnopqrst"),
        ("traversal", "../20161102234252000000"),
        ("trailing letter", "2016110223425200000x"),
    ] {
        cases.push((
            format!("rollback to {label}"),
            v(&["rollback", T, P, "--to", id]),
        ));
        cases.push((
            format!("put expecting {label}"),
            v(&["put", T, P, "good.parquet", "--expect", id]),
        ));
        cases.push((
            format!("files of batch {label}"),
            v(&["files", T, "--batch", id]),
        ));
    }
    cases.push((
        "rollback to another partition's batch".into(),
        v(&["rollback", T, P, "--to", other_partition]),
    ));
    cases.push((
        "pin another partition's batch".into(),
        v(&[
            "pin",
            "create",
            T,
            "reader",
            "--partition",
            P,
            "--batch",
            other_partition,
        ]),
    ));
    cases.push((
        "unknown batch".into(),
        v(&["rollback", T, P, "--to", "20000101000000000000"]),
    ));
    for (label, file) in [
        ("truncated parquet", "truncated.parquet"),
        ("not parquet", "not.parquet"),
        ("empty parquet", "empty.parquet"),
        ("wrong schema", "wrong.parquet"),
        ("missing file", "missing.parquet"),
    ] {
        cases.push((format!("put {label}"), v(&["put", T, P, file])));
    }
    cases
}

/// Runs the corpus (only the cases whose label starts with `only`, if
/// given) with `BATCHMETA_FAULTS=faults`; returns the case count and the
/// failures.
fn run_corpus(
    env: &Env,
    db: &Path,
    warehouse: &Path,
    faults: &str,
    only: Option<&str>,
) -> (usize, Vec<String>) {
    env.ok(&["ns", "create", "sales"]);
    env.ok(&[
        "table",
        "create",
        T,
        "--columns",
        "id:int64,price:float64,name:string",
        "--partition-by",
        "date:date,region:string",
    ]);
    env.parquet("good.parquet", &[1, 2, 3]);
    let put = |p: &str| {
        let out = env
            .ok(&["put", T, p, "good.parquet", "--output", "json"])
            .stdout;
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["batch"].as_str().unwrap().to_owned()
    };
    let good = put(P);
    let other = put("date=2016-10-31/region=eu");
    // Broken files.
    let ok = std::fs::read(env.path().join("good.parquet")).unwrap();
    std::fs::write(env.path().join("truncated.parquet"), &ok[..ok.len() - 10]).unwrap();
    std::fs::write(env.path().join("not.parquet"), b"hello, world").unwrap();
    std::fs::write(env.path().join("empty.parquet"), b"").unwrap();
    {
        use std::sync::Arc;
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "other",
            arrow_schema::DataType::Utf8,
            true,
        )]));
        let rb = arrow_array::RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(arrow_array::StringArray::from(vec!["x"]))],
        )
        .unwrap();
        let f = std::fs::File::create(env.path().join("wrong.parquet")).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&rb).unwrap();
        w.close().unwrap();
    }
    let cases: Vec<_> = corpus(&good, &other)
        .into_iter()
        .filter(|(l, _)| only.is_none_or(|o| l.starts_with(o)))
        .collect();
    let mut before = state(db, warehouse);
    assert!(!before.files.is_empty(), "the listing sees the warehouse");
    let mut failures = Vec::new();
    for (label, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env
            .cmd(&args)
            .env("BATCHMETA_FAULTS", faults)
            .output()
            .unwrap();
        let r = crate::harness::Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let first = r.stderr.lines().next().unwrap_or("");
        if r.code != 1 {
            failures.push(format!(
                "{label}: exit {} (want 1): {}",
                r.code,
                cut(&r.stderr)
            ));
        } else if !first.starts_with("error: ") {
            failures.push(format!(
                "{label}: stderr does not start with `error: `: {}",
                cut(&r.stderr)
            ));
        } else if r.stderr.contains("panicked") || r.stderr.chars().count() > 2000 {
            failures.push(format!(
                "{label}: a panic or an overlong message: {}",
                cut(&r.stderr)
            ));
        }
        let after = state(db, warehouse);
        if after != before {
            failures.push(format!("{label}: changed rows, events or files"));
            before = after;
        }
    }
    (cases.len(), failures)
}

fn check(env: Env, db: PathBuf, wh: PathBuf) {
    let (n, failures) = run_corpus(&env, &db, &wh, "", None);
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(n >= 100, "{n} cases");
    let v = env.ok(&["verify"]);
    assert!(v.stdout.contains("no violations"), "{}", v.stdout);
}

fn cut(s: &str) -> String {
    s.chars().take(300).collect()
}

#[test]
fn bad_input_corpus_embedded() {
    let env = Env::embedded();
    let db = env.path().join("catalog/catalog.db");
    let wh = env.path().join("catalog/warehouse");
    check(env, db, wh);
}

#[test]
fn bad_input_corpus_server() {
    let env = Env::server();
    let db = env.path().join("catalog.db");
    let wh = env.path().join("warehouse");
    check(env, db, wh);
}

/// Negative control: with the test-only fault `skip_name_validation` in
/// `meta`, the namespace cases must be reported (accepted, and writing).
#[test]
fn bad_input_harness_catches_skipped_name_validation() {
    let env = Env::embedded();
    let db = env.path().join("catalog/catalog.db");
    let wh = env.path().join("catalog/warehouse");
    let (n, failures) = run_corpus(&env, &db, &wh, "skip_name_validation", Some("ns create"));
    assert!(n >= 10, "{n} cases");
    assert!(
        failures.len() >= 5 && failures.iter().any(|f| f.contains("changed rows")),
        "the harness missed the fault: {failures:#?}"
    );
}
