//! The retention transcript: a table's policy set and refused, `gc`'s dry
//! run (default grace: everything is too young), refusals, the dry run and
//! the apply with no grace, and what `history` and `audit` then show.

use super::Scenario;

/// Runs after the lineage steps.
pub(super) fn steps(s: &mut Scenario) {
    let (t, p) = ("sales.sold_items", "date=2016-10-31");
    s.expect(
        0,
        &["table", "set", t, "--retention", "keep_last=2,max_age=30d"],
    );
    s.expect(1, &["table", "set", t, "--retention", "keep_last=0"]);
    s.expect(1, &["table", "set", t, "--retention", "colour=red"]);
    s.expect(0, &["table", "set", t, "--retention", "max_age=none"]);
    s.expect(
        0,
        &[
            "ns",
            "set",
            "sales",
            "--retention",
            "keep_inputs_of_pinned=true",
        ],
    );
    s.expect(0, &["gc", t]);
    s.expect(1, &["gc", t, "--grace", "5m"]);
    s.expect(1, &["gc", t, "--older-than", "soon"]);
    s.expect(1, &["gc", "sales.nope"]);
    let now = ["--keep-last", "1", "--grace", "0s", "--force-grace"];
    s.expect(0, &[&["gc", t][..], &now].concat());
    s.expect(
        0,
        &[&["gc", t, "--apply", "--output", "json"][..], &now].concat(),
    );
    s.expect(0, &[&["gc", t, "--apply"][..], &now].concat());
    s.expect(0, &["history", t, p]);
    s.expect(0, &["audit", "--action", "expire", "--limit", "3"]);
    // Expired batches' files are expected gone; the live file the verify
    // transcript removed is still reported.
    s.expect(1, &["verify"]);
    s.snap("retention");
}
