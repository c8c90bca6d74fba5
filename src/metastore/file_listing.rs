//! File listings for tools that read data files directly (Spark, DuckDB,
//! `aws s3 cp`): each file's full URI with its partition, batch, size and rows.

use super::{Metastore, ResolveRequest};
use crate::error::Result;
use crate::model::{BatchId, PartitionValues, TableIdent};
use crate::storage;

/// One data file of a resolved partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The partition it belongs to.
    pub partition: PartitionValues,
    /// The batch it belongs to.
    pub batch: BatchId,
    /// Its full URI under the warehouse.
    pub uri: String,
    /// Size in bytes.
    pub size: u64,
    /// Number of rows.
    pub rows: u64,
}

impl Metastore {
    /// Like [`Metastore::files`], with each file's partition, batch, size
    /// and rows, in partition order.
    pub async fn file_listing(
        &self,
        ident: &TableIdent,
        req: &ResolveRequest,
    ) -> Result<Vec<FileEntry>> {
        Ok(self
            .resolve(ident, req)
            .await?
            .into_iter()
            .flat_map(|r| {
                let warehouse = self.warehouse_url().to_owned();
                r.batch.files.into_iter().map(move |f| FileEntry {
                    partition: r.partition.clone(),
                    batch: r.batch.id.clone(),
                    uri: storage::uri(&warehouse, &f.path),
                    size: f.size,
                    rows: f.rows,
                })
            })
            .collect())
    }
}
