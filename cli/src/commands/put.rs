//! `meta put`: local files into one new batch of a partition (stage, write
//! each file, publish). Anything that fails before the publish discards the
//! staged batch, so a refused put changes nothing.

use batchmeta::model::{BatchId, Expect, PartitionSpec, SchemaMode, TableIdent};
use batchmeta::{Error, PublishOptions, PublishSpec, Result, StageOptions};
use serde::Serialize;

use super::conflict_hint;
use crate::args::PutArgs;
use crate::local;
use crate::output::bytes;
use crate::output::views::BatchView;
use crate::progress::Progress;
use crate::settings::Session;

/// `put`'s JSON: the published batch and its event.
#[derive(Debug, Serialize)]
struct PutView {
    #[serde(flatten)]
    batch: BatchView,
    event_id: Option<i64>,
    commit_id: String,
}

/// `--expect`: a batch ID, or `none` for a partition never published.
pub(crate) fn parse_expect(s: Option<&str>) -> Result<Option<Expect>> {
    match s {
        None => Ok(None),
        Some("none" | "empty") => Ok(Some(Expect::Empty)),
        Some(b) => Ok(Some(Expect::Batch(BatchId::parse(b)?))),
    }
}

pub(crate) async fn run(s: &Session, a: &PutArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let mode = SchemaMode::parse(&a.schema_mode)?;
    let expect = parse_expect(a.expect.as_deref())?;
    let table = s.ms.table(&ident).await?;
    let partition = s.ms.partition(&ident, &spec).await?;
    // Every file must open before anything is staged.
    let inputs = a
        .files
        .iter()
        .map(|f| local::open_input(f, &table.schema))
        .collect::<Result<Vec<_>>>()?;
    let mut metadata = batchmeta::model::Properties::new();
    metadata.insert(
        "client".to_owned(),
        format!("meta {}", env!("CARGO_PKG_VERSION")),
    );
    let staged =
        s.ms.stage(
            &s.ctx,
            &ident,
            std::slice::from_ref(&spec),
            &StageOptions {
                idempotency_key: None,
                message: a.message.clone(),
                metadata,
            },
        )
        .await?;
    let batch = staged
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("stage returned no batch".into()))?;
    let progress = Progress::start(&format!("put {ident} {partition}"));
    let total = inputs.len();
    let result = async {
        let mut rows = 0usize;
        for (i, input) in inputs.into_iter().enumerate() {
            let name = input.path.display().to_string();
            let schema = input.schema.clone();
            let p = progress.clone();
            let start = rows;
            let mut seen = 0usize;
            let batches = input.into_batches().inspect(move |r| {
                if let Ok(rb) = r {
                    seen += rb.num_rows();
                    p.set(format!(
                        "put {name} ({}/{total}): {} rows",
                        i + 1,
                        start + seen
                    ));
                }
            });
            let written =
                s.ms.write(
                    &ident,
                    &batch.id,
                    schema,
                    futures::stream::iter(batches),
                    mode,
                )
                .await?;
            rows = usize::try_from(written.rows).unwrap_or(usize::MAX);
        }
        progress.set(format!("publishing {rows} rows"));
        let spec = PublishSpec {
            partition: spec.clone(),
            batch: batch.id.clone(),
            expect,
        };
        let opts = PublishOptions {
            schema_mode: mode,
            message: None,
        };
        s.ms.publish(&s.ctx, &ident, &[spec], &opts).await
    }
    .await;
    progress.finish();
    let commit = match result {
        Ok(c) => c,
        Err(e) => {
            s.ms.abandon_failed_store(&ident, &batch).await;
            return Err(conflict_hint(
                e,
                &format!("meta put {ident} {} FILE...", partition.path()),
            ));
        }
    };
    let published = s.ms.batch(&ident, &batch.id).await?;
    if s.out.json() {
        return s.out.value(&PutView {
            batch: BatchView::from(&published),
            event_id: commit.events.first().map(|e| e.id),
            commit_id: commit.commit_id,
        });
    }
    let files = published.files.len();
    s.out.text(&format!(
        "published {ident} {partition} batch {} ({} rows, {files} file{}, {})\n",
        published.id,
        published.rows,
        if files == 1 { "" } else { "s" },
        bytes(published.bytes)
    ))?;
    match &published.parent {
        Some(p) => s.out.note(&format!(
            "previous batch {p}; undo with `meta rollback {ident} {}`",
            partition.path()
        )),
        None => s.out.note("first batch of this partition"),
    }
    Ok(())
}
