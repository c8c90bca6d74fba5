//! `meta put`: local files into one new batch of a partition, in one
//! facade store (stage, write each file, publish). Anything that fails
//! before the publish discards the staged batch, so a refused put changes
//! nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use batchmeta::metastore::{Part, StoreMode, StoreOutcome};
use batchmeta::model::{Expect, PartitionSpec, SchemaMode, TableIdent};
use batchmeta::{Result, StoreOptions, Stored};
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

pub(crate) async fn run(s: &Session, a: &PutArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let spec = PartitionSpec::parse(&a.partition)?;
    let mode = SchemaMode::parse(&a.schema_mode)?;
    let expect = Expect::parse_opt(a.expect.as_deref())?;
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
    let options = StoreOptions {
        expect,
        schema_mode: mode,
        message: a.message.clone(),
        metadata,
        idempotency_key: None,
        inputs: super::lineage::inputs(&a.inputs, a.only_inputs)?,
    };
    let ms = super::lineage::with_run(&s.ms, &a.run)?;
    let progress = Progress::start(&format!("put {ident} {partition}"));
    let total = inputs.len();
    let rows = Arc::new(AtomicUsize::new(0));
    let parts = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let name = input.path.display().to_string();
            let schema = input.schema.clone();
            let (p, rows) = (progress.clone(), rows.clone());
            let batches = input.into_batches().inspect(move |r| {
                if let Ok(rb) = r {
                    let seen = rows.fetch_add(rb.num_rows(), Ordering::Relaxed) + rb.num_rows();
                    p.set(format!("put {name} ({}/{total}): {seen} rows", i + 1));
                }
            });
            Part::batches(schema, futures::stream::iter(batches))
        })
        .collect();
    let result = ms
        .store_parts(&s.ctx, &ident, &spec, parts, &options, StoreMode::default())
        .await
        .and_then(StoreOutcome::published);
    progress.finish();
    let Stored {
        batch: published,
        commit,
    } = result
        .map_err(|e| conflict_hint(e, &format!("meta put {ident} {} FILE...", partition.path())))?;
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
