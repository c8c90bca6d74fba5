//! Snapshot transcripts of every subcommand — human output, JSON output,
//! errors and exit codes — run once against an embedded catalog and once
//! against a real `meta serve`. Both must print the same.

use crate::harness::{Env, Run, settings, transcript};

/// A running transcript: commands and what they printed, with known batch
/// IDs replaced by names (`[B1]`, ...) so that snapshots show which is which.
struct Scenario {
    env: Env,
    backend: &'static str,
    names: Vec<(String, String)>,
    buf: String,
}

impl Scenario {
    fn new(env: Env, backend: &'static str) -> Self {
        Self {
            env,
            backend,
            names: Vec::new(),
            buf: String::new(),
        }
    }

    /// Runs a command, adds it to the transcript and returns what it printed.
    fn step(&mut self, args: &[&str]) -> Run {
        let r = self.env.run(args);
        self.buf.push_str(&transcript(args, &r));
        r
    }

    /// Runs a command that must exit with `code`.
    fn expect(&mut self, code: i32, args: &[&str]) -> Run {
        let r = self.step(args);
        assert_eq!(r.code, code, "meta {args:?}:\n{}{}", r.stdout, r.stderr);
        r
    }

    /// Names a batch ID in later transcripts.
    fn name(&mut self, id: &str, name: &str) {
        // As wide as a batch ID, so that tables stay aligned.
        self.names
            .push((id.to_owned(), format!("{:.<20}", format!("[{name}]"))));
    }

    /// Snapshots the transcript so far and starts a new one.
    fn snap(&mut self, name: &str) {
        let mut text = std::mem::take(&mut self.buf);
        for (id, name) in &self.names {
            text = text.replace(id, name);
        }
        settings(&self.env, self.backend).bind(|| insta::assert_snapshot!(name, text));
    }
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn batch_of(r: &Run) -> String {
    json(r)["batch"].as_str().unwrap().to_owned()
}

/// Counts files under a directory, recursively.
fn count_files(dir: &std::path::Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn scenario(env: Env, backend: &'static str) {
    let mut s = Scenario::new(env, backend);
    let t = "sales.sold_items";

    // ---- namespaces
    s.expect(
        0,
        &[
            "ns",
            "create",
            "sales",
            "--description",
            "what we sold",
            "--owner",
            "data-eng",
        ],
    );
    s.expect(0, &["ns", "create", "staging", "--output", "json"]);
    s.expect(1, &["ns", "create", "sales"]);
    s.expect(1, &["ns", "create", "Bad-Name"]);
    s.expect(0, &["ns", "ls"]);
    s.expect(0, &["ns", "ls", "--output", "json"]);
    s.expect(0, &["ns", "show", "staging"]);
    s.expect(1, &["ns", "show", "nope"]);
    s.expect(1, &["ns", "show", "nope", "--output", "json"]);
    s.snap("namespaces");

    // ---- tables
    let pq = s.env.parquet("sold.parquet", &[1, 2, 3]);
    let pq = pq.display().to_string();
    let schema_json = s.env.file(
        "schema.json",
        r#"{"fields": [{"name": "sku", "data_type": "Utf8", "nullable": false, "dict_id": 0, "dict_is_ordered": false, "metadata": {}}], "metadata": {}}"#,
    );
    let schema_json = schema_json.display().to_string();
    s.expect(
        0,
        &[
            "table",
            "create",
            t,
            "--columns",
            "id:int64,price:float64,name:string",
            "--partition-by",
            "date:date",
            "--description",
            "one row per sold item",
            "--owner",
            "data-eng",
        ],
    );
    s.expect(
        0,
        &[
            "table",
            "create",
            "sales.from_parquet",
            "--schema-from",
            &pq,
            "--partition-by",
            "region:string,day:int",
            "--output",
            "json",
        ],
    );
    s.expect(
        0,
        &[
            "table",
            "create",
            "staging.skus",
            "--schema-json",
            &schema_json,
        ],
    );
    s.expect(1, &["table", "create", "sales.no_schema"]);
    s.expect(
        1,
        &["table", "create", "nope.items", "--columns", "id:int64"],
    );
    s.expect(
        1,
        &[
            "table",
            "create",
            "sales.bad_type",
            "--columns",
            "id:integer128",
        ],
    );
    s.expect(
        1,
        &[
            "table",
            "create",
            "sales.bad_key",
            "--columns",
            "id:int64",
            "--partition-by",
            "date:datetime",
        ],
    );
    s.expect(
        1,
        &[
            "table",
            "create",
            "sales.missing",
            "--schema-from",
            "missing.parquet",
        ],
    );
    s.expect(
        1,
        &["table", "create", "sales_no_dot", "--columns", "id:int64"],
    );
    s.expect(0, &["table", "ls"]);
    s.expect(0, &["table", "ls", "staging", "--output", "json"]);
    s.expect(0, &["table", "show", t]);
    s.expect(0, &["table", "show", t, "--output", "json"]);
    s.expect(1, &["table", "show", "sales.nope"]);
    s.expect(0, &["table", "drop", "staging.skus"]);
    s.expect(
        0,
        &["table", "drop", "sales.from_parquet", "--output", "json"],
    );
    s.expect(1, &["table", "drop", "sales.from_parquet"]);
    s.snap("tables");

    // ---- put: three batches of one partition, one of another
    s.env
        .file("day1.csv", "id,price,name\n1,9.5,apple\n2,3.25,pear\n");
    s.env.file("day1b.csv", "id,price,name\n3,1,plum\n");
    s.env
        .file("extra.csv", "id,price,name,colour\n1,2.5,fig,red\n");
    s.env.file("notanumber.csv", "id,price,name\n1,cheap,fig\n");
    s.env.parquet("more.parquet", &[10, 11, 12]);
    let warehouse_before = count_files(&s.env.path().join("catalog"));
    let r = s.expect(
        0,
        &[
            "put",
            t,
            "date=2016-10-31",
            "day1.csv",
            "day1b.csv",
            "-m",
            "first load",
            "--output",
            "json",
        ],
    );
    let b1 = batch_of(&r);
    s.name(&b1, "B1");
    let r = s.expect(
        0,
        &[
            "put",
            t,
            "date=2016-10-31",
            "more.parquet",
            "--output",
            "json",
        ],
    );
    let b2 = batch_of(&r);
    s.name(&b2, "B2");
    let r = s.expect(
        0,
        &[
            "put",
            t,
            "date=2016-10-31",
            "sold.parquet",
            "--expect",
            &b2,
            "-m",
            "third",
        ],
    );
    let b3 = r.stdout.split_whitespace().nth(4).unwrap().to_owned();
    s.name(&b3, "B3");
    let r = s.expect(
        0,
        &[
            "put",
            t,
            "2016-11-01",
            "sold.parquet",
            "--expect",
            "none",
            "--output",
            "json",
        ],
    );
    let b4 = batch_of(&r);
    s.name(&b4, "B4");
    s.snap("put");

    // ---- bad input: exit 1, a clear message, nothing changes
    let audit_before = s.env.ok(&["audit", "--output", "json"]).stdout;
    let files_before = count_files(&s.env.path().join("catalog"));
    let wh_before = count_files(&s.env.path().join("warehouse"));
    s.expect(1, &["put", "sales.nope", "date=2016-10-31", "day1.csv"]);
    s.expect(1, &["put", t, "date=2016-13-45", "day1.csv"]);
    s.expect(1, &["put", t, "day=2016-10-31", "day1.csv"]);
    s.expect(1, &["put", t, "date=2016-10-31", "missing.csv"]);
    s.expect(1, &["put", t, "date=2016-10-31", "extra.csv"]);
    s.expect(1, &["put", t, "date=2016-10-31", "notanumber.csv"]);
    s.expect(
        1,
        &["put", t, "date=2016-10-31", "day1.csv", "--expect", "123"],
    );
    s.expect(
        1,
        &["put", t, "date=2016-10-31", "day1.csv", "--expect", &b1],
    );
    s.expect(
        1,
        &[
            "put",
            t,
            "date=2016-10-31",
            "day1.csv",
            "--expect",
            &b1,
            "--output",
            "json",
        ],
    );
    s.expect(
        1,
        &["put", t, "date=2016-10-31", "day1.csv", "--expect", "none"],
    );
    s.expect(
        1,
        &[
            "put",
            t,
            "date=2016-10-31",
            "day1.csv",
            "--schema-mode",
            "loose",
        ],
    );
    s.expect(1, &["put", t, "date=2016-10-31"]);
    s.snap("bad_input");
    assert_eq!(
        s.env.ok(&["audit", "--output", "json"]).stdout,
        audit_before,
        "bad input appended events"
    );
    assert_eq!(
        count_files(&s.env.path().join("catalog")),
        files_before,
        "bad input left files (embedded)"
    );
    assert_eq!(
        count_files(&s.env.path().join("warehouse")),
        wh_before,
        "bad input left files (server)"
    );
    assert!(files_before >= warehouse_before);

    // ---- partitions
    s.expect(0, &["partitions", t]);
    s.expect(0, &["partitions", t, "--output", "json"]);
    s.expect(0, &["partitions", t, "--prefix", "date=2016-11"]);
    s.expect(
        0,
        &[
            "partitions",
            t,
            "--from",
            "2016-11-01",
            "--to",
            "2016-12-31",
        ],
    );
    s.expect(1, &["partitions", "sales.nope"]);
    s.snap("partitions");

    // ---- history and rollback
    s.expect(0, &["history", t, "date=2016-10-31"]);
    s.expect(0, &["history", t, "2016-10-31", "--output", "json"]);
    s.expect(1, &["history", t, "date=31-10-2016"]);
    s.expect(
        0,
        &["rollback", t, "date=2016-10-31", "-m", "bad upstream data"],
    );
    s.expect(1, &["rollback", t, "date=2016-10-31", "--expect", &b3]);
    s.expect(
        0,
        &[
            "rollback",
            t,
            "date=2016-10-31",
            "--expect",
            &b2,
            "--output",
            "json",
        ],
    );
    s.expect(1, &["rollback", t, "date=2016-10-31"]);
    s.expect(
        0,
        &[
            "rollback",
            t,
            "date=2016-10-31",
            "--to",
            &b3,
            "-m",
            "roll forward",
        ],
    );
    s.expect(1, &["rollback", t, "date=2016-10-31", "--to", "2016"]);
    s.expect(
        1,
        &[
            "rollback",
            t,
            "date=2016-10-31",
            "--to",
            "20000101000000000000",
        ],
    );
    s.expect(0, &["history", t, "date=2016-10-31"]);
    s.snap("history_rollback");

    // ---- files and get
    s.expect(0, &["files", t, "date=2016-10-31"]);
    s.expect(0, &["files", t, "--output", "json"]);
    s.expect(0, &["files", t, "date=2016-10-31", "--batch", &b1]);
    s.expect(
        1,
        &["files", t, "date=2016-10-31", "--batch", &b1, "--pin", "x"],
    );
    s.expect(1, &["files", t, "date=2020-01-01"]);
    s.expect(
        0,
        &["get", t, "date=2016-10-31", "--batch", &b1, "-o", "b1.csv"],
    );
    let csv = std::fs::read_to_string(s.env.path().join("b1.csv")).unwrap();
    s.buf.push_str(&format!("$ cat b1.csv\n{csv}\n"));
    s.expect(
        0,
        &[
            "get",
            t,
            "date=2016-10-31",
            "--columns",
            "id,date",
            "-o",
            "ids.arrow",
            "--output",
            "json",
        ],
    );
    s.expect(0, &["get", t, "date=2016-10-31", "-o", "current.parquet"]);
    s.expect(1, &["get", t, "date=2016-10-31", "-o", "out.txt"]);
    s.expect(
        1,
        &[
            "get",
            t,
            "date=2016-10-31",
            "--columns",
            "nope",
            "-o",
            "x.parquet",
        ],
    );
    s.expect(
        1,
        &[
            "get",
            t,
            "date=2016-10-31",
            "--pin",
            "nobody",
            "-o",
            "x.parquet",
        ],
    );
    s.expect(
        1,
        &[
            "get",
            t,
            "date=2016-10-31",
            "--as-of",
            "2000-01-01",
            "-o",
            "x.parquet",
        ],
    );
    assert!(
        !s.env.path().join("x.parquet").exists(),
        "a failed get left a file"
    );
    // What `get` wrote goes back in with `put`, into its own partition only.
    s.expect(1, &["put", t, "date=2016-12-01", "current.parquet"]);
    let r = s.expect(
        0,
        &[
            "put",
            t,
            "date=2016-10-31",
            "current.parquet",
            "--output",
            "json",
        ],
    );
    let b5 = batch_of(&r);
    s.name(&b5, "B5");
    s.snap("files_get");

    // ---- pins
    s.expect(
        0,
        &[
            "pin",
            "create",
            t,
            "weekly_report",
            "--partition",
            "date=2016-10-31",
            "--reason",
            "Q4 numbers",
        ],
    );
    s.expect(
        0,
        &[
            "pin",
            "create",
            t,
            "first_load",
            "--partition",
            "date=2016-10-31",
            "--batch",
            &b1,
            "--owner",
            "finance",
            "--expires",
            "30d",
            "--output",
            "json",
        ],
    );
    s.expect(
        0,
        &[
            "pin",
            "create",
            t,
            "yearly",
            "--as-of",
            "2016-12-31T23:59:59Z",
        ],
    );
    s.expect(
        1,
        &[
            "pin",
            "create",
            t,
            "weekly_report",
            "--partition",
            "date=2016-10-31",
        ],
    );
    s.expect(1, &["pin", "create", t, "nothing"]);
    s.expect(0, &["pin", "ls", t]);
    s.expect(0, &["pin", "ls", "--output", "json"]);
    s.expect(0, &["files", t, "date=2016-10-31", "--pin", "first_load"]);
    s.expect(0, &["pin", "rm", t, "yearly"]);
    s.expect(1, &["pin", "rm", t, "yearly"]);
    s.snap("pins");

    // ---- audit
    s.expect(0, &["audit", "--table", t, "--since", "1h"]);
    s.expect(0, &["audit", "--action", "rollback", "--output", "json"]);
    s.expect(
        0,
        &[
            "audit",
            "--table",
            t,
            "--partition",
            "date=2016-10-31",
            "--action",
            "publish",
            "--limit",
            "2",
        ],
    );
    s.expect(0, &["audit", "--after", "20", "--output", "json"]);
    s.expect(0, &["audit", "--principal", "nobody"]);
    s.expect(0, &["audit", "--until", "2000-01-01"]);
    s.expect(1, &["audit", "--action", "bogus"]);
    s.expect(1, &["audit", "--since", "yesterday"]);
    s.expect(1, &["audit", "--partition", "date=2016-10-31"]);
    s.snap("audit");

    // ---- wait
    s.expect(0, &["wait", t, "date=2016-10-31"]);
    s.expect(
        0,
        &[
            "wait",
            t,
            "date=2016-10-31",
            "--after",
            &b2,
            "--output",
            "json",
        ],
    );
    s.expect(
        1,
        &[
            "wait",
            t,
            "date=2016-10-31",
            "--after",
            &b5,
            "--timeout",
            "1s",
        ],
    );
    s.expect(1, &["wait", t, "date=2016-10-31", "--timeout", "soon"]);
    s.snap("wait");

    // ---- verify: clean, then a missing file
    s.expect(0, &["verify"]);
    s.expect(0, &["verify", "--output", "json"]);
    let files = json(
        &s.env
            .ok(&["files", t, "date=2016-11-01", "--output", "json"]),
    );
    let uri = files[0]["uri"].as_str().unwrap();
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    std::fs::remove_file(path).unwrap();
    s.expect(1, &["verify"]);
    s.expect(1, &["verify", "--output", "json"]);
    s.snap("verify");
}

#[test]
fn embedded_transcripts() {
    scenario(Env::embedded(), "embedded");
}

#[test]
fn server_transcripts() {
    scenario(Env::server(), "server");
}
