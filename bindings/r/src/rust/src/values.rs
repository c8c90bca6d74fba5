//! R arguments to core types, and core results to R columns.
//!
//! The R code (`R/specs.R`) has already turned every partition the user
//! wrote (`"2016-10-31"`, `list(date = as.Date("2016-10-31"))`, a row of a
//! data frame, ...) into `list(values = <character>, names = <character or
//! NULL>, types = <character>)`; here that becomes a [`PartitionSpec`].
//! Results cross as named lists of column vectors, so the R side builds each
//! data frame in one step.

use std::collections::BTreeMap;

use batchmeta::model::{
    Batch, BatchId, Event, KeyType, PartitionInfo, PartitionSpec, Pin, PinTarget, SchemaMode,
};
use chrono::{DateTime, Utc};
use extendr_api::prelude::*;

use crate::errors::{IntoR, RResult, invalid};

/// A partition spec and, for named specs, the type each key's value
/// suggests (used only when a first write creates the table).
pub(crate) struct SpecIn {
    pub(crate) spec: PartitionSpec,
    pub(crate) keys: Option<Vec<(String, Option<KeyType>)>>,
}

/// An optional string argument (`NULL` or one non-NA string).
pub(crate) fn opt_str(v: &Robj, what: &str) -> RResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    match v.as_str_vector() {
        Some(s) if s.len() == 1 && !v.is_na() => Ok(Some(s[0].to_owned())),
        _ => Err(invalid(
            "invalid_input",
            format!("{what} must be one string (or NULL)"),
        )),
    }
}

/// A required string argument.
pub(crate) fn req_str(v: &Robj, what: &str) -> RResult<String> {
    opt_str(v, what)?.ok_or_else(|| invalid("invalid_input", format!("{what} must be one string")))
}

/// An optional character vector.
pub(crate) fn opt_strings(v: &Robj, what: &str) -> RResult<Option<Vec<String>>> {
    if v.is_null() {
        return Ok(None);
    }
    let strings = Strings::try_from(v.clone()).map_err(|_| {
        invalid(
            "invalid_input",
            format!("{what} must be a character vector"),
        )
    })?;
    strings
        .iter()
        .map(|s| {
            if s.is_na() {
                Err(invalid("invalid_input", format!("{what} cannot hold NA")))
            } else {
                Ok(s.as_ref().to_owned())
            }
        })
        .collect::<RResult<Vec<_>>>()
        .map(Some)
}

/// An optional non-negative whole number.
pub(crate) fn opt_u32(v: &Robj, what: &str) -> RResult<Option<u32>> {
    if v.is_null() {
        return Ok(None);
    }
    let bad = || {
        invalid(
            "invalid_input",
            format!("{what} must be one non-negative whole number"),
        )
    };
    let x = v
        .as_real()
        .or_else(|| v.as_integer().map(f64::from))
        .ok_or_else(bad)?;
    if !(0.0..=f64::from(u32::MAX)).contains(&x) || x.fract() != 0.0 {
        return Err(bad());
    }
    Ok(Some(x as u32))
}

/// `TRUE`, `FALSE` or `NULL`.
pub(crate) fn opt_bool(v: &Robj, what: &str) -> RResult<Option<bool>> {
    if v.is_null() {
        return Ok(None);
    }
    match v.as_bool() {
        Some(b) if v.len() == 1 => Ok(Some(b)),
        _ => Err(invalid(
            "invalid_input",
            format!("{what} must be TRUE, FALSE or NULL"),
        )),
    }
}

/// A named character vector (or `NULL`) as a map.
pub(crate) fn string_map(v: &Robj, what: &str) -> RResult<BTreeMap<String, String>> {
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let bad = || {
        invalid(
            "invalid_input",
            format!("{what} must be a named character vector, e.g. c(job = \"nightly\")"),
        )
    };
    let values = opt_strings(v, what)?.ok_or_else(bad)?;
    let names: Vec<String> = v.names().ok_or_else(bad)?.map(str::to_owned).collect();
    if names.iter().any(|n| n.is_empty() || n == "NA") {
        return Err(bad());
    }
    Ok(names.into_iter().zip(values).collect())
}

/// One partition spec from the R side's normal form.
pub(crate) fn spec(v: &Robj) -> RResult<SpecIn> {
    let bad = || invalid("invalid_partition", "a partition spec is malformed");
    let list = List::try_from(v.clone()).map_err(|_| bad())?;
    let map: std::collections::HashMap<&str, Robj> = list.iter().collect();
    let values =
        opt_strings(map.get("values").ok_or_else(bad)?, "a partition value")?.ok_or_else(bad)?;
    let names = match map.get("names") {
        Some(n) => opt_strings(n, "a partition key")?,
        None => None,
    };
    let types = match map.get("types") {
        Some(t) => opt_strings(t, "a partition type")?.unwrap_or_default(),
        None => Vec::new(),
    };
    let kind = |i: usize| -> RResult<Option<KeyType>> {
        match types.get(i).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(t) => KeyType::parse(t).r().map(Some),
        }
    };
    if let Some(names) = names {
        if names.len() != values.len() {
            return Err(bad());
        }
        let keys = names
            .iter()
            .enumerate()
            .map(|(i, n)| Ok((n.clone(), kind(i)?)))
            .collect::<RResult<Vec<_>>>()?;
        return Ok(SpecIn {
            spec: PartitionSpec::Named(names.into_iter().zip(values).collect()),
            keys: Some(keys),
        });
    }
    if values.len() == 1 && values[0].contains('=') {
        return Ok(SpecIn {
            spec: PartitionSpec::parse(&values[0]).r()?,
            keys: None,
        });
    }
    Ok(SpecIn {
        spec: PartitionSpec::Positional(values),
        keys: None,
    })
}

/// A list of specs (or `NULL`).
pub(crate) fn specs(v: &Robj) -> RResult<Option<Vec<SpecIn>>> {
    if v.is_null() {
        return Ok(None);
    }
    let list = List::try_from(v.clone())
        .map_err(|_| invalid("invalid_partition", "partitions are malformed"))?;
    list.values()
        .map(|s| spec(&s))
        .collect::<RResult<Vec<_>>>()
        .map(Some)
}

/// One optional spec; `NULL` is the unpartitioned table's one partition.
pub(crate) fn spec_or_unpartitioned(v: &Robj) -> RResult<PartitionSpec> {
    if v.is_null() {
        Ok(PartitionSpec::Positional(Vec::new()))
    } else {
        Ok(spec(v)?.spec)
    }
}

/// A batch ID.
pub(crate) fn batch_id(s: &str) -> RResult<BatchId> {
    BatchId::parse(s).r()
}

/// `schema_mode`: `NULL` = strict.
pub(crate) fn schema_mode(v: &Robj) -> RResult<SchemaMode> {
    match opt_str(v, "schema_mode")? {
        None => Ok(SchemaMode::default()),
        Some(s) => SchemaMode::parse(&s).r(),
    }
}

/// A time in the past; the R side formats POSIXct and Date as ISO 8601.
pub(crate) fn past(v: &Robj, what: &str) -> RResult<Option<DateTime<Utc>>> {
    opt_str(v, what)?
        .map(|s| batchmeta::model::time::parse_past(&s).r())
        .transpose()
}

/// A time in the future (`expires_at = "30d"`).
pub(crate) fn future(v: &Robj, what: &str) -> RResult<Option<DateTime<Utc>>> {
    opt_str(v, what)?
        .map(|s| batchmeta::model::time::parse_future(&s).r())
        .transpose()
}

fn seconds(t: &DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

fn opt_strs<'a>(v: impl Iterator<Item = Option<&'a str>>) -> Robj {
    let v: Vec<Option<&str>> = v.collect();
    let mut out = Strings::new(v.len());
    for (i, s) in v.into_iter().enumerate() {
        out.set_elt(i, s.map(Rstr::from).unwrap_or_else(Rstr::na));
    }
    out.into()
}

fn opt_nums(v: impl Iterator<Item = Option<f64>>) -> Robj {
    let v: Vec<Option<f64>> = v.collect();
    Doubles::from_values(
        v.into_iter()
            .map(|x| x.map(Rfloat::from).unwrap_or_else(Rfloat::na)),
    )
    .into()
}

fn named(names: &[&str], values: Vec<Robj>) -> Robj {
    List::from_names_and_values(names, values)
        .map(Robj::from)
        .unwrap_or_else(|_| ().into())
}

/// Events as columns (`at` in seconds since the epoch).
pub(crate) fn event_columns(events: &[Event]) -> Robj {
    let e = events;
    named(
        &[
            "id",
            "at",
            "principal",
            "action",
            "namespace",
            "table",
            "partition",
            "from_batch",
            "to_batch",
            "commit_id",
            "message",
            "rows",
            "bytes",
            "files",
        ],
        vec![
            opt_nums(e.iter().map(|e| Some(e.id as f64))),
            opt_nums(e.iter().map(|e| Some(seconds(&e.at)))),
            opt_strs(e.iter().map(|e| Some(e.principal.as_str()))),
            opt_strs(e.iter().map(|e| Some(e.action.as_str()))),
            opt_strs(e.iter().map(|e| e.namespace.as_deref())),
            opt_strs(e.iter().map(|e| e.table.as_deref())),
            opt_strs(e.iter().map(|e| e.partition.as_deref())),
            opt_strs(e.iter().map(|e| e.from_batch.as_ref().map(BatchId::as_str))),
            opt_strs(e.iter().map(|e| e.to_batch.as_ref().map(BatchId::as_str))),
            opt_strs(e.iter().map(|e| e.commit_id.as_deref())),
            opt_strs(e.iter().map(|e| e.message.as_deref())),
            opt_nums(e.iter().map(|e| e.rows.map(|x| x as f64))),
            opt_nums(e.iter().map(|e| e.bytes.map(|x| x as f64))),
            opt_nums(e.iter().map(|e| e.files.map(|x| x as f64))),
        ],
    )
}

/// Partitions as columns.
pub(crate) fn partition_columns(items: &[PartitionInfo]) -> Robj {
    let paths: Vec<String> = items.iter().map(|p| p.partition.path()).collect();
    named(
        &["partition", "batch_id", "version", "updated_at"],
        vec![
            opt_strs(paths.iter().map(|p| Some(p.as_str()))),
            opt_strs(items.iter().map(|p| Some(p.current.as_str()))),
            opt_nums(items.iter().map(|p| Some(p.version as f64))),
            opt_nums(items.iter().map(|p| Some(seconds(&p.updated_at)))),
        ],
    )
}

/// Batches as columns (`location` as a full URI).
pub(crate) fn batch_columns(warehouse: &str, items: &[Batch]) -> Robj {
    let states: Vec<String> = items
        .iter()
        .map(|b| match serde_json::to_value(b.state) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        })
        .collect();
    let paths: Vec<String> = items.iter().map(|b| b.partition.path()).collect();
    let locations: Vec<String> = items
        .iter()
        .map(|b| batchmeta::storage::uri(warehouse, &b.location))
        .collect();
    named(
        &[
            "batch_id",
            "partition",
            "state",
            "parent",
            "rows",
            "bytes",
            "files",
            "principal",
            "message",
            "created_at",
            "committed_at",
            "location",
        ],
        vec![
            opt_strs(items.iter().map(|b| Some(b.id.as_str()))),
            opt_strs(paths.iter().map(|p| Some(p.as_str()))),
            opt_strs(states.iter().map(|s| Some(s.as_str()))),
            opt_strs(items.iter().map(|b| b.parent.as_ref().map(BatchId::as_str))),
            opt_nums(items.iter().map(|b| Some(b.rows as f64))),
            opt_nums(items.iter().map(|b| Some(b.bytes as f64))),
            opt_nums(items.iter().map(|b| Some(b.files.len() as f64))),
            opt_strs(items.iter().map(|b| Some(b.principal.as_str()))),
            opt_strs(items.iter().map(|b| b.message.as_deref())),
            opt_nums(items.iter().map(|b| Some(seconds(&b.created_at)))),
            opt_nums(items.iter().map(|b| b.committed_at.as_ref().map(seconds))),
            opt_strs(locations.iter().map(|l| Some(l.as_str()))),
        ],
    )
}

/// Pins as columns.
pub(crate) fn pin_columns(pins: &[Pin]) -> Robj {
    let tables: Vec<String> = pins.iter().map(|p| p.table.to_string()).collect();
    let partitions: Vec<Option<String>> = pins
        .iter()
        .map(|p| match &p.target {
            PinTarget::Batch { partition, .. } => Some(partition.path()),
            _ => None,
        })
        .collect();
    named(
        &[
            "table",
            "name",
            "owner",
            "reason",
            "partition",
            "batch_id",
            "as_of",
            "created_at",
            "expires_at",
        ],
        vec![
            opt_strs(tables.iter().map(|t| Some(t.as_str()))),
            opt_strs(pins.iter().map(|p| Some(p.name.as_str()))),
            opt_strs(pins.iter().map(|p| p.owner.as_deref())),
            opt_strs(pins.iter().map(|p| p.reason.as_deref())),
            opt_strs(partitions.iter().map(Option::as_deref)),
            opt_strs(pins.iter().map(|p| match &p.target {
                PinTarget::Batch { batch, .. } => Some(batch.as_str()),
                _ => None,
            })),
            opt_nums(pins.iter().map(|p| match &p.target {
                PinTarget::AsOf { at } => Some(seconds(at)),
                _ => None,
            })),
            opt_nums(pins.iter().map(|p| Some(seconds(&p.created_at)))),
            opt_nums(pins.iter().map(|p| p.expires_at.as_ref().map(seconds))),
        ],
    )
}

/// A serde value as an R value (named lists for objects).
pub(crate) fn json(v: &serde_json::Value) -> Robj {
    use serde_json::Value;
    match v {
        Value::Null => ().into(),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN).into(),
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => List::from_values(items.iter().map(json)).into(),
        Value::Object(map) => {
            let names: Vec<&str> = map.keys().map(String::as_str).collect();
            named(&names, map.values().map(json).collect())
        }
    }
}
