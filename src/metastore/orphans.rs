//! Orphan objects (docs/retention.md): files under a batch's prefix that
//! the batch does not record, older than the grace period by their object
//! time. A writer that crashed after putting files but before recording
//! them leaves these; no reader can see them (reads go by recorded files).
//! Objects outside every batch of the table (its `_iceberg/` metadata, a
//! prefix no batch of this table names, such as a dropped table's of the
//! same name) are never touched.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use super::Metastore;
use super::gc::GcReport;
use crate::catalog::retention::GcRules;
use crate::error::Result;
use crate::model::{Batch, BatchId, BatchState, Context, TableIdent};
use crate::storage;

/// One object no batch records, collected (or that would be).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GcOrphan {
    /// `namespace.table`.
    pub table: String,
    /// The batch whose prefix holds it.
    pub batch: BatchId,
    /// Its warehouse-relative path.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// When it was last written (the object store's time).
    pub modified: DateTime<Utc>,
}

/// The batch id a warehouse path lies under: the first segment after the
/// table's prefix that is one (partition segments are `key=value`).
fn batch_of(table_location: &str, path: &str) -> Option<BatchId> {
    let rest = path.strip_prefix(table_location)?.strip_prefix('/')?;
    let mut segs = rest.split('/').collect::<Vec<_>>();
    segs.pop(); // the file name itself
    segs.into_iter().find_map(|s| BatchId::parse(s).ok())
}

impl Metastore {
    /// Lists (and with `apply`, deletes) the orphan objects of a table.
    pub(super) async fn gc_orphans(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        rules: &GcRules,
        apply: bool,
        report: &mut GcReport,
    ) -> Result<()> {
        let storage = self.direct()?;
        let table = self.catalog.get_table(ident).await?;
        let prefix = storage::object_path(&table.location)?;
        let metadata = format!("{}/_iceberg/", table.location);
        let now = Utc::now();
        let grace = TimeDelta::seconds(rules.grace_secs);
        let objects: Vec<object_store::ObjectMeta> =
            storage.store().list(Some(&prefix)).try_collect().await?;
        let mut batches: HashMap<BatchId, Option<Batch>> = HashMap::new();
        let mut deleted = Vec::new();
        for o in objects {
            let path = o.location.to_string();
            if path.starts_with(&metadata) || now - o.last_modified < grace {
                continue;
            }
            let Some(id) = batch_of(&table.location, &path) else {
                continue;
            };
            if !batches.contains_key(&id) {
                let b = match self.catalog.get_batch(ident, &id).await {
                    Ok(b) => Some(b),
                    Err(e) if e.kind() == crate::ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                batches.insert(id.clone(), b);
            }
            let Some(Some(b)) = batches.get(&id) else {
                continue;
            };
            let in_flight = b.state == BatchState::Staged && now - b.created_at < grace;
            if in_flight || b.files.iter().any(|f| f.path == path) {
                continue;
            }
            if apply {
                match storage.store().delete(&o.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(table = %ident, batch = %id, path = %path, bytes = o.size, "gc deleted an orphan object");
                deleted.push((path.clone(), o.size));
            }
            report.files += 1;
            report.bytes += o.size;
            report.orphans.push(GcOrphan {
                table: ident.to_string(),
                batch: id,
                path,
                bytes: o.size,
                modified: o.last_modified,
            });
        }
        if !deleted.is_empty() {
            // After the deletions (a crash in between loses only this record
            // of objects no reader could see; the rerun finds none left).
            self.catalog.record_orphans(ctx, ident, &deleted).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_of_a_path_is_its_first_batch_id_segment() {
        let id = "20161102234252123456";
        assert_eq!(
            batch_of("s/t", &format!("s/t/day=a/{id}/part-0.parquet")).map(|b| b.to_string()),
            Some(id.to_owned())
        );
        assert_eq!(
            batch_of("s/t", &format!("s/t/{id}/r1/part-0.parquet")).map(|b| b.to_string()),
            Some(id.to_owned())
        );
        assert_eq!(batch_of("s/t", "s/t/_iceberg/metadata.json"), None);
        assert_eq!(batch_of("s/t", &format!("s/t2/{id}/x")), None);
        assert_eq!(batch_of("s/t", &format!("s/t/day=a/{id}")), None);
    }
}
