//! The second half of the transcripts: partitions, history and rollback,
//! files and get, pins, audit, wait and verify.

use super::{Scenario, batch_of, json};

/// Runs the steps after the puts; `b` holds the batch IDs B1-B4.
pub(super) fn steps(s: &mut Scenario, b: &[&str; 4]) {
    let t = "sales.sold_items";
    let [b1, b2, b3, _b4] = *b;
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
    s.expect(1, &["rollback", t, "date=2016-10-31", "--expect", b3]);
    s.expect(
        0,
        &[
            "rollback",
            t,
            "date=2016-10-31",
            "--expect",
            b2,
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
            b3,
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
    s.expect(0, &["files", t, "date=2016-10-31", "--batch", b1]);
    s.expect(
        1,
        &["files", t, "date=2016-10-31", "--batch", b1, "--pin", "x"],
    );
    s.expect(1, &["files", t, "date=2020-01-01"]);
    s.expect(
        0,
        &["get", t, "date=2016-10-31", "--batch", b1, "-o", "b1.csv"],
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
            b1,
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
            b2,
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
