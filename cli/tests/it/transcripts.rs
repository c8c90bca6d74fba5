//! Snapshot transcripts of every subcommand — human output, JSON output,
//! errors and exit codes — run once against an embedded catalog and once
//! against a real `meta serve`. Both must print the same.

mod data;
mod lineage;
mod retention;

use crate::harness::{Env, Run, settings, transcript};

/// A running transcript: commands and what they printed, with known batch
/// IDs replaced by names (`[B1]`, ...) so that snapshots show which is which.
pub(super) struct Scenario {
    pub(super) env: Env,
    backend: &'static str,
    names: Vec<(String, String)>,
    pub(super) buf: String,
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
    pub(super) fn step(&mut self, args: &[&str]) -> Run {
        let r = self.env.run(args);
        self.buf.push_str(&transcript(args, &r));
        r
    }

    /// Runs a command that must exit with `code`.
    pub(super) fn expect(&mut self, code: i32, args: &[&str]) -> Run {
        let r = self.step(args);
        assert_eq!(r.code, code, "meta {args:?}:\n{}{}", r.stdout, r.stderr);
        r
    }

    /// Names a batch ID in later transcripts.
    pub(super) fn name(&mut self, id: &str, name: &str) {
        // As wide as a batch ID, so that tables stay aligned.
        self.names
            .push((id.to_owned(), format!("{:.<20}", format!("[{name}]"))));
    }

    /// Snapshots the transcript so far and starts a new one.
    pub(super) fn snap(&mut self, name: &str) {
        let mut text = std::mem::take(&mut self.buf);
        for (id, name) in &self.names {
            text = text.replace(id, name);
        }
        settings(&self.env, self.backend).bind(|| insta::assert_snapshot!(name, text));
    }
}

pub(super) fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

pub(super) fn batch_of(r: &Run) -> String {
    json(r)["batch"].as_str().unwrap().to_owned()
}

/// Counts files under a directory, recursively.
pub(super) fn count_files(dir: &std::path::Path) -> usize {
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
    let files_before = count_files(&s.env.path().join("catalog/warehouse"));
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
        count_files(&s.env.path().join("catalog/warehouse")),
        files_before,
        "bad input left files (embedded)"
    );
    assert_eq!(
        count_files(&s.env.path().join("warehouse")),
        wh_before,
        "bad input left files (server)"
    );
    assert!(
        files_before + wh_before > 0,
        "the file check looked at the warehouse"
    );

    data::steps(&mut s, &[&b1, &b2, &b3, &b4]);
    lineage::steps(&mut s);
    retention::steps(&mut s);
}

#[test]
fn embedded_transcripts() {
    scenario(Env::embedded(), "embedded");
}

#[test]
fn server_transcripts() {
    scenario(Env::server(), "server");
}
