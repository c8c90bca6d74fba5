//! Writes: `bm_store` (a data frame into one partition, or split by
//! `partition_by`, published at once) and the namespaces tables live in.

use batchmeta::metastore::{Part, Publish, StoreMode};
use batchmeta::model::{Expect, KeyType, NamespaceName, NewNamespace, PartitionSpec};
use batchmeta::{ErrorKind, StoreOptions};
use extendr_api::prelude::*;

use crate::client::{answer, block, get_client, ident};
use crate::errors::{IntoR, invalid, to_r};
use crate::frame;
use crate::values::{self, opt_str, req_str};

/// Stores a data frame as a new batch of one partition (or of every
/// partition `partition_by` finds) and publishes it.
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_store(
    client: Robj,
    data: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    partition_by: Robj,
    expected_batch: Robj,
    schema_mode: Robj,
    message: Robj,
    metadata: Robj,
    inputs: Robj,
    track_reads: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let inputs = crate::lineage::store_inputs(&inputs, &track_reads)?;
        let spec = if partition.is_null() {
            None
        } else {
            Some(values::spec(&partition)?)
        };
        let partition_by = values::opt_strings(&partition_by, "partition_by")?;
        if spec.is_some() && partition_by.is_some() {
            return Err(invalid(
                "invalid_partition",
                "give partitions = ... (one partition) or partition_by = c(...) (split the frame), not both",
            ));
        }
        if partition_by.as_ref().is_some_and(Vec::is_empty) {
            return Err(invalid(
                "invalid_partition_by",
                "partition_by names at least one column",
            ));
        }
        let mut metadata = values::string_map(&metadata, "metadata")?;
        metadata
            .entry("library".into())
            .or_insert_with(|| format!("batchmeta-r/{}", env!("CARGO_PKG_VERSION")));
        let options = StoreOptions {
            expect: Expect::parse_opt(opt_str(&expected_batch, "expected_batch")?.as_deref())
                .r()?,
            schema_mode: values::schema_mode(&schema_mode)?,
            message: opt_str(&message, "message")?,
            metadata,
            idempotency_key: None,
            inputs,
        };
        let keys: Option<Vec<(String, Option<KeyType>)>> = match (&partition_by, &spec) {
            (Some(cols), _) => Some(cols.iter().map(|c| (c.clone(), None)).collect()),
            (None, Some(s)) => s.keys.clone(),
            (None, None) => Some(Vec::new()),
        };
        let (schema, batch) = frame::from_r(&data)?;
        let (ms, ctx) = c.handle()?;
        let (existing, create) = block(
            "store_dataframe",
            ms.table_or_draft(&ident, &schema, keys.as_deref()),
        )?;
        // R's timestamps take the unit of the table as it is.
        let (schema, batch) = match &existing {
            Some(t) => {
                let b = frame::conform(batch, &t.schema)?;
                (b.schema(), b)
            }
            None => (schema, batch),
        };
        let stream = futures::stream::iter([Ok(batch)]);
        let warehouse = ms.warehouse_url().to_owned();
        let out = block("store_dataframe", async {
            if let Some(cols) = &partition_by {
                let out = ms
                    .store_partitioned(
                        &ctx,
                        &ident,
                        cols,
                        schema,
                        stream,
                        &options,
                        create.as_ref(),
                    )
                    .await?;
                return Ok((
                    out.batches,
                    out.commit.commit_id,
                    out.commit.events,
                    out.created_table,
                ));
            }
            let partition = spec
                .map(|s| s.spec)
                .unwrap_or_else(|| PartitionSpec::Positional(Vec::new()));
            let parts = vec![Part::batches(schema, stream)];
            let mode = StoreMode {
                publish: Publish::Now,
                create: create.as_ref(),
                table: existing.as_ref(),
            };
            let out = ms
                .store_parts(&ctx, &ident, &partition, parts, &options, mode)
                .await?;
            let created = out.created_table;
            let stored = out.published()?;
            Ok((
                vec![stored.batch],
                stored.commit.commit_id,
                stored.commit.events,
                created,
            ))
        })?;
        let (batches, commit_id, events, created) = out;
        let event_ids: Vec<f64> = events.iter().map(|e| e.id as f64).collect();
        List::from_names_and_values(
            [
                "table",
                "batches",
                "commit_id",
                "event_ids",
                "created_table",
            ],
            [
                ident.to_string().into(),
                values::batch_columns(&warehouse, &batches),
                commit_id.into(),
                event_ids.into(),
                created.into(),
            ],
        )
        .map(Robj::from)
        .map_err(|e| to_r(batchmeta::Error::Internal(e.to_string())))
    })())
}

/// Creates a namespace.
#[extendr]
fn bm_create_namespace(
    client: Robj,
    namespace: Robj,
    description: Robj,
    owner: Robj,
    exist_ok: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let new = NewNamespace {
            name: NamespaceName::new(&req_str(&namespace, "namespace")?).r()?,
            description: opt_str(&description, "description")?,
            owner: opt_str(&owner, "owner")?,
            properties: Default::default(),
        };
        let exist_ok = values::opt_bool(&exist_ok, "exist_ok")?.unwrap_or(false);
        let (ms, ctx) = c.handle()?;
        let ns = block("create_namespace", async {
            match ms.create_namespace(&ctx, &new).await {
                Err(e) if exist_ok && e.kind() == ErrorKind::AlreadyExists => {
                    ms.namespace(&new.name).await
                }
                other => other,
            }
        })?;
        Ok(ns.name.as_str().into())
    })())
}

extendr_module! {
    mod writes;
    fn bm_store;
    fn bm_create_namespace;
}
