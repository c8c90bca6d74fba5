//! Table schemas: fingerprints, compatibility and merging.
//!
//! Two schemas are compatible when they have the same columns with the same
//! *logical* types. Physical encodings that pandas, polars and pyarrow pick
//! freely (dictionary vs plain, `Utf8` vs `LargeUtf8` vs `Utf8View`, list
//! offsets width) are one logical type, so a categorical column with more
//! categories next week is not a schema change.

use std::collections::BTreeSet;

use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Code, Error, Result};

/// What a write does when its schema differs from the table's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum SchemaMode {
    /// Refuse any difference (the default).
    #[default]
    Strict,
    /// Add new columns to the table as nullable; columns the batch lacks read
    /// back as nulls. Type changes are still refused.
    Merge,
}

impl SchemaMode {
    /// Parses `strict` or `merge`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "strict" => Ok(SchemaMode::Strict),
            "merge" => Ok(SchemaMode::Merge),
            other => Err(Error::invalid(
                Code::InvalidSchemaMode,
                format!(
                    "unknown schema mode {}: use strict or merge",
                    super::shown(other)
                ),
            )),
        }
    }
}

/// Parses a column type: friendly names (`int64`, `float`, `string`, `bool`,
/// `date`, `timestamp`, `timestamptz`, `binary`, `decimal(38,9)`) or any
/// Arrow type as Arrow prints it (`Timestamp(Microsecond, Some("UTC"))`).
pub fn parse_data_type(s: &str) -> Result<DataType> {
    use arrow_schema::TimeUnit;
    let t = s.trim();
    let friendly = match t.to_ascii_lowercase().as_str() {
        "int8" => Some(DataType::Int8),
        "int16" => Some(DataType::Int16),
        "int32" | "int" => Some(DataType::Int32),
        "int64" | "long" | "bigint" => Some(DataType::Int64),
        "uint8" => Some(DataType::UInt8),
        "uint16" => Some(DataType::UInt16),
        "uint32" => Some(DataType::UInt32),
        "uint64" => Some(DataType::UInt64),
        "float32" | "float" => Some(DataType::Float32),
        "float64" | "double" => Some(DataType::Float64),
        "bool" | "boolean" => Some(DataType::Boolean),
        "string" | "str" | "utf8" | "text" => Some(DataType::Utf8),
        "binary" | "bytes" => Some(DataType::Binary),
        "date" | "date32" => Some(DataType::Date32),
        "timestamp" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "timestamptz" => Some(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        )),
        _ => None,
    };
    if let Some(dt) = friendly {
        return Ok(dt);
    }
    if let Some(args) = t
        .to_ascii_lowercase()
        .strip_prefix("decimal(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let mut it = args.split(',').map(|x| x.trim().parse::<i16>());
        if let (Some(Ok(p)), Some(Ok(sc)), None) = (it.next(), it.next(), it.next())
            && let (Ok(p), Ok(sc)) = (u8::try_from(p), i8::try_from(sc))
        {
            return Ok(DataType::Decimal128(p, sc));
        }
    }
    t.parse::<DataType>().map_err(|_| {
        Error::invalid(
            Code::InvalidSchema,
            format!(
                "unknown column type {}: use int64, float64, string, bool, date, timestamp, timestamptz, binary, decimal(P,S) or an Arrow type",
                super::shown(s)
            ),
        )
    })
}

/// Parses inline columns `name:type,name:type` (nullable) into a schema.
pub fn parse_columns(spec: &str) -> Result<Schema> {
    let mut fields = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, ty) = part.split_once(':').ok_or_else(|| {
            Error::invalid(
                Code::InvalidSchema,
                format!(
                    "invalid column {}: write name:type, e.g. price:float64",
                    super::shown(part)
                ),
            )
        })?;
        super::check_identifier("column", name.trim())?;
        fields.push(Field::new(name.trim(), parse_data_type(ty)?, true));
    }
    if fields.is_empty() {
        return Err(Error::invalid(
            Code::InvalidSchema,
            "a table needs at least one column",
        ));
    }
    Ok(Schema::new(fields))
}

/// The logical type, with physical encoding choices folded away.
fn logical(dt: &DataType) -> DataType {
    match dt {
        DataType::Dictionary(_, v) => logical(v),
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => {
            // The item field's name ("item", "element") is an encoding detail too.
            DataType::List(Field::new("item", logical(f.data_type()), true).into())
        }
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| logical_field(f)).collect())
        }
        DataType::Map(f, sorted) => DataType::Map(logical_field(f).into(), *sorted),
        other => other.clone(),
    }
}

fn logical_field(f: &Field) -> Field {
    Field::new(f.name(), logical(f.data_type()), true)
}

/// Whether two types are one logical type.
pub(crate) fn same_logical_type(a: &DataType, b: &DataType) -> bool {
    logical(a) == logical(b)
}

/// Whether data of type `data` can be written into a column of type `table`
/// without losing anything: a column of nulls (Arrow `null`, e.g. a pandas
/// column that is all `None` in this batch) into any type, integers into
/// wider integers, `float32` into `float64`, and integers into floats.
/// 64-bit integers into `float64` are checked value by value when the data
/// is cast ([`exact_in_float64`]); everything else here is lossless by type.
pub(crate) fn casts_losslessly(data: &DataType, table: &DataType) -> bool {
    use DataType::*;
    let rank = |t: &DataType| match t {
        Int8 | UInt8 => Some(1),
        Int16 | UInt16 => Some(2),
        Int32 | UInt32 => Some(4),
        Int64 | UInt64 => Some(8),
        _ => None,
    };
    match (data, table) {
        (Null, _) => true,
        (Float32, Float64) => true,
        (Int8 | Int16 | UInt8 | UInt16, Float32) => true,
        (d, Float64) => rank(d).is_some(),
        (d, t) => match (rank(d), rank(t)) {
            (Some(a), Some(b)) => {
                let signed = |x: &DataType| matches!(x, Int8 | Int16 | Int32 | Int64);
                match (signed(d), signed(t)) {
                    (true, true) | (false, false) => a < b,
                    (false, true) => a < b,
                    (true, false) => false,
                }
            }
            _ => false,
        },
    }
}

/// Largest integer magnitude that `float64` holds exactly (2^53).
pub(crate) const FLOAT64_EXACT: u64 = 1 << 53;

/// Whether every value of an integer column fits `float64` exactly; the
/// first value that does not is returned as text.
pub(crate) fn exact_in_float64(col: &dyn arrow_array::Array) -> Option<String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, UInt64Type};
    match col.data_type() {
        DataType::Int64 => col
            .as_primitive::<Int64Type>()
            .iter()
            .flatten()
            .find(|v| v.unsigned_abs() > FLOAT64_EXACT)
            .map(|v| v.to_string()),
        DataType::UInt64 => col
            .as_primitive::<UInt64Type>()
            .iter()
            .flatten()
            .find(|v| *v > FLOAT64_EXACT)
            .map(|v| v.to_string()),
        _ => None,
    }
}

/// Whether `data` fits a column of type `table`: the same logical type, or
/// a lossless cast ([`casts_losslessly`]).
pub(crate) fn fits(data: &DataType, table: &DataType) -> bool {
    same_logical_type(table, data) || casts_losslessly(data, table)
}

/// The schema batchmeta writes for data of schema `data` into `table`: the
/// data's columns (and metadata), each column the table knows and the data
/// can be cast to losslessly given the table's type, so the files always
/// carry the table's types.
pub fn stored_schema(table: &Schema, data: &Schema) -> Schema {
    let fields: Vec<Field> = data
        .fields()
        .iter()
        .map(|f| match table.field_with_name(f.name()) {
            Ok(t)
                if !same_logical_type(t.data_type(), f.data_type())
                    && casts_losslessly(f.data_type(), t.data_type()) =>
            {
                f.as_ref()
                    .clone()
                    .with_data_type(t.data_type().clone())
                    .with_nullable(true)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, data.metadata().clone())
}

/// A short stable fingerprint of a schema's columns and logical types
/// (metadata and nullability are ignored).
pub fn fingerprint(schema: &Schema) -> String {
    let mut h = Sha256::new();
    for f in schema.fields() {
        h.update(f.name().as_bytes());
        h.update([0]);
        h.update(format!("{:?}", logical(f.data_type())).as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Compares a batch's schema to the table's. `Ok(())` when compatible;
/// otherwise a [`Error::SchemaMismatch`] naming every differing column.
pub fn schemas_compatible(table: &Schema, batch: &Schema) -> Result<()> {
    schemas_compatible_with(table, batch, Casts::None)
}

/// Whether a schema difference may be bridged by a lossless cast: only for
/// data that batchmeta itself encodes ([`stored_schema`] gives the files the
/// table's types); files written by someone else are taken as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Casts {
    /// Every column's logical type must equal the table's.
    None,
    /// A column may be cast losslessly to the table's type.
    Lossless,
}

/// [`schemas_compatible`], with lossless casts allowed or not.
pub fn schemas_compatible_with(table: &Schema, batch: &Schema, casts: Casts) -> Result<()> {
    let diff = Diff::of(table, batch, casts);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(diff
            .error((!diff.changed.is_empty()).then_some(
                "convert the columns to the table's types before storing (a column's type cannot change; a schema merge only adds columns)",
            )))
    }
}

/// Merges a batch's schema into the table's: new columns are appended as
/// nullable; columns the batch lacks stay (and read back as nulls for it).
/// Returns the new schema and the added column names, or a
/// [`Error::SchemaMismatch`] when a column changed type.
pub fn merge_schemas(table: &Schema, batch: &Schema) -> Result<(Schema, Vec<String>)> {
    merge_schemas_with(table, batch, Casts::None)
}

/// [`merge_schemas`], with lossless casts allowed or not.
pub fn merge_schemas_with(
    table: &Schema,
    batch: &Schema,
    casts: Casts,
) -> Result<(Schema, Vec<String>)> {
    let diff = Diff::of(table, batch, casts);
    if !diff.changed.is_empty() {
        return Err(Diff {
            missing: Vec::new(),
            added: Vec::new(),
            changed: diff.changed,
        }
        .error(Some(
            "a column's type cannot change; write it under a new column name",
        )));
    }
    let mut fields: Vec<Field> = table.fields().iter().map(|f| f.as_ref().clone()).collect();
    for name in &diff.added {
        if let Ok(f) = batch.field_with_name(name) {
            fields.push(f.clone().with_nullable(true));
        }
    }
    // Columns the batch lacks must be nullable in the table now.
    let missing: BTreeSet<&str> = diff.missing.iter().map(String::as_str).collect();
    let fields = fields
        .into_iter()
        .map(|f| {
            if missing.contains(f.name().as_str()) {
                f.with_nullable(true)
            } else {
                f
            }
        })
        .collect::<Vec<_>>();
    Ok((
        Schema::new_with_metadata(fields, table.metadata().clone()),
        diff.added,
    ))
}

struct Diff {
    missing: Vec<String>,
    added: Vec<String>,
    changed: Vec<String>,
}

impl Diff {
    fn of(table: &Schema, batch: &Schema, casts: Casts) -> Self {
        let fits = |data: &DataType, table: &DataType| match casts {
            Casts::None => same_logical_type(table, data),
            Casts::Lossless => fits(data, table),
        };
        let mut d = Diff {
            missing: Vec::new(),
            added: Vec::new(),
            changed: Vec::new(),
        };
        for f in table.fields() {
            match batch.field_with_name(f.name()) {
                Err(_) => d.missing.push(f.name().clone()),
                Ok(b) if !fits(b.data_type(), f.data_type()) => d.changed.push(format!(
                    "{} ({} in the table, {} in the data)",
                    f.name(),
                    f.data_type(),
                    b.data_type()
                )),
                Ok(_) => {}
            }
        }
        for f in batch.fields() {
            if table.field_with_name(f.name()).is_err() {
                d.added.push(f.name().clone());
            }
        }
        d
    }

    fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.added.is_empty() && self.changed.is_empty()
    }

    /// The mismatch, with a hint every edge words alike (`None`: the
    /// caller knows the table and attaches [`crate::model::Hint::SchemaMerge`]).
    fn error(&self, hint: Option<&str>) -> Error {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing columns: {}", self.missing.join(", ")));
        }
        if !self.added.is_empty() {
            parts.push(format!("new columns: {}", self.added.join(", ")));
        }
        if !self.changed.is_empty() {
            parts.push(format!("changed types: {}", self.changed.join(", ")));
        }
        let mut message = format!(
            "the data's schema differs from the table's: {}",
            parts.join("; ")
        );
        if let Some(h) = hint {
            message = format!("{message}; hint: {h}");
        }
        Error::schema_mismatch(message, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn schema(fields: Vec<(&str, DataType)>) -> Schema {
        Schema::new(
            fields
                .into_iter()
                .map(|(n, t)| Field::new(n, t, true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn column_types_parse() {
        assert_eq!(parse_data_type("int64").unwrap(), DataType::Int64);
        assert_eq!(
            parse_data_type("decimal(38, 9)").unwrap(),
            DataType::Decimal128(38, 9)
        );
        assert_eq!(parse_data_type("Utf8View").unwrap(), DataType::Utf8View);
        assert!(parse_data_type("nonsense").is_err());
        let s = parse_columns("id:int64, price:float64").unwrap();
        assert_eq!(s.fields().len(), 2);
        assert!(parse_columns("id").is_err());
        assert!(parse_columns("Bad-Name:int64").is_err());
    }

    #[test]
    fn physical_encodings_are_one_logical_type() {
        let a = schema(vec![
            ("s", DataType::Utf8),
            (
                "l",
                DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
            ),
        ]);
        let b = schema(vec![
            (
                "s",
                DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::LargeUtf8)),
            ),
            (
                "l",
                DataType::LargeList(Arc::new(Field::new("element", DataType::Int64, false))),
            ),
        ]);
        schemas_compatible(&a, &b).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn mismatches_name_the_columns() {
        let t = schema(vec![("a", DataType::Int64), ("b", DataType::Utf8)]);
        let d = schema(vec![("a", DataType::Float64), ("c", DataType::Utf8)]);
        let msg = schemas_compatible(&t, &d).unwrap_err().to_string();
        assert!(msg.contains("missing columns: b"), "{msg}");
        assert!(msg.contains("new columns: c"), "{msg}");
        assert!(msg.contains("changed types: a (Int64"), "{msg}");
        assert_ne!(fingerprint(&t), fingerprint(&d));
    }

    #[test]
    fn merge_adds_nullable_columns_and_refuses_type_changes() {
        let t = Schema::new(vec![Field::new("a", DataType::Int64, false)]);
        let d = Schema::new(vec![Field::new("b", DataType::Utf8, false)]);
        let (m, added) = merge_schemas(&t, &d).unwrap();
        assert_eq!(added, vec!["b".to_owned()]);
        assert!(m.field_with_name("a").unwrap().is_nullable());
        assert!(m.field_with_name("b").unwrap().is_nullable());
        let bad = Schema::new(vec![Field::new("a", DataType::Utf8, false)]);
        assert_eq!(
            merge_schemas(&t, &bad).unwrap_err().code(),
            "schema_mismatch"
        );
    }
}
