//! Reads: a table, a batch, resolve (pins included), a partition's batches
//! and the batches `verify` checks; each one read transaction.

use chrono::{DateTime, Utc};

use super::SqliteCatalog;
use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::row::{Columns, TableRow};
use crate::catalog::rules::{self, Lookup, Pinned};
use crate::error::Result;
use crate::model::{Batch, BatchId, PartitionValues, Resolved, Table, TableIdent, Version};

impl SqliteCatalog {
    pub(super) fn get_table_impl(&self, ident: &TableIdent) -> Result<Table> {
        self.conns.read(|r| Ok(r.live_table(ident)?.table))
    }

    pub(super) fn get_batch_impl(&self, ident: &TableIdent, id: &BatchId) -> Result<Batch> {
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            r.load_batch(&t, id)
        })
    }

    pub(super) fn resolve_impl(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        version: &Version,
    ) -> Result<Vec<Resolved>> {
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            // A pin stands for a batch or an as-of time.
            let pinned;
            let version = match version {
                Version::Pin(name) => {
                    let pin = r.pin(&t, name)?;
                    match rules::pinned(ident, name, pin, partitions, self.now())? {
                        Pinned::Batch(partition, id) => {
                            let batch = r.load_batch(&t, &id)?;
                            return Ok(vec![Resolved { partition, batch }]);
                        }
                        Pinned::AsOf(v) => pinned = v,
                    }
                    &pinned
                }
                v => v,
            };
            match rules::lookup(version, partitions)? {
                Lookup::All(at) => r.all_as_of(&t, at),
                Lookup::Batch(id) => {
                    let batch = r.load_batch(&t, id)?;
                    rules::readable_batch(&t.table.ident, &batch, partitions)?;
                    Ok(vec![Resolved {
                        partition: batch.partition.clone(),
                        batch,
                    }])
                }
                Lookup::Each(ps, None) => {
                    let mut out = Vec::with_capacity(ps.len());
                    for values in ps {
                        let batch = r
                            .current_batch(&t, values)?
                            .ok_or_else(|| errors::never_published(&t.table.ident, values))?;
                        out.push(Resolved {
                            partition: values.clone(),
                            batch,
                        });
                    }
                    Ok(out)
                }
                Lookup::Each(ps, Some(at)) => {
                    let mut out = Vec::with_capacity(ps.len());
                    for values in ps {
                        let id = match r.partition_id(t.id, values)? {
                            Some(pid) => r.batch_as_of(pid, at)?,
                            None => None,
                        }
                        .ok_or_else(|| errors::not_published_at(ident, values, at))?;
                        out.push(Resolved {
                            partition: values.clone(),
                            batch: r.load_batch(&t, &id)?,
                        });
                    }
                    Ok(out)
                }
            }
        })
    }

    pub(super) fn list_batches_impl(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<Batch>> {
        self.conns.read(|r| {
            let t = r.live_table(ident)?;
            let pid = r
                .partition_id(t.id, partition)?
                .ok_or_else(|| errors::never_published(&t.table.ident, partition))?;
            r.all(sql::PARTITION_BATCHES, [pid], |b| {
                Ok(r.with_files(b, &t)?.batch)
            })
        })
    }

    pub(super) fn committed_batches_impl(
        &self,
        after: Option<&BatchId>,
        limit: u32,
    ) -> Result<Vec<Batch>> {
        self.conns.read(|r| {
            let ids = r.all(
                sql::COMMITTED_BATCHES,
                (after.map(BatchId::as_str).unwrap_or(""), i64::from(limit)),
                |b| Ok((b.batch_id(0)?, b.int(1)?)),
            )?;
            let mut out = Vec::with_capacity(ids.len());
            for (id, table_id) in ids {
                let t = r.table_by_id(table_id)?;
                out.push(r.load_batch(&t, &id)?);
            }
            Ok(out)
        })
    }
}

impl Tx<'_> {
    /// Every partition of table `t` that had a batch at `at` (now if
    /// `None`), with that batch.
    fn all_as_of(&self, t: &TableRow, at: Option<DateTime<Utc>>) -> Result<Vec<Resolved>> {
        let decode = |r: &super::rows::Cols<'_, '_>| {
            r.opt_batch_id(1)?
                .map(|b| {
                    let values = PartitionValues::from_stored(&t.table.partition_keys, r.text(0)?)?;
                    Ok((values, b))
                })
                .transpose()
        };
        let targets = match at {
            None => self.all(sql::CURRENT_PARTITIONS, [t.id], decode)?,
            Some(at) => self.all(sql::PARTITIONS_AS_OF, (micros(at), t.id), decode)?,
        };
        let mut out = Vec::with_capacity(targets.len());
        for (partition, id) in targets.into_iter().flatten() {
            let batch = self.load_batch(t, &id)?;
            out.push(Resolved { partition, batch });
        }
        Ok(out)
    }
}
