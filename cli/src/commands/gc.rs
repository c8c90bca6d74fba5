//! `meta gc`: retention's dry run (the default) or its apply.

use batchmeta::Result;
use batchmeta::api::GcBody;

use crate::args::GcArgs;
use crate::output::Table;
use crate::settings::Session;

pub(crate) async fn run(s: &Session, a: &GcArgs) -> Result<()> {
    // NS or NS.TABLE, read like the HTTP body so both refuse the same input.
    let (namespace, table) = match a.scope.as_deref().map(|s| s.split_once('.')) {
        Some(Some((ns, t))) => (Some(ns.to_owned()), Some(t.to_owned())),
        Some(None) => (a.scope.clone(), None),
        None => (None, None),
    };
    let req = GcBody {
        namespace,
        table,
        older_than: a.older_than.clone(),
        keep_last: a.keep_last,
        grace: a.grace.clone(),
        force_grace: a.force_grace,
        apply: a.apply,
    }
    .request()?;
    let report = s.ms.gc(&s.ctx, &req).await?;
    if s.out.json() {
        return s.out.value(&report);
    }
    let mut t = Table::new(&[
        "ACTION",
        "TABLE",
        "PARTITION",
        "BATCH",
        "FILES",
        "BYTES",
        "WHY",
    ]);
    let verb = if report.applied {
        "deleted"
    } else {
        "would delete"
    };
    for c in &report.collected {
        t.row(vec![
            verb.to_owned(),
            c.table.clone(),
            c.partition.clone(),
            c.batch.to_string(),
            c.files.len().to_string(),
            c.bytes.to_string(),
            format!("{:?}", c.reason).to_lowercase(),
        ]);
    }
    for o in &report.orphans {
        t.row(vec![
            verb.to_owned(),
            o.table.clone(),
            String::new(),
            o.batch.to_string(),
            "1".to_owned(),
            o.bytes.to_string(),
            format!("orphan (recorded by no batch): {}", o.path),
        ]);
    }
    for k in report.survivors.iter().chain(&report.skipped) {
        t.row(vec![
            "keep".to_owned(),
            k.table.clone(),
            k.partition.clone(),
            k.batch.to_string(),
            String::new(),
            String::new(),
            k.why.clone(),
        ]);
    }
    s.out.text(&t.render())?;
    s.out.text(&format!(
        "{}: {} batches, {} files, {} bytes{}\n",
        if report.applied {
            "deleted"
        } else {
            "dry run, would delete"
        },
        report.batches,
        report.files,
        report.bytes,
        if report.applied {
            ""
        } else {
            "; rerun with --apply to delete"
        }
    ))
}
