//! The lineage transcript: a `get` and a `put` of one `--run`, the
//! lineage both ways, a rollback's impact (dry run and real), `stale`, and
//! refused inputs.

use super::{Scenario, batch_of};

/// Runs after the other steps; `sales.sold_items date=2016-10-31` is at B3.
pub(super) fn steps(s: &mut Scenario) {
    let (t, p) = ("sales.sold_items", "date=2016-10-31");
    let sum = "sales.summary";
    s.expect(
        0,
        &[
            "table",
            "create",
            sum,
            "--columns",
            "id:int64,price:float64,name:string",
            "--partition-by",
            "date:date",
        ],
    );
    s.expect(0, &["get", t, p, "-o", "lin.parquet", "--run", "run-7"]);
    let r = s.expect(
        0,
        &[
            "put",
            sum,
            p,
            "lin.parquet",
            "--run",
            "run-7",
            "--job",
            "nightly",
            "--output",
            "json",
        ],
    );
    let s1 = batch_of(&r);
    s.name(&s1, "S1");
    s.expect(0, &["lineage", sum, p]);
    s.expect(0, &["lineage", sum, p, "--output", "json"]);
    s.expect(0, &["lineage", t, p, "--down"]);
    s.expect(1, &["lineage", t, p, "--depth", "0"]);
    s.expect(1, &["lineage", t, p, "--up", "--down"]);
    s.expect(
        1,
        &[
            "put",
            sum,
            p,
            "lin.parquet",
            "--input",
            "20000101000000000000",
        ],
    );
    s.expect(1, &["put", sum, p, "lin.parquet", "--input", "yesterday"]);
    s.expect(0, &["stale"]);
    s.expect(0, &["rollback", t, p, "--dry-run"]);
    s.expect(0, &["rollback", t, p, "--dry-run", "--output", "json"]);
    s.expect(0, &["rollback", t, p, "-m", "bad upstream data"]);
    s.expect(0, &["stale", "sales"]);
    s.expect(0, &["stale", "sales.summary", "--output", "json"]);
    s.expect(1, &["stale", "Bad-Name"]);
    s.snap("lineage");
}
