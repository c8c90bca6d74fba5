//! `meta get`: one partition (at any version) into a local file or stdout.

use batchmeta::model::{PartitionSpec, TableIdent};
use batchmeta::{ReadRequest, ResolveRequest, Result};
use futures::StreamExt;
use serde_json::json;

use super::version;
use crate::args::GetArgs;
use crate::local;
use crate::progress::Progress;
use crate::settings::Session;

pub(crate) async fn run(s: &Session, a: &GetArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let partition = s.ms.partition(&ident, &spec).await?;
    let resolve = ResolveRequest {
        partitions: Some(vec![spec]),
        version: version(&a.version)?,
    };
    // Resolve first: the batch read is the one reported.
    let resolved = s.ms.resolve(&ident, &resolve).await?;
    let batch = resolved.first().map(|r| r.batch.id.clone());
    let req = ReadRequest {
        resolve: match &batch {
            Some(b) => ResolveRequest {
                partitions: resolve.partitions.clone(),
                version: batchmeta::model::Version::Batch(b.clone()),
            },
            None => resolve,
        },
        columns: a.columns.clone(),
        filters: Vec::new(),
    };
    let ms = super::lineage::with_run(&s.ms, &a.run)?;
    let (schema, mut stream) = ms.read(&ident, &req).await?;
    let mut sink = local::open_sink(&a.output_file, &schema)?;
    let progress = Progress::start(&format!("get {ident} {partition}"));
    let mut rows = 0usize;
    while let Some(next) = stream.next().await {
        let rb = match next {
            Ok(rb) => rb,
            Err(e) => {
                progress.finish();
                sink.abort();
                return Err(e);
            }
        };
        rows += rb.num_rows();
        progress.set(format!("get {ident} {partition}: {rows} rows"));
        sink.write(&rb)?;
    }
    progress.finish();
    sink.finish()?;
    let to_stdout = a.output_file.as_os_str() == "-";
    let dest = a.output_file.display().to_string();
    let batch_text = batch.as_ref().map(ToString::to_string);
    if s.out.json() && !to_stdout {
        return s.out.value(&json!({
            "table": ident.to_string(),
            "partition": partition.path(),
            "batch": batch_text,
            "rows": rows,
            "output": dest,
        }));
    }
    s.out.note(&format!(
        "wrote {rows} rows of {ident} {partition} (batch {}) to {}",
        batch_text.as_deref().unwrap_or("-"),
        if to_stdout { "stdout" } else { &dest }
    ));
    Ok(())
}
