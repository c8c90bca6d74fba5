//! Resolve and read: which batch each partition is at, and its data.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use super::Metastore;
use crate::data::{self, Filter, ReadOptions};
use crate::error::{Code, Error, Result};
use crate::model::{PartitionSpec, PartitionValues, Resolved, Table, TableIdent, Version};
use crate::storage;

/// Which partitions, at which version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolveRequest {
    /// The partitions; `None` = every published partition.
    pub partitions: Option<Vec<PartitionSpec>>,
    /// Current (default), a batch ID, an as-of time or a pin.
    pub version: Version,
}

/// What to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadRequest {
    /// Which partitions at which version.
    pub resolve: ResolveRequest,
    /// Only these columns (data or partition key columns); `None` = all.
    pub columns: Option<Vec<String>>,
    /// Row filters; those on partition keys prune whole partitions.
    pub filters: Vec<Filter>,
}

impl Metastore {
    /// Resolves partitions to batches and their files.
    pub async fn resolve(&self, ident: &TableIdent, req: &ResolveRequest) -> Result<Vec<Resolved>> {
        let values = match &req.partitions {
            Some(specs) => {
                let t = self.table(ident).await?;
                Some(
                    specs
                        .iter()
                        .map(|s| PartitionValues::resolve(&t.partition_keys, s))
                        .collect::<Result<Vec<_>>>()?,
                )
            }
            None => None,
        };
        self.catalog
            .resolve(ident, values.as_deref(), &req.version)
            .await
    }

    /// The full URIs of the files of each resolved partition (for Spark,
    /// DuckDB or `aws s3 cp`).
    pub async fn files(&self, ident: &TableIdent, req: &ResolveRequest) -> Result<Vec<String>> {
        Ok(self
            .resolve(ident, req)
            .await?
            .iter()
            .flat_map(|r| {
                r.batch
                    .files
                    .iter()
                    .map(|f| storage::uri(self.warehouse_url(), &f.path))
            })
            .collect())
    }

    /// The schema [`Metastore::read`] returns: the table's data columns then
    /// its partition key columns, projected to `columns`.
    pub fn read_schema(table: &Table, columns: Option<&[String]>) -> Result<SchemaRef> {
        let mut fields: Vec<Arc<Field>> = table.schema.fields().iter().cloned().collect();
        fields.extend(
            data::partition_fields(&table.partition_keys)
                .into_iter()
                .map(Arc::new),
        );
        let full = Schema::new_with_metadata(fields, table.schema.metadata().clone());
        match columns {
            None => Ok(Arc::new(full)),
            Some(cols) => {
                let mut picked = Vec::with_capacity(cols.len());
                for c in cols {
                    let f = full
                        .field_with_name(c)
                        .map_err(|_| unknown_column(table, c))?;
                    picked.push(f.clone());
                }
                Ok(Arc::new(Schema::new_with_metadata(
                    picked,
                    full.metadata().clone(),
                )))
            }
        }
    }

    /// Reads the resolved partitions as one stream of record batches with the
    /// partition key columns restored, in partition order.
    pub async fn read(
        &self,
        ident: &TableIdent,
        req: &ReadRequest,
    ) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let table = self.table(ident).await?;
        #[cfg(feature = "client")]
        if let super::DataAccess::Server { client, .. } = &self.data {
            let values = req
                .resolve
                .partitions
                .as_ref()
                .map(|ps| {
                    ps.iter()
                        .map(|p| PartitionValues::resolve(&table.partition_keys, p))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?;
            if self.run.is_some() {
                // The server resolves again: a publish in between is read
                // but not noted (lineage through a server is best effort here).
                let resolved = self.resolve(ident, &req.resolve).await?;
                self.note_reads(resolved.iter().map(|r| &r.batch.id))
                    .await?;
            }
            return client.read(ident, values.as_deref(), req).await;
        }
        let out_schema = Self::read_schema(&table, req.columns.as_deref())?;
        let key_names: Vec<&str> = table
            .partition_keys
            .iter()
            .map(|k| k.name.as_str())
            .collect();
        for f in &req.filters {
            if !key_names.contains(&f.column.as_str())
                && table.schema.field_with_name(&f.column).is_err()
            {
                return Err(unknown_column(&table, &f.column));
            }
        }
        let resolved = self.resolve(ident, &req.resolve).await?;
        // Filters on partition keys decide whole partitions; the rest go to
        // the Parquet reader.
        let (key_filters, row_filters): (Vec<_>, Vec<_>) = req
            .filters
            .iter()
            .cloned()
            .partition(|f| key_names.contains(&f.column.as_str()));
        // A filter on a partition key must fit the key's type.
        let key_schema = Schema::new(data::partition_fields(&table.partition_keys));
        data::check_filters(&key_filters, &key_schema)?;
        let kept: Vec<Resolved> = resolved
            .into_iter()
            .filter(|r| {
                key_filters.iter().all(|f| {
                    table
                        .partition_keys
                        .iter()
                        .zip(r.partition.values())
                        .all(|(k, v)| data::matches_partition(f, k, v).unwrap_or(true))
                })
            })
            .collect();
        self.note_reads(kept.iter().map(|r| &r.batch.id)).await?;
        let data_columns: Option<Vec<String>> = req.columns.as_ref().map(|cols| {
            cols.iter()
                .filter(|c| !key_names.contains(&c.as_str()))
                .cloned()
                .collect()
        });
        let opts = ReadOptions {
            columns: data_columns,
            filters: row_filters,
            ..ReadOptions::default()
        };
        let store = self.direct()?.store().clone();
        let keys = table.partition_keys.clone();
        let schema = out_schema.clone();
        let table_schema = table.schema.clone();
        let batches = stream::iter(kept)
            .then(move |r| {
                let store = store.clone();
                let opts = opts.clone();
                let keys = keys.clone();
                let schema = schema.clone();
                let table_schema = table_schema.clone();
                async move {
                    let s = data::read_files(&store, &r.batch.files, &table_schema, &opts).await?;
                    // One shared buffer of partition values for all of its batches.
                    let mut columns = data::PartitionColumns::new(&keys, &r.partition)?;
                    Ok::<_, Error>(s.and_then(move |rb| {
                        let out = columns.add(&rb).and_then(|full| project(&full, &schema));
                        futures::future::ready(out)
                    }))
                }
            })
            .try_flatten()
            .boxed();
        Ok((out_schema, batches))
    }
}

/// Picks `schema`'s columns out of `batch` by name, in order.
fn project(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let cols = schema
        .fields()
        .iter()
        .map(|f| {
            batch.column_by_name(f.name()).cloned().ok_or_else(|| {
                Error::Internal(format!("column {} missing from a read batch", f.name()))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), cols)?)
}

fn unknown_column(table: &Table, c: &str) -> Error {
    let mut names: Vec<String> = table
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    names.extend(table.partition_keys.iter().map(|k| k.name.to_string()));
    Error::invalid(
        Code::UnknownColumn,
        format!(
            "unknown column {c:?} in {}: its columns are {}",
            table.ident,
            names.join(", ")
        ),
    )
}
