//! The `Client` class: one connection to a catalog and every operation of
//! the core facade. Each method checks its arguments while it holds the
//! GIL, then releases it (`py.detach`) for everything that does I/O, so
//! Python threads store and load in parallel.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arrow_pyarrow::PyArrowType;
use batchmeta::metastore::table_for_data;
use batchmeta::model::{
    Action, Batch, Context, EventQuery, Expect, KeyType, NamespaceName, NewNamespace, NewPin,
    Order, PartitionKey, PartitionQuery, PartitionSpec, PinName, PinTarget, RollbackRequest, Table,
    TableIdent, Version,
};
use batchmeta::{
    ConnectOptions, ErrorKind, Metastore, PublishOptions, PublishSpec, ReadRequest, ResolveRequest,
    StageOptions, StoreOptions,
};
use futures::TryStreamExt;
use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use crate::convert::{self, SpecIn};
use crate::errors::{IntoPyResult, invalid, to_py};
use crate::runtime::rt;

/// Most items fetched by a listing when no limit is given.
const DEFAULT_LIST_LIMIT: u32 = 10_000;

/// A connection to a batchmeta catalog (embedded or a server).
#[pyclass(module = "batchmeta._native", frozen)]
pub(crate) struct Client {
    url: Option<String>,
    options: ConnectOptions,
    principal: String,
    /// The process that connected and its metastore; a forked child
    /// reconnects (connection pools do not survive `fork()`).
    conn: Mutex<(u32, Arc<Metastore>)>,
}

/// Runs a future on the runtime with the GIL released.
/// Fixes glibc malloc's mmap threshold at 4 MiB, once per process, before
/// the first store or load.
///
/// glibc raises the threshold each time a block above it is freed (up to
/// 32 MiB). A load frees a stream of such blocks (fetched column chunks,
/// decompressed pages) while it allocates the long-lived columns of the
/// result; once the threshold has risen, both come from the same heaps, and
/// the freed space is scattered between live columns where it is neither
/// reused nor returned. Measured on a 10,000,000-row frame (850 MiB): a
/// load peaked 1.26x the frame above the baseline with the moving
/// threshold and 1.12x with it fixed, at the same speed (fixed at 128 KiB
/// it is 1.05x but slower). Setting it turns glibc's adjustment off for
/// the whole process, so a user who sets `MALLOC_MMAP_THRESHOLD_` (or
/// `BATCHMETA_KEEP_MALLOC=1`) keeps their own settings.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
                || std::env::var_os("BATCHMETA_KEEP_MALLOC").is_some_and(|v| v == "1")
            {
                return;
            }
            #[expect(
                unsafe_code,
                reason = "mallopt only sets a number in glibc's allocator state; it has no memory-safety preconditions"
            )]
            // SAFETY: mallopt takes two integers and touches no caller memory.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
            }
        });
    }
}

fn block<T, F>(py: Python<'_>, rt: &Runtime, fut: F) -> PyResult<T>
where
    T: Send,
    F: Future<Output = batchmeta::Result<T>> + Send,
{
    py.detach(|| rt.block_on(fut)).py()
}

fn ident(namespace: &str, table: &str) -> PyResult<TableIdent> {
    TableIdent::new(namespace, table).py()
}

fn expect(v: Option<&str>) -> PyResult<Option<Expect>> {
    match v {
        None => Ok(None),
        Some("none") => Ok(Some(Expect::Empty)),
        Some(b) => Ok(Some(Expect::Batch(convert::batch_id(b)?))),
    }
}

/// Exactly one partition spec (or none, for unpartitioned tables).
fn one_spec(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<SpecIn>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let mut specs = convert::specs(v)?;
    if specs.len() != 1 {
        return Err(invalid(
            "invalid_partition",
            format!(
                "{what} takes exactly one partition, got {}: give one, e.g. partitions=[\"2016-10-31\"]{}",
                specs.len(),
                if what == "store_dataframe" {
                    ", or split one frame into many with partition_by=[...]"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(specs.pop())
}

fn spec_or_unpartitioned(s: Option<SpecIn>) -> PartitionSpec {
    s.map(|s| s.spec)
        .unwrap_or_else(|| PartitionSpec::Positional(Vec::new()))
}

/// A batch as Python sees it: its files' full URIs, no schema.
fn batch_json(ms: &Metastore, b: &Batch) -> Value {
    let mut v = serde_json::to_value(b).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("schema");
        m.insert(
            "location".into(),
            Value::String(batchmeta::storage::uri(ms.warehouse_url(), &b.location)),
        );
    }
    v
}

/// A table as Python sees it: columns as name/type/nullable.
fn table_json(ms: &Metastore, t: &Table) -> Value {
    let columns: Vec<Value> = t
        .schema
        .fields()
        .iter()
        .map(|f| json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
        .collect();
    json!({
        "namespace": t.ident.namespace.as_str(),
        "name": t.ident.name.as_str(),
        "columns": columns,
        "partition_keys": t.partition_keys,
        "schema_version": t.schema_version,
        "location": batchmeta::storage::uri(ms.warehouse_url(), &t.location),
        "description": t.description,
        "owner": t.owner,
        "properties": t.properties,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

fn key_type(s: &str) -> PyResult<KeyType> {
    KeyType::parse(s).py()
}

impl Client {
    /// The runtime, this process's metastore and the caller's context.
    fn handle(&self, py: Python<'_>) -> PyResult<(Arc<Runtime>, Arc<Metastore>, Context)> {
        let rt = rt()?;
        let pid = std::process::id();
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.0 != pid {
            let fresh = block(
                py,
                &rt,
                Metastore::connect(self.url.as_deref(), &self.options),
            )?;
            let inherited = std::mem::replace(&mut *conn, (pid, Arc::new(fresh)));
            // Its pools belong to the parent's runtime: never touch them here.
            std::mem::forget(inherited);
        }
        Ok((rt, conn.1.clone(), Context::new(self.principal.clone())))
    }

    fn version(
        batch_id: Option<&str>,
        as_of: Option<&Bound<'_, PyAny>>,
        pin: Option<&str>,
    ) -> PyResult<Version> {
        match (batch_id, as_of.filter(|a| !a.is_none()), pin) {
            (None, None, None) => Ok(Version::Current),
            (Some(b), None, None) => Ok(Version::Batch(convert::batch_id(b)?)),
            (None, Some(t), None) => Ok(Version::AsOf(convert::time(t, "as_of")?)),
            (None, None, Some(p)) => Ok(Version::Pin(PinName::new(p).py()?)),
            _ => Err(invalid(
                "invalid_version",
                "give at most one of batch_id, as_of and pin",
            )),
        }
    }
}

#[pymethods]
impl Client {
    /// Connects to a catalog: `http(s)://` a server, `sqlite://...` or a
    /// directory an embedded catalog, `None` the embedded default `.batchmeta/`.
    #[new]
    #[pyo3(signature = (url=None, *, warehouse=None, direct_data=None, principal="python".to_owned(), storage_options=None, token=None))]
    fn new(
        py: Python<'_>,
        url: Option<String>,
        warehouse: Option<String>,
        direct_data: Option<bool>,
        principal: String,
        storage_options: Option<&Bound<'_, PyAny>>,
        token: Option<String>,
    ) -> PyResult<Self> {
        // Object-store credentials (object_store / deltalake key names); the
        // standard `AWS_*` variables fill in what is not given.
        let storage_options = convert::string_map(storage_options, "storage_options")?;
        let options = ConnectOptions {
            warehouse,
            direct_data,
            storage_options,
            token: token.map(batchmeta::model::Secret::new),
        };
        let rt = rt()?;
        let ms = block(py, &rt, Metastore::connect(url.as_deref(), &options))?;
        Ok(Self {
            url,
            options,
            principal,
            conn: Mutex::new((std::process::id(), Arc::new(ms))),
        })
    }

    /// The catalog URL this client was given (`None` = embedded default).
    #[getter]
    fn url(&self) -> Option<String> {
        self.url.clone()
    }

    /// The warehouse URL.
    #[getter]
    fn warehouse(&self, py: Python<'_>) -> PyResult<String> {
        let (_, ms, _) = self.handle(py)?;
        Ok(ms.warehouse_url().to_owned())
    }

    /// Stores a frame (see `batchmeta.store_dataframe`).
    #[pyo3(signature = (data, namespace, table, partitions=None, *, partition_by=None, expected_batch=None, schema_mode=None, message=None, metadata=None, idempotency_key=None, publish=true))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn store<'py>(
        &self,
        py: Python<'py>,
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
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let spec = one_spec(partitions, "store_dataframe")?;
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
            expect: expect(expected_batch)?,
            schema_mode: convert::schema_mode(schema_mode)?,
            message,
            metadata,
            idempotency_key,
        };
        // Key names (and types) for a first write that creates the table.
        let keys: Option<Vec<(String, Option<KeyType>)>> = match (&partition_by, &spec) {
            (Some(cols), _) => Some(cols.iter().map(|c| (c.clone(), None)).collect()),
            (None, Some(s)) => s.keys.clone(),
            (None, None) => Some(Vec::new()),
        };
        let (batches, schema) = data.0.into_inner();
        tune_malloc();
        let (rt, ms, ctx) = self.handle(py)?;
        let result: Value = block(py, &rt, async {
            let create = match ms.table(&ident).await {
                Ok(_) => None,
                Err(e) if e.kind() == ErrorKind::NotFound => match &keys {
                    Some(keys) => Some(table_for_data(&ident, &schema, keys)?),
                    None => {
                        return Err(batchmeta::Error::not_found_hint(
                            batchmeta::error::Object::Table,
                            ident.to_string(),
                            batchmeta::model::Hint::Text {
                                text: "a first write creates the table when it can name the partition keys: pass partitions=[{\"date\": \"2016-10-31\"}] or partition_by=[\"date\"], or call create_table() first".into(),
                            },
                        ));
                    }
                },
                Err(e) => return Err(e),
            };
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
            let partition = spec_or_unpartitioned(spec);
            if publish {
                let out = ms
                    .store_creating(
                        &ctx,
                        &ident,
                        &partition,
                        schema,
                        stream,
                        &options,
                        create.as_ref(),
                    )
                    .await?;
                return Ok(json!({
                    "table": ident.to_string(),
                    "batches": [batch_json(&ms, &out.stored.batch)],
                    "commit_id": out.stored.commit.commit_id,
                    "event_ids": out.stored.commit.events.iter().map(|e| e.id).collect::<Vec<_>>(),
                    "created_table": out.created_table,
                    "published": true,
                }));
            }
            // Write-audit-publish: stage and write, publish later.
            let mut created_table = false;
            if let Some(new) = &create {
                created_table = ms.ensure_table(&ctx, new).await?.1;
            }
            let stage = StageOptions {
                idempotency_key: options.idempotency_key.clone(),
                message: options.message.clone(),
                metadata: options.metadata.clone(),
            };
            let staged = ms
                .stage(&ctx, &ident, std::slice::from_ref(&partition), &stage)
                .await?;
            let batch = staged
                .into_iter()
                .next()
                .ok_or_else(|| batchmeta::Error::Internal("stage returned no batch".into()))?;
            if let Err(e) = ms
                .write(&ident, &batch.id, schema, stream, options.schema_mode)
                .await
            {
                ms.abandon_failed_store(&ident, &batch).await;
                return Err(e);
            }
            let batch = ms.batch(&ident, &batch.id).await?;
            Ok(json!({
                "table": ident.to_string(),
                "batches": [batch_json(&ms, &batch)],
                "commit_id": null,
                "event_ids": [],
                "created_table": created_table,
                "published": false,
            }))
        })?;
        convert::to_python(py, &result)
    }

    /// Reads partitions as a `pyarrow.Table` (see `batchmeta.load_dataframe`).
    #[pyo3(signature = (namespace, table, partitions=None, *, batch_id=None, as_of=None, pin=None, columns=None, filters=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn load(
        &self,
        py: Python<'_>,
        namespace: &str,
        table: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        batch_id: Option<&str>,
        as_of: Option<&Bound<'_, PyAny>>,
        pin: Option<&str>,
        columns: Option<Vec<String>>,
        filters: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArrowType<arrow_pyarrow::Table>> {
        let ident = ident(namespace, table)?;
        let partitions = partitions
            .filter(|p| !p.is_none())
            .map(|p| convert::specs(p).map(|v| v.into_iter().map(|s| s.spec).collect::<Vec<_>>()))
            .transpose()?;
        let req = ReadRequest {
            resolve: ResolveRequest {
                partitions,
                version: Self::version(batch_id, as_of, pin)?,
            },
            columns,
            filters: match filters.filter(|f| !f.is_none()) {
                Some(f) => convert::filters(f)?,
                None => Vec::new(),
            },
        };
        tune_malloc();
        let (rt, ms, _) = self.handle(py)?;
        let (schema, batches) = block(py, &rt, async {
            let (schema, stream) = ms.read(&ident, &req).await?;
            let batches: Vec<_> = stream.try_collect().await?;
            Ok((schema, batches))
        })?;
        let table = arrow_pyarrow::Table::try_new(batches, schema)
            .map_err(|e| to_py(batchmeta::Error::from(e)))?;
        Ok(PyArrowType(table))
    }

    /// The full URIs of the files of the resolved partitions.
    #[pyo3(signature = (namespace, table, partitions=None, *, batch_id=None, as_of=None, pin=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn files(
        &self,
        py: Python<'_>,
        namespace: &str,
        table: &str,
        partitions: Option<&Bound<'_, PyAny>>,
        batch_id: Option<&str>,
        as_of: Option<&Bound<'_, PyAny>>,
        pin: Option<&str>,
    ) -> PyResult<Vec<String>> {
        let ident = ident(namespace, table)?;
        let partitions = partitions
            .filter(|p| !p.is_none())
            .map(|p| convert::specs(p).map(|v| v.into_iter().map(|s| s.spec).collect::<Vec<_>>()))
            .transpose()?;
        let req = ResolveRequest {
            partitions,
            version: Self::version(batch_id, as_of, pin)?,
        };
        let (rt, ms, _) = self.handle(py)?;
        block(py, &rt, ms.files(&ident, &req))
    }

    /// Rolls one partition back to its previous batch (or to `to`).
    #[pyo3(signature = (namespace, table, partition=None, *, to=None, expected_batch=None, message=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn rollback<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        partition: Option<&Bound<'py, PyAny>>,
        to: Option<&str>,
        expected_batch: Option<&str>,
        message: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let spec = match partition.filter(|p| !p.is_none()) {
            Some(p) => convert::spec(p)?.spec,
            None => PartitionSpec::Positional(Vec::new()),
        };
        let req = RollbackRequest {
            to: to.map(convert::batch_id).transpose()?,
            expect: expected_batch.map(convert::batch_id).transpose()?,
            message,
        };
        let (rt, ms, ctx) = self.handle(py)?;
        let event = block(py, &rt, ms.rollback(&ctx, &ident, &spec, &req))?;
        convert::serialized(py, &event)
    }

    /// The pointer moves of one partition, newest first.
    #[pyo3(signature = (namespace, table, partition=None, *, limit=None))]
    fn history<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        partition: Option<&Bound<'py, PyAny>>,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let spec = match partition.filter(|p| !p.is_none()) {
            Some(p) => convert::spec(p)?.spec,
            None => PartitionSpec::Positional(Vec::new()),
        };
        let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT);
        let (rt, ms, _) = self.handle(py)?;
        let events = block(py, &rt, async {
            let mut out = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = ms
                    .history(&ident, &spec, cursor.as_deref(), Some(limit.min(1000)))
                    .await?;
                out.extend(page.items);
                match page.next_cursor {
                    Some(c) if (out.len() as u32) < limit => cursor = Some(c),
                    _ => break,
                }
            }
            out.truncate(limit as usize);
            Ok(out)
        })?;
        convert::serialized(py, &events)
    }

    /// Every batch of one partition (staged and committed), newest first.
    #[pyo3(signature = (namespace, table, partition=None))]
    fn batches<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        partition: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let spec = match partition.filter(|p| !p.is_none()) {
            Some(p) => convert::spec(p)?.spec,
            None => PartitionSpec::Positional(Vec::new()),
        };
        let (rt, ms, _) = self.handle(py)?;
        let batches = block(py, &rt, ms.batches(&ident, &spec))?;
        let v: Vec<Value> = batches.iter().map(|b| batch_json(&ms, b)).collect();
        convert::to_python(py, &Value::Array(v))
    }

    /// Published partitions with their current batches.
    #[pyo3(signature = (namespace, table, *, prefix=None, limit=None))]
    fn partitions<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        prefix: Option<String>,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        // Every partition unless a limit is given: a listing that stops
        // short without saying so would look complete.
        let limit = limit.unwrap_or(u32::MAX);
        let (rt, ms, _) = self.handle(py)?;
        let items = block(py, &rt, async {
            let mut out = Vec::new();
            let mut query = PartitionQuery {
                prefix,
                limit: Some(limit.min(1000)),
                ..PartitionQuery::default()
            };
            loop {
                let page = ms.partitions(&ident, &query).await?;
                out.extend(page.items);
                match page.next_cursor {
                    Some(c) if (out.len() as u32) < limit => query.cursor = Some(c),
                    _ => break,
                }
            }
            out.truncate(limit as usize);
            Ok(out)
        })?;
        convert::partition_rows(py, &items).map(Bound::into_any)
    }

    /// The tables of a namespace.
    fn tables<'py>(&self, py: Python<'py>, namespace: &str) -> PyResult<Bound<'py, PyAny>> {
        let ns = NamespaceName::new(namespace).py()?;
        let (rt, ms, _) = self.handle(py)?;
        let tables = block(py, &rt, ms.tables(&ns))?;
        let v: Vec<Value> = tables.iter().map(|t| table_json(&ms, t)).collect();
        convert::to_python(py, &Value::Array(v))
    }

    /// One table.
    fn table<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let (rt, ms, _) = self.handle(py)?;
        let t = block(py, &rt, ms.table(&ident))?;
        convert::to_python(py, &table_json(&ms, &t))
    }

    /// Creates a namespace (a store never creates one: a typo must not).
    #[pyo3(signature = (namespace, *, description=None, owner=None, properties=None, exist_ok=false))]
    fn create_namespace<'py>(
        &self,
        py: Python<'py>,
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
        let (rt, ms, ctx) = self.handle(py)?;
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

    /// The namespaces.
    fn namespaces<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (rt, ms, _) = self.handle(py)?;
        let ns = block(py, &rt, ms.namespaces())?;
        convert::serialized(py, &ns)
    }

    /// Creates a table from an Arrow schema; `partition_keys` are
    /// `(name, type)` pairs (type `None` = from the column, else string).
    #[pyo3(signature = (namespace, table, schema, partition_keys, *, description=None, owner=None, properties=None, exist_ok=false))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn create_table<'py>(
        &self,
        py: Python<'py>,
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
        let (rt, ms, ctx) = self.handle(py)?;
        let t = block(py, &rt, async {
            ms.require_namespace(&ident.namespace).await?;
            match ms.create_table(&ctx, &new).await {
                Err(e) if exist_ok && e.kind() == ErrorKind::AlreadyExists => {
                    ms.table(&ident).await
                }
                other => other,
            }
        })?;
        convert::to_python(py, &table_json(&ms, &t))
    }

    /// Pins a partition's batch (current or `batch_id`), or the whole table
    /// as of a time.
    #[pyo3(signature = (namespace, table, name, partition=None, *, batch_id=None, as_of=None, owner=None, reason=None, expires_at=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn pin<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        name: &str,
        partition: Option<&Bound<'py, PyAny>>,
        batch_id: Option<&str>,
        as_of: Option<&Bound<'py, PyAny>>,
        owner: Option<String>,
        reason: Option<String>,
        expires_at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let name = PinName::new(name).py()?;
        let spec = partition
            .filter(|p| !p.is_none())
            .map(|p| convert::spec(p).map(|s| s.spec))
            .transpose()?;
        let as_of = as_of
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "as_of"))
            .transpose()?;
        let batch = batch_id.map(convert::batch_id).transpose()?;
        let expires_at = expires_at
            .filter(|a| !a.is_none())
            .map(|a| convert::future_time(a, "expires_at"))
            .transpose()?;
        if spec.is_some() && as_of.is_some() {
            return Err(invalid(
                "invalid_pin",
                "a pin holds a partition's batch or the whole table as of a time: give partition (and batch_id) or as_of, not both",
            ));
        }
        if spec.is_none() && batch.is_some() {
            return Err(invalid(
                "invalid_pin",
                "batch_id names a partition's batch: give the partition too",
            ));
        }
        let (rt, ms, ctx) = self.handle(py)?;
        let pin = block(py, &rt, async {
            let target = match spec {
                Some(spec) => {
                    let partition = ms.partition(&ident, &spec).await?;
                    let batch =
                        match batch {
                            Some(b) => b,
                            None => {
                                let req = ResolveRequest {
                                    partitions: Some(vec![spec.clone()]),
                                    version: Version::Current,
                                };
                                let resolved = ms.resolve(&ident, &req).await?;
                                resolved.into_iter().next().map(|r| r.batch.id).ok_or_else(
                                    || {
                                        batchmeta::Error::not_found(
                                            batchmeta::error::Object::Partition,
                                            partition.path(),
                                        )
                                    },
                                )?
                            }
                        };
                    PinTarget::Batch { partition, batch }
                }
                None => PinTarget::AsOf {
                    at: as_of.unwrap_or_else(chrono::Utc::now),
                },
            };
            let new = NewPin {
                name,
                owner,
                reason,
                target,
                expires_at,
            };
            ms.create_pin(&ctx, &ident, &new).await
        })?;
        convert::serialized(py, &pin)
    }

    /// Deletes a pin.
    fn unpin(&self, py: Python<'_>, namespace: &str, table: &str, name: &str) -> PyResult<()> {
        let ident = ident(namespace, table)?;
        let name = PinName::new(name).py()?;
        let (rt, ms, ctx) = self.handle(py)?;
        block(py, &rt, ms.delete_pin(&ctx, &ident, &name))
    }

    /// The pins of a table (or of every table).
    #[pyo3(signature = (namespace=None, table=None))]
    fn pins<'py>(
        &self,
        py: Python<'py>,
        namespace: Option<&str>,
        table: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (ident, only_namespace) = match (namespace, table) {
            (Some(n), Some(t)) => (Some(ident(n, t)?), None),
            (Some(n), None) => (None, Some(NamespaceName::new(n).py()?)),
            (None, None) => (None, None),
            (None, Some(_)) => {
                return Err(invalid(
                    "invalid_input",
                    "a table needs its namespace: pins(namespace, table), pins(namespace) or pins() for every pin",
                ));
            }
        };
        let (rt, ms, _) = self.handle(py)?;
        let mut pins = block(py, &rt, async {
            if let Some(ns) = &only_namespace {
                ms.require_namespace(ns).await?;
            }
            ms.pins(ident.as_ref()).await
        })?;
        if let Some(ns) = &only_namespace {
            pins.retain(|p| p.table.namespace == *ns);
        }
        convert::serialized(py, &pins)
    }

    /// Queries the audit trail.
    #[pyo3(signature = (namespace=None, table=None, partition=None, *, action=None, principal=None, since=None, until=None, after=None, limit=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn events<'py>(
        &self,
        py: Python<'py>,
        namespace: Option<&str>,
        table: Option<&str>,
        partition: Option<&Bound<'py, PyAny>>,
        action: Option<&str>,
        principal: Option<String>,
        since: Option<&Bound<'py, PyAny>>,
        until: Option<&Bound<'py, PyAny>>,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let table_ident = match (namespace, table) {
            (Some(n), Some(t)) => Some(ident(n, t)?),
            (_, None) => None,
            (None, Some(_)) => {
                return Err(invalid("invalid_input", "a table needs its namespace"));
            }
        };
        let ns = match (namespace, &table_ident) {
            (Some(n), None) => Some(NamespaceName::new(n).py()?),
            _ => None,
        };
        let spec = partition
            .filter(|p| !p.is_none())
            .map(|p| convert::spec(p).map(|s| s.spec))
            .transpose()?;
        if spec.is_some() && table_ident.is_none() {
            return Err(invalid("invalid_input", "a partition needs its table"));
        }
        let action = action.map(|a| Action::parse(a).py()).transpose()?;
        let since = since
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "since"))
            .transpose()?;
        let until = until
            .filter(|a| !a.is_none())
            .map(|a| convert::time(a, "until"))
            .transpose()?;
        let limit = limit.unwrap_or(DEFAULT_LIST_LIMIT);
        let (rt, ms, _) = self.handle(py)?;
        let events = block(py, &rt, async {
            let partition = match (&table_ident, &spec) {
                (Some(t), Some(s)) => Some(ms.partition(t, s).await?),
                _ => None,
            };
            let mut query = EventQuery {
                namespace: ns,
                table: table_ident.clone(),
                partition,
                principal,
                action,
                since,
                until,
                after,
                order: if after.is_some() {
                    Order::OldestFirst
                } else {
                    Order::NewestFirst
                },
                cursor: None,
                limit: Some(limit.min(1000)),
            };
            let mut out = Vec::new();
            loop {
                let page = ms.events(&query).await?;
                out.extend(page.items);
                match page.next_cursor {
                    Some(c) if (out.len() as u32) < limit => query.cursor = Some(c),
                    _ => break,
                }
            }
            out.truncate(limit as usize);
            Ok(out)
        })?;
        convert::event_columns(py, &events).map(Bound::into_any)
    }

    /// Stages one batch per partition, for write-audit-publish.
    #[pyo3(signature = (namespace, table, partitions, *, message=None, metadata=None, idempotency_key=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn stage<'py>(
        &self,
        py: Python<'py>,
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
        let (rt, ms, ctx) = self.handle(py)?;
        let staged = block(py, &rt, ms.stage(&ctx, &ident, &specs, &options))?;
        let v: Vec<Value> = staged.iter().map(|b| batch_json(&ms, b)).collect();
        convert::to_python(py, &Value::Array(v))
    }

    /// Registers Parquet files that an engine (Spark's executors) wrote
    /// straight into a staged batch's prefix. `paths` are object keys
    /// relative to the warehouse; each file's footer is read from the store.
    fn add_files<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        batch_id: &str,
        paths: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let batch = convert::batch_id(batch_id)?;
        let (rt, ms, _) = self.handle(py)?;
        let b = block(py, &rt, ms.add_files(&ident, &batch, &paths))?;
        convert::to_python(py, &batch_json(&ms, &b))
    }

    /// Publishes staged batches in one all-or-nothing commit. `batches` maps
    /// each partition to its staged batch ID.
    #[pyo3(signature = (namespace, table, batches, *, expected_batch=None, schema_mode=None, message=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn publish<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        batches: &Bound<'py, PyList>,
        expected_batch: Option<&str>,
        schema_mode: Option<&str>,
        message: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let expect = expect(expected_batch)?;
        let mut specs = Vec::with_capacity(batches.len());
        for item in batches.iter() {
            let (partition, batch): (Bound<'py, PyAny>, String) = item.extract().map_err(|_| {
                invalid("invalid_input", "publish takes (partition, batch_id) pairs")
            })?;
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
        };
        let (rt, ms, ctx) = self.handle(py)?;
        let commit = block(py, &rt, ms.publish(&ctx, &ident, &specs, &options))?;
        convert::serialized(py, &commit)
    }

    /// Waits until a partition is published (after batch `after`, if
    /// given); `None` when `timeout` seconds pass first.
    #[pyo3(signature = (namespace, table, partition=None, *, after=None, timeout=60.0))]
    fn wait<'py>(
        &self,
        py: Python<'py>,
        namespace: &str,
        table: &str,
        partition: Option<&Bound<'py, PyAny>>,
        after: Option<&str>,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ident = ident(namespace, table)?;
        let spec = match partition.filter(|p| !p.is_none()) {
            Some(p) => convert::spec(p)?.spec,
            None => PartitionSpec::Positional(Vec::new()),
        };
        let after = after.map(convert::batch_id).transpose()?;
        let timeout = Duration::try_from_secs_f64(timeout).map_err(|_| {
            invalid(
                "invalid_input",
                "timeout is a non-negative number of seconds",
            )
        })?;
        let (rt, ms, _) = self.handle(py)?;
        let got = block(py, &rt, ms.wait(&ident, &spec, after.as_ref(), timeout))?;
        match got {
            Some(r) => convert::to_python(py, &batch_json(&ms, &r.batch)),
            None => Ok(py.None().into_bound(py)),
        }
    }

    fn __repr__(&self) -> String {
        match &self.url {
            Some(u) => format!("Client({u:?})"),
            None => "Client(None)".to_owned(),
        }
    }
}
