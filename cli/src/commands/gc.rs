//! `meta gc`: retention's dry run (the default) or its apply.

use batchmeta::Result;
use batchmeta::metastore::GcRequest;
use batchmeta::model::time::parse_duration;
use batchmeta::model::{NamespaceName, TableIdent};
use chrono::TimeDelta;

use crate::args::GcArgs;
use crate::output::Table;
use crate::settings::Session;

fn delta(s: Option<&str>) -> Result<Option<TimeDelta>> {
    s.map(|s| parse_duration(s).map(|d| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)))
        .transpose()
}

pub(crate) async fn run(s: &Session, a: &GcArgs) -> Result<()> {
    let (namespace, table) = match a.scope.as_deref() {
        Some(scope) if scope.contains('.') => (None, Some(TableIdent::parse(scope)?)),
        Some(ns) => (Some(NamespaceName::new(ns)?), None),
        None => (None, None),
    };
    let req = GcRequest {
        namespace,
        table,
        older_than: delta(a.older_than.as_deref())?,
        keep_last: a.keep_last,
        grace: delta(a.grace.as_deref())?,
        force_grace: a.force_grace,
        apply: a.apply,
    };
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
