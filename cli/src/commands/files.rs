//! `meta files`: the file URIs of partitions, one per line.

use batchmeta::model::{PartitionSpec, TableIdent};
use batchmeta::{ResolveRequest, Result};

use super::version;
use crate::args::FilesArgs;
use crate::output::views::FileView;
use crate::settings::Session;

pub(crate) async fn run(s: &Session, a: &FilesArgs) -> Result<()> {
    let ident = TableIdent::parse(&a.table)?;
    let partitions = if a.partitions.is_empty() {
        None
    } else {
        Some(
            a.partitions
                .iter()
                .map(|p| PartitionSpec::parse(p))
                .collect::<Result<Vec<_>>>()?,
        )
    };
    let req = ResolveRequest {
        partitions,
        version: version(&a.version)?,
    };
    let files = s.ms.file_listing(&ident, &req).await?;
    if s.out.json() {
        let v: Vec<FileView> = files
            .into_iter()
            .map(|f| FileView {
                partition: f.partition.path(),
                batch: f.batch.to_string(),
                uri: f.uri,
                size: f.size,
                rows: f.rows,
            })
            .collect();
        return s.out.value(&v);
    }
    if files.is_empty() {
        s.out.note(&format!(
            "no files: {ident} has no published partitions that match; see `meta partitions {ident}`"
        ));
        return Ok(());
    }
    let text: String = files.iter().map(|f| format!("{}\n", f.uri)).collect();
    s.out.text(&text)
}
