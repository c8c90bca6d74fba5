//! `verify`: every invariant of DESIGN §6 over the whole catalog and store.

use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use super::Metastore;
use crate::error::Result;
use crate::model::{BatchId, Violation};
use crate::storage;

/// Committed batches checked per catalog page.
const PAGE: u32 = 500;

/// What `verify` checked and what it found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// Committed batches whose files were checked in the store.
    pub batches: u64,
    /// Files checked in the store.
    pub files: u64,
    /// Every violation found; empty when the catalog is healthy.
    pub violations: Vec<Violation>,
}

/// What [`Metastore::verify_scoped`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyScope {
    /// The catalog's invariants and every committed file in the store.
    All,
    /// The catalog's invariants only (no store access needed).
    Catalog,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

impl Metastore {
    /// Checks every invariant: pointers name committed batches (2), event
    /// replay reproduces every pointer (3), and every file of every committed
    /// batch exists in the store with its recorded size (1, 2).
    pub async fn verify(&self) -> Result<VerifyReport> {
        self.verify_scoped(VerifyScope::All).await
    }

    /// [`Metastore::verify`] of the catalog alone (invariants 2 and 3), or of
    /// the catalog and every file in the store.
    pub async fn verify_scoped(&self, scope: VerifyScope) -> Result<VerifyReport> {
        if scope == VerifyScope::Catalog {
            return Ok(VerifyReport {
                violations: self.catalog.check_invariants().await?,
                ..VerifyReport::default()
            });
        }
        #[cfg(feature = "client")]
        if let super::DataAccess::Server { client, .. } = &self.data {
            return client.verify().await;
        }
        let storage = self.direct()?;
        let mut report = VerifyReport {
            violations: self.catalog.check_invariants().await?,
            ..VerifyReport::default()
        };
        let mut after: Option<BatchId> = None;
        loop {
            let page = self.catalog.committed_batches(after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for b in &page {
                report.batches += 1;
                for f in &b.files {
                    report.files += 1;
                    let subject = format!("{} {} batch {}", b.table, b.partition, b.id);
                    let head = storage.store().head(&storage::object_path(&f.path)?).await;
                    match head {
                        Ok(meta) if meta.size == f.size => {}
                        Ok(meta) => report.violations.push(Violation {
                            invariant: 1,
                            code: "file_changed".into(),
                            subject,
                            message: format!(
                                "file {} is {} bytes, but {} were committed",
                                f.path, meta.size, f.size
                            ),
                        }),
                        Err(object_store::Error::NotFound { .. }) => {
                            report.violations.push(Violation {
                                invariant: 2,
                                code: "missing_file".into(),
                                subject,
                                message: format!("file {} is missing from the warehouse", f.path),
                            })
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        Ok(report)
    }

    /// Committed batches with their files, in batch-ID order after `after`
    /// (at most `limit`), for checks against a store elsewhere.
    pub async fn committed_batches(
        &self,
        after: Option<&BatchId>,
        limit: u32,
    ) -> Result<Vec<crate::model::Batch>> {
        self.catalog.committed_batches(after, limit).await
    }
}
