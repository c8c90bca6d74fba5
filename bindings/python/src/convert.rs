//! Python values to core types and core results back to Python values.
//!
//! Partition specs follow DESIGN §5: a scalar (one key), a tuple (one value
//! per key, in key order) or a dict (`{"date": "2016-10-31"}`); a string
//! with `=` is a Hive path (`"date=2016-10-31/region=us"`). Values may be
//! `str`, `int` or `datetime.date`. Results cross as plain Python objects
//! built from the core's serde form; the typed layer in `batchmeta` wraps them.

use batchmeta::Metastore;
use batchmeta::data::{Filter, Scalar};
use batchmeta::model::{Batch, BatchId, KeyType, PartitionSpec, SchemaMode, Table, TableIdent};
use chrono::{DateTime, Utc};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple};
use serde_json::{Value, json};

use crate::errors::{IntoPyResult, invalid};

/// A partition spec and, for dict specs, the type each key's value suggests
/// (used only when a first write creates the table).
pub(crate) struct SpecIn {
    pub(crate) spec: PartitionSpec,
    pub(crate) keys: Option<Vec<(String, Option<KeyType>)>>,
}

fn is_datetime(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    let dt = v.py().import("datetime")?.getattr("datetime")?;
    v.is_instance(&dt)
}

fn is_date(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    let d = v.py().import("datetime")?.getattr("date")?;
    v.is_instance(&d)
}

/// One partition value as text, and the key type it suggests.
fn value(v: &Bound<'_, PyAny>) -> PyResult<(String, Option<KeyType>)> {
    if v.is_instance_of::<PyBool>() {
        return Err(invalid(
            "invalid_partition",
            "a partition value cannot be a bool: use a string, an int or a date",
        ));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok((v.str()?.to_string(), Some(KeyType::Int)));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok((s.to_string(), None));
    }
    if is_datetime(v)? {
        return Err(invalid(
            "invalid_partition",
            format!(
                "partition value {} is a timestamp: partitions hold dates, so pass its .date()",
                v.repr()?
            ),
        ));
    }
    if is_date(v)? {
        return Ok((
            v.call_method0("isoformat")?.extract::<String>()?,
            Some(KeyType::Date),
        ));
    }
    Err(invalid(
        "invalid_partition",
        format!(
            "partition value {} has type {}: use a string, an int or a datetime.date",
            v.repr()?,
            v.get_type().name()?
        ),
    ))
}

/// Reads one partition spec.
pub(crate) fn spec(v: &Bound<'_, PyAny>) -> PyResult<SpecIn> {
    if let Ok(d) = v.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(d.len());
        let mut keys = Vec::with_capacity(d.len());
        for (k, val) in d.iter() {
            let k: String = k.extract().map_err(|_| {
                invalid(
                    "invalid_partition",
                    "partition dict keys must be column names (str)",
                )
            })?;
            let (text, kind) = value(&val)?;
            pairs.push((k.clone(), text));
            keys.push((k, kind));
        }
        return Ok(SpecIn {
            spec: PartitionSpec::Named(pairs),
            keys: Some(keys),
        });
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        let values = t
            .iter()
            .map(|x| value(&x).map(|(s, _)| s))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(SpecIn {
            spec: PartitionSpec::Positional(values),
            keys: None,
        });
    }
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_string();
        if s.contains('=') {
            return Ok(SpecIn {
                spec: PartitionSpec::parse(&s).py()?,
                keys: None,
            });
        }
    }
    if v.is_instance_of::<PyList>() {
        return Err(invalid(
            "invalid_partition",
            "a partition is a scalar, a tuple or a dict, not a list: partitions=[\"2016-10-31\"] lists partitions",
        ));
    }
    let (text, _) = value(v)?;
    Ok(SpecIn {
        spec: PartitionSpec::Positional(vec![text]),
        keys: None,
    })
}

/// Reads `partitions=[...]`: a list (or tuple of specs is not accepted, to
/// keep tuples meaning one multi-key partition).
pub(crate) fn specs(v: &Bound<'_, PyAny>) -> PyResult<Vec<SpecIn>> {
    let list = v.cast::<PyList>().map_err(|_| {
        invalid(
            "invalid_partition",
            format!(
                "partitions must be a list of partitions, e.g. [\"2016-10-31\"], not {}",
                v.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
        )
    })?;
    list.iter().map(|x| spec(&x)).collect()
}

/// Reads a batch ID.
pub(crate) fn batch_id(s: &str) -> PyResult<BatchId> {
    BatchId::parse(s).py()
}

/// Reads `schema_mode`: `None` = strict.
pub(crate) fn schema_mode(s: Option<&str>) -> PyResult<SchemaMode> {
    match s {
        None => Ok(SchemaMode::default()),
        Some(s) => SchemaMode::parse(s).py(),
    }
}

/// Reads a point in time in the past: a `datetime` (naive = UTC), a `date`,
/// or a string in any form the CLI accepts (`2016-11-01`, ISO 8601, an age
/// such as `1h` or `2d`), parsed by the one parser in `batchmeta::model::time`.
pub(crate) fn time(v: &Bound<'_, PyAny>, what: &str) -> PyResult<DateTime<Utc>> {
    moment(v, what, batchmeta::model::time::parse_past)
}

/// Reads a point in time in the future: as [`time`], but an age counts
/// forward (`expires_at="30d"`).
pub(crate) fn future_time(v: &Bound<'_, PyAny>, what: &str) -> PyResult<DateTime<Utc>> {
    moment(v, what, batchmeta::model::time::parse_future)
}

fn moment(
    v: &Bound<'_, PyAny>,
    what: &str,
    parse: fn(&str) -> batchmeta::Result<DateTime<Utc>>,
) -> PyResult<DateTime<Utc>> {
    if let Ok(s) = v.cast::<PyString>() {
        return parse(&s.to_string()).py();
    }
    if is_datetime(v)? {
        let iso: String = v.call_method0("isoformat")?.extract()?;
        let iso = if v.getattr("tzinfo")?.is_none() {
            format!("{iso}+00:00")
        } else {
            iso
        };
        return DateTime::parse_from_rfc3339(&iso)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid("invalid_time", format!("{what} {iso:?} is not a time")));
    }
    if is_date(v)? {
        // A `datetime.date`: midnight UTC.
        let iso: String = v.call_method0("isoformat")?.extract()?;
        return parse(&iso).py();
    }
    Err(invalid(
        "invalid_time",
        format!(
            "{what} must be a datetime, a date or a string such as \"2016-11-01\", \"2016-11-01T00:00:00Z\" or \"2d\""
        ),
    ))
}

/// A filter literal.
fn scalar(v: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    if v.is_none() {
        return Ok(Scalar::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Scalar::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        return Ok(Scalar::Int(v.extract()?));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Scalar::Float(v.extract()?));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Scalar::String(s.to_string()));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() || v.is_instance_of::<PySet>()
    {
        return Ok(Scalar::List(
            v.try_iter()?
                .map(|x| scalar(&x?))
                .collect::<PyResult<Vec<_>>>()?,
        ));
    }
    if is_datetime(v)? || is_date(v)? {
        return Ok(Scalar::String(v.call_method0("isoformat")?.extract()?));
    }
    Err(invalid(
        "invalid_filter",
        format!(
            "filter value {} has type {}: use None, bool, int, float, str, a date, a datetime or a list of those",
            v.repr()?,
            v.get_type().name()?
        ),
    ))
}

/// Reads `filters=[("price", ">", 10), ("region", "in", ["us", "eu"])]`
/// (combined with AND); `("x", "is null")` takes no value.
pub(crate) fn filters(v: &Bound<'_, PyAny>) -> PyResult<Vec<Filter>> {
    let bad = || {
        invalid(
            "invalid_filter",
            "filters are a list of (column, op, value) tuples, e.g. [(\"price\", \">\", 10)]",
        )
    };
    let list = v.cast::<PyList>().map_err(|_| bad())?;
    let mut out = Vec::with_capacity(list.len());
    for item in list.iter() {
        let t = item.cast::<PyTuple>().map_err(|_| bad())?;
        let (column, op, value) = match t.len() {
            2 => (t.get_item(0)?, t.get_item(1)?, None),
            3 => (t.get_item(0)?, t.get_item(1)?, Some(t.get_item(2)?)),
            _ => return Err(bad()),
        };
        let column: String = column.extract().map_err(|_| bad())?;
        let op: String = op.extract().map_err(|_| bad())?;
        let op = Filter::parse_op(&op).py()?;
        let value = match value {
            Some(v) => scalar(&v)?,
            None => Scalar::Null,
        };
        out.push(Filter { column, op, value });
    }
    Ok(out)
}

/// `dict[str, str]` for metadata and properties.
pub(crate) fn string_map(
    v: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<std::collections::BTreeMap<String, String>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(Default::default());
    };
    let bad = || {
        invalid(
            "invalid_input",
            format!("{what} must be a dict of str to str"),
        )
    };
    let d = v.cast::<PyDict>().map_err(|_| bad())?;
    d.iter()
        .map(|(k, v)| {
            Ok((
                k.extract().map_err(|_| bad())?,
                v.extract().map_err(|_| bad())?,
            ))
        })
        .collect()
}

/// A serde value as a Python object (dict, list, str, int, float, bool, None).
pub(crate) fn to_python<'py>(
    py: Python<'py>,
    v: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)?
            } else if let Some(u) = n.as_u64() {
                u.into_bound_py_any(py)?
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)?
            }
        }
        Value::String(s) => s.into_bound_py_any(py)?,
        Value::Array(items) => {
            let list = PyList::empty(py);
            for i in items {
                list.append(to_python(py, i)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, to_python(py, v)?)?;
            }
            d.into_any()
        }
    })
}

/// Any serializable core value as a Python object.
pub(crate) fn serialized<'py, T: serde::Serialize>(
    py: Python<'py>,
    v: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(v)
        .map_err(|e| crate::errors::internal(format!("cannot convert a result: {e}")))?;
    to_python(py, &json)
}

/// Events as columns, one list per field and `at` in microseconds since
/// the epoch: a DataFrame is built from them in one step, with no Python
/// object per event.
pub(crate) fn event_columns<'py>(
    py: Python<'py>,
    events: &[batchmeta::model::Event],
) -> PyResult<Bound<'py, PyDict>> {
    fn col<'a, T>(
        events: &'a [batchmeta::model::Event],
        f: impl Fn(&'a batchmeta::model::Event) -> T,
    ) -> Vec<T> {
        events.iter().map(f).collect()
    }
    let d = PyDict::new(py);
    d.set_item("id", col(events, |e| e.id))?;
    d.set_item("at", col(events, |e| e.at.timestamp_micros()))?;
    d.set_item("principal", col(events, |e| e.principal.as_str()))?;
    d.set_item("action", col(events, |e| e.action.as_str()))?;
    d.set_item("namespace", col(events, |e| e.namespace.as_deref()))?;
    d.set_item("table", col(events, |e| e.table.as_deref()))?;
    d.set_item("partition", col(events, |e| e.partition.as_deref()))?;
    d.set_item(
        "from_batch",
        col(events, |e| e.from_batch.as_ref().map(BatchId::as_str)),
    )?;
    d.set_item(
        "to_batch",
        col(events, |e| e.to_batch.as_ref().map(BatchId::as_str)),
    )?;
    d.set_item("commit_id", col(events, |e| e.commit_id.as_deref()))?;
    d.set_item("message", col(events, |e| e.message.as_deref()))?;
    d.set_item("rows", col(events, |e| e.rows))?;
    d.set_item("bytes", col(events, |e| e.bytes))?;
    d.set_item("files", col(events, |e| e.files))?;
    Ok(d)
}

/// Partitions as `(partition, current batch, version, updated_at in
/// microseconds since the epoch)` tuples.
pub(crate) fn partition_rows<'py>(
    py: Python<'py>,
    items: &[batchmeta::model::PartitionInfo],
) -> PyResult<Bound<'py, PyList>> {
    let rows = items.iter().map(|p| {
        (
            p.partition.path(),
            p.current.as_str(),
            p.version,
            p.updated_at.timestamp_micros(),
        )
    });
    PyList::new(py, rows)
}

/// The table named by a namespace and a table name.
pub(crate) fn ident(namespace: &str, table: &str) -> PyResult<TableIdent> {
    TableIdent::new(namespace, table).py()
}

/// Exactly one partition spec (or none, for unpartitioned tables).
pub(crate) fn one_spec(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<SpecIn>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let mut specs = specs(v)?;
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

/// The partition of a spec, or the one partition of an unpartitioned table.
pub(crate) fn spec_or_unpartitioned(s: Option<SpecIn>) -> PartitionSpec {
    s.map(|s| s.spec)
        .unwrap_or_else(|| PartitionSpec::Positional(Vec::new()))
}

/// A batch as Python sees it: its files' full URIs, no schema.
pub(crate) fn batch_json(ms: &Metastore, b: &Batch) -> Value {
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
pub(crate) fn table_json(ms: &Metastore, t: &Table) -> Value {
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

/// A partition key type by name (`string`, `int`, `date`).
pub(crate) fn key_type(s: &str) -> PyResult<KeyType> {
    KeyType::parse(s).py()
}

/// An optional partition argument: `None` (or Python `None`) is no spec.
pub(crate) fn opt_spec(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<PartitionSpec>> {
    v.filter(|p| !p.is_none())
        .map(|p| spec(p).map(|s| s.spec))
        .transpose()
}

/// A partition argument, `None` being the one partition of an
/// unpartitioned table.
pub(crate) fn partition(v: Option<&Bound<'_, PyAny>>) -> PyResult<PartitionSpec> {
    Ok(opt_spec(v)?.unwrap_or_else(|| PartitionSpec::Positional(Vec::new())))
}

/// An optional `partitions` argument (one or several); `None` is every
/// partition.
pub(crate) fn opt_specs(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<PartitionSpec>>> {
    v.filter(|p| !p.is_none())
        .map(|p| specs(p).map(|v| v.into_iter().map(|s| s.spec).collect()))
        .transpose()
}
