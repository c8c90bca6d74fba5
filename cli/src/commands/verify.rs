//! `meta verify`: every invariant; exit 1 when any is broken.

use batchmeta::{Code, Error, Result};
use serde_json::json;

use crate::output::Table;
use crate::settings::Session;

pub(crate) async fn run(s: &Session) -> Result<()> {
    let report = s.ms.verify().await?;
    let n = report.violations.len();
    if s.out.json() {
        s.out.value(&json!({
            "clean": report.is_clean(),
            "batches": report.batches,
            "files": report.files,
            "violations": report.violations,
        }))?;
    } else if report.is_clean() {
        s.out.text(&format!(
            "ok: {} committed batches and {} files checked, no violations\n",
            report.batches, report.files
        ))?;
    } else {
        let mut t = Table::new(&["INVARIANT", "CODE", "SUBJECT", "MESSAGE"]);
        for v in &report.violations {
            t.row(vec![
                v.invariant.to_string(),
                v.code.clone(),
                v.subject.clone(),
                v.message.clone(),
            ]);
        }
        s.out.text(&t.render())?;
    }
    if n == 0 {
        Ok(())
    } else {
        Err(Error::invalid(
            Code::ViolationsFound,
            format!(
                "{n} violation{} found in {} batches and {} files; hint: nothing was changed; look at each subject with `meta history`, and restore missing files from a backup or roll the partition back to a healthy batch",
                if n == 1 { "" } else { "s" },
                report.batches,
                report.files
            ),
        ))
    }
}
