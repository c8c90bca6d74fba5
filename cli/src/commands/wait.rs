//! `meta wait`: block until a partition is published (after a batch).

use batchmeta::model::{BatchId, PartitionSpec, TableIdent};
use batchmeta::{Code, Error, Result};

use crate::args::WaitArgs;
use crate::output::views::BatchView;
use crate::output::{bytes, time};
use crate::settings::Session;

pub(crate) async fn run(s: &Session, a: &WaitArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let after = a.after.as_deref().map(BatchId::parse).transpose()?;
    let timeout = time::parse_duration(&a.timeout)?;
    let partition = s.ms.partition(&ident, &spec).await?;
    let Some(resolved) = s.ms.wait(&ident, &spec, after.as_ref(), timeout).await? else {
        let what = match &after {
            Some(b) => format!("a batch after {b}"),
            None => "a first batch".to_owned(),
        };
        return Err(Error::invalid(
            Code::WaitTimeout,
            format!(
                "timed out after {} waiting for {what} of {ident} {partition}; hint: check that the writer ran (`meta audit --table {ident} --since 1d`), or rerun with a longer --timeout",
                a.timeout
            ),
        ));
    };
    let b = &resolved.batch;
    if s.out.json() {
        return s.out.value(&BatchView::from(b));
    }
    s.out.text(&format!(
        "{ident} {partition} is at batch {} ({} rows, {})\n",
        b.id,
        b.rows,
        bytes(b.bytes)
    ))
}
