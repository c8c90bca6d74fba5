//! The operations of the core facade, one R-callable function each. A
//! client is an external pointer to [`Client`]; every function checks its
//! arguments, runs the I/O on the runtime while it watches for Ctrl-C, and
//! answers its value or a condition (see `errors`).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use batchmeta::metastore::table_for_data;
use batchmeta::model::{
    Action, Context, EventQuery, KeyType, NamespaceName, NewNamespace, NewPin, Order,
    PartitionQuery, PartitionSpec, PinName, PinTarget, RollbackRequest, Table, TableIdent, Version,
};
use batchmeta::{ConnectOptions, ErrorKind, Metastore, ReadRequest, ResolveRequest, StoreOptions};
use extendr_api::prelude::*;
use futures::TryStreamExt;
use serde_json::json;

use crate::errors::{IntoR, RResult, interrupted, invalid, to_r};
use crate::frame::{self, Int64As};
use crate::runtime::rt;
use crate::values::{self, opt_str, req_str};

/// Most items fetched by a listing when no limit is given.
const DEFAULT_LIST_LIMIT: u32 = 10_000;

/// How often a running call looks for Ctrl-C.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// A connection to a batchmeta catalog (embedded or a server).
pub(crate) struct Client {
    url: Option<String>,
    options: ConnectOptions,
    principal: String,
    /// The process that connected and its metastore; a forked child
    /// reconnects (connection pools do not survive `fork()`).
    conn: Mutex<(u32, Arc<Metastore>)>,
}

/// Runs `fut` to completion on the runtime, on R's main thread, looking
/// for Ctrl-C every [`INTERRUPT_POLL`]. An interrupt drops the future: a
/// store that had not committed its publish transaction publishes nothing
/// (its staged batch stays invisible to readers).
fn block<T>(what: &str, fut: impl Future<Output = batchmeta::Result<T>>) -> RResult<T> {
    let rt = rt().r()?;
    rt.block_on(async {
        let mut fut = std::pin::pin!(fut);
        let mut tick = tokio::time::interval(INTERRUPT_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                out = &mut fut => return out.r(),
                _ = tick.tick() => {
                    if crate::interrupt::pending() {
                        return Err(interrupted(what));
                    }
                }
            }
        }
    })
}

fn get_client(ptr: &Robj) -> RResult<ExternalPtr<Client>> {
    ExternalPtr::<Client>::try_from(ptr).map_err(|_| {
        invalid(
            "invalid_input",
            "client must be a batchmeta client from batchmeta::connect()",
        )
    })
}

impl Client {
    /// This process's metastore and the caller's context.
    fn handle(&self) -> RResult<(Arc<Metastore>, Context)> {
        let pid = std::process::id();
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.0 != pid {
            let fresh = block(
                "connect",
                Metastore::connect(self.url.as_deref(), &self.options),
            )?;
            let inherited = std::mem::replace(&mut *conn, (pid, Arc::new(fresh)));
            std::mem::forget(inherited);
        }
        Ok((conn.1.clone(), Context::new(self.principal.clone())))
    }
}

fn ident(namespace: &Robj, table: &Robj) -> RResult<TableIdent> {
    TableIdent::new(&req_str(namespace, "namespace")?, &req_str(table, "table")?).r()
}

fn version(batch_id: &Robj, as_of: &Robj, pin: &Robj) -> RResult<Version> {
    let batch = opt_str(batch_id, "batch_id")?;
    let as_of = values::past(as_of, "as_of")?;
    let pin = opt_str(pin, "pin")?;
    match (batch, as_of, pin) {
        (None, None, None) => Ok(Version::Current),
        (Some(b), None, None) => Ok(Version::Batch(values::batch_id(&b)?)),
        (None, Some(t), None) => Ok(Version::AsOf(t)),
        (None, None, Some(p)) => Ok(Version::Pin(PinName::new(&p).r()?)),
        _ => Err(invalid(
            "invalid_version",
            "give at most one of batch_id, as_of and pin",
        )),
    }
}

fn answer(r: RResult<Robj>) -> Robj {
    r.unwrap_or_else(|c| c)
}

/// A table as R sees it: columns as name/type/nullable.
fn table_json(ms: &Metastore, t: &Table) -> serde_json::Value {
    let columns: Vec<serde_json::Value> = t
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
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    })
}

/// Connects: `url` `NULL` = the embedded default `.batchmeta/`.
#[extendr]
fn bm_connect(url: Robj, warehouse: Robj, token: Robj, principal: Robj, direct_data: Robj) -> Robj {
    answer((|| {
        let url = opt_str(&url, "url")?;
        let options = ConnectOptions {
            warehouse: opt_str(&warehouse, "warehouse")?,
            direct_data: values::opt_bool(&direct_data, "direct_data")?,
            storage_options: Default::default(),
            token: opt_str(&token, "token")?.map(batchmeta::model::Secret::new),
        };
        let principal = opt_str(&principal, "principal")?.unwrap_or_else(|| "r".to_owned());
        let ms = block("connect", Metastore::connect(url.as_deref(), &options))?;
        let c = Client {
            url,
            options,
            principal,
            conn: Mutex::new((std::process::id(), Arc::new(ms))),
        };
        Ok(ExternalPtr::new(c).into())
    })())
}

/// The warehouse URL.
#[extendr]
fn bm_warehouse(client: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let (ms, _) = c.handle()?;
        Ok(ms.warehouse_url().into())
    })())
}

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
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
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
            expect: values::expect(&expected_batch)?,
            schema_mode: values::schema_mode(&schema_mode)?,
            message: opt_str(&message, "message")?,
            metadata,
            idempotency_key: None,
        };
        let keys: Option<Vec<(String, Option<KeyType>)>> = match (&partition_by, &spec) {
            (Some(cols), _) => Some(cols.iter().map(|c| (c.clone(), None)).collect()),
            (None, Some(s)) => s.keys.clone(),
            (None, None) => Some(Vec::new()),
        };
        let (schema, batch) = frame::from_r(&data)?;
        let (ms, ctx) = c.handle()?;
        // The table as it is, if it exists: R's timestamps take its unit.
        let existing = block("store_dataframe", async {
            match ms.table(&ident).await {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        let (schema, batch) = match &existing {
            Some(t) => {
                let b = frame::conform(batch, &t.schema)?;
                (b.schema(), b)
            }
            None => (schema, batch),
        };
        let create = match (&existing, &keys) {
            (Some(_), _) => None,
            (None, Some(keys)) => Some(table_for_data(&ident, &schema, keys).r()?),
            (None, None) => {
                // A misspelled namespace says so (with did-you-mean) first.
                block("store_dataframe", ms.require_namespace(&ident.namespace))?;
                return Err(to_r(batchmeta::Error::not_found_hint(
                    batchmeta::error::Object::Table,
                    ident.to_string(),
                    batchmeta::model::Hint::Text {
                        text: "a first write creates the table when it can name the partition keys: pass partitions = list(date = \"2016-10-31\") or partition_by = \"date\", or create the table first".into(),
                    },
                )));
            }
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
            Ok((
                vec![out.stored.batch],
                out.stored.commit.commit_id,
                out.stored.commit.events,
                out.created_table,
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

/// Reads partitions (`NULL` = all) as `list(columns, nrow)`.
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_load(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partitions: Robj,
    batch_id: Robj,
    as_of: Robj,
    pin: Robj,
    columns: Robj,
    int64: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let partitions =
            values::specs(&partitions)?.map(|v| v.into_iter().map(|s| s.spec).collect::<Vec<_>>());
        let int64 = match opt_str(&int64, "int64")?.as_deref() {
            None | Some("integer64") => Int64As::Integer64,
            Some("double") => Int64As::Double,
            Some(other) => {
                return Err(invalid(
                    "invalid_input",
                    format!("int64 = {other:?}: use \"integer64\" or \"double\""),
                ));
            }
        };
        let req = ReadRequest {
            resolve: ResolveRequest {
                partitions,
                version: version(&batch_id, &as_of, &pin)?,
            },
            columns: values::opt_strings(&columns, "columns")?,
            filters: Vec::new(),
        };
        let (ms, _) = c.handle()?;
        let (schema, batches) = block("load_dataframe", async {
            let (schema, stream) = ms.read(&ident, &req).await?;
            let batches: Vec<_> = stream.try_collect().await?;
            Ok((schema, batches))
        })?;
        frame::to_r_frame(&schema, &batches, int64)
    })())
}

/// The full URIs of the resolved partitions' files.
#[extendr]
fn bm_files(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partitions: Robj,
    batch_id: Robj,
    as_of: Robj,
    pin: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let partitions =
            values::specs(&partitions)?.map(|v| v.into_iter().map(|s| s.spec).collect::<Vec<_>>());
        let req = ResolveRequest {
            partitions,
            version: version(&batch_id, &as_of, &pin)?,
        };
        let (ms, _) = c.handle()?;
        let files = block("files", ms.files(&ident, &req))?;
        Ok(Strings::from_values(files).into())
    })())
}

/// Rolls one partition back to its previous batch (or to `to`).
#[extendr]
fn bm_rollback(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    to: Robj,
    expected_batch: Robj,
    message: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let req = RollbackRequest {
            to: opt_str(&to, "to")?
                .map(|b| values::batch_id(&b))
                .transpose()?,
            expect: opt_str(&expected_batch, "expected_batch")?
                .map(|b| values::batch_id(&b))
                .transpose()?,
            message: opt_str(&message, "message")?,
        };
        let (ms, ctx) = c.handle()?;
        let event = block("rollback", ms.rollback(&ctx, &ident, &spec, &req))?;
        Ok(values::event_columns(std::slice::from_ref(&event)))
    })())
}

/// The pointer moves of one partition, newest first.
#[extendr]
fn bm_history(client: Robj, namespace: Robj, table: Robj, partition: Robj, limit: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        let (ms, _) = c.handle()?;
        let events = block("history", async {
            let mut out = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = ms
                    .history(&ident, &spec, cursor.as_deref(), Some(limit.clamp(1, 1000)))
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
        Ok(values::event_columns(&events))
    })())
}

/// Every batch of one partition (staged and committed), newest first.
#[extendr]
fn bm_batches(client: Robj, namespace: Robj, table: Robj, partition: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let (ms, _) = c.handle()?;
        let batches = block("batches", ms.batches(&ident, &spec))?;
        Ok(values::batch_columns(ms.warehouse_url(), &batches))
    })())
}

/// Published partitions with their current batches, in key order.
#[extendr]
fn bm_partitions(client: Robj, namespace: Robj, table: Robj, prefix: Robj, limit: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let prefix = opt_str(&prefix, "prefix")?;
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(u32::MAX);
        let (ms, _) = c.handle()?;
        let items = block("partitions", async {
            let mut out = Vec::new();
            let mut query = PartitionQuery {
                prefix,
                limit: Some(limit.clamp(1, 1000)),
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
        Ok(values::partition_columns(&items))
    })())
}

/// The tables of a namespace.
#[extendr]
fn bm_tables(client: Robj, namespace: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ns = NamespaceName::new(&req_str(&namespace, "namespace")?).r()?;
        let (ms, _) = c.handle()?;
        let tables = block("tables", ms.tables(&ns))?;
        let v: Vec<serde_json::Value> = tables.iter().map(|t| table_json(&ms, t)).collect();
        Ok(values::json(&serde_json::Value::Array(v)))
    })())
}

/// One table.
#[extendr]
fn bm_table(client: Robj, namespace: Robj, table: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let (ms, _) = c.handle()?;
        let t = block("table_info", ms.table(&ident))?;
        Ok(values::json(&table_json(&ms, &t)))
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

/// The namespace names.
#[extendr]
fn bm_namespaces(client: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let (ms, _) = c.handle()?;
        let ns = block("namespaces", ms.namespaces())?;
        Ok(Strings::from_values(ns.iter().map(|n| n.name.as_str())).into())
    })())
}

/// Pins a partition's batch (current or `batch_id`), or the table as of a time.
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_pin(
    client: Robj,
    namespace: Robj,
    table: Robj,
    name: Robj,
    partition: Robj,
    batch_id: Robj,
    as_of: Robj,
    owner: Robj,
    reason: Robj,
    expires_at: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let name = PinName::new(&req_str(&name, "name")?).r()?;
        let spec = if partition.is_null() {
            None
        } else {
            Some(values::spec(&partition)?.spec)
        };
        let as_of = values::past(&as_of, "as_of")?;
        let batch = opt_str(&batch_id, "batch_id")?
            .map(|b| values::batch_id(&b))
            .transpose()?;
        let expires_at = values::future(&expires_at, "expires_at")?;
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
        let owner = opt_str(&owner, "owner")?;
        let reason = opt_str(&reason, "reason")?;
        let (ms, ctx) = c.handle()?;
        let pin = block("pin", async {
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
        Ok(values::pin_columns(std::slice::from_ref(&pin)))
    })())
}

/// Deletes a pin.
#[extendr]
fn bm_unpin(client: Robj, namespace: Robj, table: Robj, name: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let name = PinName::new(&req_str(&name, "name")?).r()?;
        let (ms, ctx) = c.handle()?;
        block("unpin", ms.delete_pin(&ctx, &ident, &name))?;
        Ok(().into())
    })())
}

/// The pins of a table, of a namespace, or of every table.
#[extendr]
fn bm_pins(client: Robj, namespace: Robj, table: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let namespace = opt_str(&namespace, "namespace")?;
        let table = opt_str(&table, "table")?;
        let (ident, only) = match (namespace, table) {
            (Some(n), Some(t)) => (Some(TableIdent::new(&n, &t).r()?), None),
            (Some(n), None) => (None, Some(NamespaceName::new(&n).r()?)),
            (None, None) => (None, None),
            (None, Some(_)) => {
                return Err(invalid(
                    "invalid_input",
                    "a table needs its namespace: pins(namespace, table), pins(namespace) or pins() for every pin",
                ));
            }
        };
        let (ms, _) = c.handle()?;
        let mut pins = block("pins", async {
            if let Some(ns) = &only {
                ms.require_namespace(ns).await?;
            }
            ms.pins(ident.as_ref()).await
        })?;
        if let Some(ns) = &only {
            pins.retain(|p| p.table.namespace == *ns);
        }
        Ok(values::pin_columns(&pins))
    })())
}

/// Queries the audit trail (newest first; with `after`, oldest first).
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_events(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    action: Robj,
    principal: Robj,
    since: Robj,
    until: Robj,
    after: Robj,
    limit: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let namespace = opt_str(&namespace, "namespace")?;
        let table = opt_str(&table, "table")?;
        let table_ident = match (&namespace, &table) {
            (Some(n), Some(t)) => Some(TableIdent::new(n, t).r()?),
            (_, None) => None,
            (None, Some(_)) => return Err(invalid("invalid_input", "a table needs its namespace")),
        };
        let ns = match (&namespace, &table_ident) {
            (Some(n), None) => Some(NamespaceName::new(n).r()?),
            _ => None,
        };
        let spec = if partition.is_null() {
            None
        } else {
            Some(values::spec(&partition)?.spec)
        };
        if spec.is_some() && table_ident.is_none() {
            return Err(invalid("invalid_input", "a partition needs its table"));
        }
        let action = opt_str(&action, "action")?
            .map(|a| Action::parse(&a).r())
            .transpose()?;
        let principal = opt_str(&principal, "principal")?;
        let since = values::past(&since, "since")?;
        let until = values::past(&until, "until")?;
        let after = values::opt_u32(&after, "after")?.map(i64::from);
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        let (ms, _) = c.handle()?;
        let events = block("events", async {
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
                limit: Some(limit.clamp(1, 1000)),
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
        Ok(values::event_columns(&events))
    })())
}

extendr_module! {
    mod client;
    fn bm_connect;
    fn bm_warehouse;
    fn bm_store;
    fn bm_load;
    fn bm_files;
    fn bm_rollback;
    fn bm_history;
    fn bm_batches;
    fn bm_partitions;
    fn bm_tables;
    fn bm_table;
    fn bm_create_namespace;
    fn bm_namespaces;
    fn bm_pin;
    fn bm_unpin;
    fn bm_pins;
    fn bm_events;
}
