//! Reads: data frames (`bm_load`) and their files, and what the catalog
//! holds (namespaces, tables, partitions, batches).

use batchmeta::model::{NamespaceName, PinName, Table, Version};
use batchmeta::{Metastore, ReadRequest, ResolveRequest};
use extendr_api::prelude::*;
use futures::TryStreamExt;
use serde_json::json;

use crate::client::{answer, block, get_client, ident};
use crate::errors::{IntoR, RResult, invalid};
use crate::frame::{self, Int64As};
use crate::values::{self, opt_str, req_str};

/// The version a read asks for: at most one of a batch, a time and a pin.
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
        let items = block(
            "partitions",
            ms.partitions_up_to(&ident, prefix.as_deref(), limit),
        )?;
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

extendr_module! {
    mod reads;
    fn bm_load;
    fn bm_files;
    fn bm_batches;
    fn bm_partitions;
    fn bm_tables;
    fn bm_table;
    fn bm_namespaces;
}
