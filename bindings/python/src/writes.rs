//! Writes: `store` (a frame into one partition, or split by
//! `partition_by`, published at once or only staged for
//! write-audit-publish), `stage`, `add_files` and `publish`, and the
//! namespaces and tables they write into.

use arrow_pyarrow::PyArrowType;
use batchmeta::metastore::table_for_data;
use batchmeta::metastore::{Part, Publish, StoreMode};
use batchmeta::model::{Expect, KeyType, NamespaceName, NewNamespace, PartitionKey, PartitionSpec};
use batchmeta::{ErrorKind, PublishOptions, PublishSpec, StageOptions, StoreOptions};
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::{Value, json};

use crate::client::{Client, block, spawned};
use crate::convert::{
    self, batch_json, ident, key_type, one_spec, spec_or_unpartitioned, table_json,
};
use crate::errors::{IntoPyResult, invalid};
use crate::runtime::tune_malloc;

/// Stores a frame (see `batchmeta.store_dataframe`).
#[pyfunction]
#[pyo3(signature = (client, data, namespace, table, partitions=None, *, partition_by=None, expected_batch=None, schema_mode=None, message=None, metadata=None, idempotency_key=None, publish=true, inputs=None, track_reads=true))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn store<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    data: PyArrowType<arrow_pyarrow::Table>,
    namespace: &str,
    table: &str,
    partitions: Option<&Bound<'py, PyAny>>,
    partition_by: Option<Vec<String>>,
    expected_batch: Option<&str>,
    schema_mode: Option<&str>,
    message: Option<String>,
    metadata: Option<&Bound<'py, PyAny>>,
    idempotency_key: Option<String>,
    publish: bool,
    inputs: Option<Vec<String>>,
    track_reads: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let spec = one_spec(partitions, "store_dataframe")?;
    let inputs = crate::lineage::store_inputs(inputs, track_reads)?;
    if spec.is_some() && partition_by.is_some() {
        return Err(invalid(
            "invalid_partition",
            "give partitions=[...] (one partition) or partition_by=[...] (split the frame), not both",
        ));
    }
    if partition_by.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(
            "invalid_partition_by",
            "partition_by names at least one column",
        ));
    }
    if partition_by.is_some() && !publish {
        return Err(invalid(
            "invalid_partition_by",
            "partition_by always publishes (all partitions in one commit): leave publish=True",
        ));
    }
    let mut metadata = convert::string_map(metadata, "metadata")?;
    metadata
        .entry("library".into())
        .or_insert_with(|| format!("batchmeta-python/{}", env!("CARGO_PKG_VERSION")));
    let options = StoreOptions {
        expect: Expect::parse_opt(expected_batch).py()?,
        schema_mode: convert::schema_mode(schema_mode)?,
        message,
        metadata,
        idempotency_key,
        inputs,
    };
    // Key names (and types) for a first write that creates the table.
    let keys: Option<Vec<(String, Option<KeyType>)>> = match (&partition_by, &spec) {
        (Some(cols), _) => Some(cols.iter().map(|c| (c.clone(), None)).collect()),
        (None, Some(s)) => s.keys.clone(),
        (None, None) => Some(Vec::new()),
    };
    let (batches, schema) = data.0.into_inner();
    tune_malloc();
    let (rt, ms, ctx) = client.get().handle(py)?;
    let result: Value = spawned(py, &rt, async move {
        let (existing, create) = ms.table_or_draft(&ident, &schema, keys.as_deref()).await?;
        let stream = futures::stream::iter(batches.into_iter().map(Ok));
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
            return Ok(json!({
                "table": ident.to_string(),
                "batches": out.batches.iter().map(|b| batch_json(&ms, b)).collect::<Vec<_>>(),
                "commit_id": out.commit.commit_id,
                "event_ids": out.commit.events.iter().map(|e| e.id).collect::<Vec<_>>(),
                "created_table": out.created_table,
                "published": true,
            }));
        }
        // Published now, or (write-audit-publish) staged with its data.
        let mode = StoreMode {
            publish: if publish {
                Publish::Now
            } else {
                Publish::Later
            },
            create: create.as_ref(),
            table: existing.as_ref(),
        };
        let parts = vec![Part::batches(schema, stream)];
        let partition = spec_or_unpartitioned(spec);
        let out = ms
            .store_parts(&ctx, &ident, &partition, parts, &options, mode)
            .await?;
        Ok(json!({
            "table": ident.to_string(),
            "batches": [batch_json(&ms, &out.batch)],
            "commit_id": out.commit.as_ref().map(|c| c.commit_id.clone()),
            "event_ids": out.commit.iter().flat_map(|c| &c.events).map(|e| e.id).collect::<Vec<_>>(),
            "created_table": out.created_table,
            "published": out.commit.is_some(),
        }))
    })?;
    convert::to_python(py, &result)
}

/// Stages one batch per partition, for write-audit-publish.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, partitions, *, message=None, metadata=None, idempotency_key=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn stage<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    partitions: &Bound<'py, PyAny>,
    message: Option<String>,
    metadata: Option<&Bound<'py, PyAny>>,
    idempotency_key: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let specs: Vec<PartitionSpec> = convert::specs(partitions)?
        .into_iter()
        .map(|s| s.spec)
        .collect();
    let options = StageOptions {
        idempotency_key,
        message,
        metadata: convert::string_map(metadata, "metadata")?,
    };
    let (rt, ms, ctx) = client.get().handle(py)?;
    let staged = block(py, &rt, ms.stage(&ctx, &ident, &specs, &options))?;
    let v: Vec<Value> = staged.iter().map(|b| batch_json(&ms, b)).collect();
    convert::to_python(py, &Value::Array(v))
}

/// Registers Parquet files that an engine (Spark's executors) wrote
/// straight into a staged batch's prefix. `paths` are object keys
/// relative to the warehouse; each file's footer is read from the store.
#[pyfunction]
fn add_files<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    batch_id: &str,
    paths: Vec<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let batch = convert::batch_id(batch_id)?;
    let (rt, ms, _) = client.get().handle(py)?;
    let b = block(py, &rt, ms.add_files(&ident, &batch, &paths))?;
    convert::to_python(py, &batch_json(&ms, &b))
}

/// Publishes staged batches in one all-or-nothing commit. `batches` maps
/// each partition to its staged batch ID.
#[pyfunction]
#[pyo3(signature = (client, namespace, table, batches, *, expected_batch=None, schema_mode=None, message=None))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn publish<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    batches: &Bound<'py, PyList>,
    expected_batch: Option<&str>,
    schema_mode: Option<&str>,
    message: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let expect = Expect::parse_opt(expected_batch).py()?;
    let mut specs = Vec::with_capacity(batches.len());
    for item in batches.iter() {
        let (partition, batch): (Bound<'py, PyAny>, String) = item
            .extract()
            .map_err(|_| invalid("invalid_input", "publish takes (partition, batch_id) pairs"))?;
        let partition = if partition.is_none() {
            PartitionSpec::Positional(Vec::new())
        } else {
            convert::spec(&partition)?.spec
        };
        specs.push(PublishSpec {
            partition,
            batch: convert::batch_id(&batch)?,
            expect: expect.clone(),
        });
    }
    if specs.is_empty() {
        return Err(invalid("invalid_input", "publish at least one batch"));
    }
    let options = PublishOptions {
        schema_mode: convert::schema_mode(schema_mode)?,
        message,
        inputs: Vec::new(),
    };
    let (rt, ms, ctx) = client.get().handle(py)?;
    let commit = block(py, &rt, ms.publish(&ctx, &ident, &specs, &options))?;
    convert::serialized(py, &commit)
}

/// Creates a namespace (a store never creates one: a typo must not).
#[pyfunction]
#[pyo3(signature = (client, namespace, *, description=None, owner=None, properties=None, exist_ok=false))]
fn create_namespace<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    description: Option<String>,
    owner: Option<String>,
    properties: Option<&Bound<'py, PyAny>>,
    exist_ok: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let new = NewNamespace {
        name: NamespaceName::new(namespace).py()?,
        description,
        owner,
        properties: convert::string_map(properties, "properties")?,
    };
    let (rt, ms, ctx) = client.get().handle(py)?;
    let ns = block(py, &rt, async {
        match ms.create_namespace(&ctx, &new).await {
            Err(e) if exist_ok && e.kind() == ErrorKind::AlreadyExists => {
                ms.namespace(&new.name).await
            }
            other => other,
        }
    })?;
    convert::serialized(py, &ns)
}

/// Creates a table from an Arrow schema; `partition_keys` are
/// `(name, type)` pairs (type `None` = from the column, else string).
#[pyfunction]
#[pyo3(signature = (client, namespace, table, schema, partition_keys, *, description=None, owner=None, properties=None, exist_ok=false))]
#[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
fn create_table<'py>(
    py: Python<'py>,
    client: &Bound<'_, Client>,
    namespace: &str,
    table: &str,
    schema: PyArrowType<arrow_schema::Schema>,
    partition_keys: Vec<(String, Option<String>)>,
    description: Option<String>,
    owner: Option<String>,
    properties: Option<&Bound<'py, PyAny>>,
    exist_ok: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ident = ident(namespace, table)?;
    let keys = partition_keys
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.as_deref().map(key_type).transpose()?)))
        .collect::<PyResult<Vec<_>>>()?;
    let mut new = table_for_data(&ident, &schema.0, &keys).py()?;
    // An explicit type wins over the column's.
    for (k, (name, kind)) in new.partition_keys.iter_mut().zip(&keys) {
        if let Some(kind) = kind {
            *k = PartitionKey::new(name, *kind).py()?;
        }
    }
    new.description = description;
    new.owner = owner;
    new.properties = convert::string_map(properties, "properties")?;
    let (rt, ms, ctx) = client.get().handle(py)?;
    let t = block(py, &rt, async {
        ms.require_namespace(&ident.namespace).await?;
        match ms.create_table(&ctx, &new).await {
            Err(e) if exist_ok && e.kind() == ErrorKind::AlreadyExists => ms.table(&ident).await,
            other => other,
        }
    })?;
    convert::to_python(py, &table_json(&ms, &t))
}

/// Adds these functions to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(store, m)?)?;
    m.add_function(wrap_pyfunction!(stage, m)?)?;
    m.add_function(wrap_pyfunction!(add_files, m)?)?;
    m.add_function(wrap_pyfunction!(publish, m)?)?;
    m.add_function(wrap_pyfunction!(create_namespace, m)?)?;
    m.add_function(wrap_pyfunction!(create_table, m)?)?;
    Ok(())
}
