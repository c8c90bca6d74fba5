//! batchmeta entities as Hive Metastore structs (field ids of the Hive 2.3
//! IDL): namespace → `Database`, table → `Table` (EXTERNAL_TABLE, Parquet
//! serde and formats), resolved partition → `Partition` whose location is
//! its batch prefix. Arrow types become Hive type strings here.

use arrow_schema::DataType;

use super::codec::{Writer, ttype};
use crate::model::{KeyType, Namespace, PartitionKey, PartitionValues, Table};

/// The Parquet serde, input and output formats Hive, Spark and Trino read.
pub(crate) const SERDE: &str = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
pub(crate) const INPUT_FORMAT: &str =
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
pub(crate) const OUTPUT_FORMAT: &str =
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";

/// The Hive type of an Arrow type. Types Hive has no word for (times,
/// durations, intervals) read as `string` and are listed in
/// docs/engines.md.
pub(crate) fn hive_type(t: &DataType) -> String {
    match t {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "int".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => format!("array<{}>", hive_type(f.data_type())),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name().to_lowercase(), hive_type(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                hive_type(kv[0].data_type()),
                hive_type(kv[1].data_type())
            ),
            _ => "string".into(),
        },
        DataType::Dictionary(_, v) => hive_type(v),
        DataType::RunEndEncoded(_, v) => hive_type(v.data_type()),
        _ => "string".into(),
    }
}

/// The Hive type of a partition key.
pub(crate) fn key_type(k: KeyType) -> &'static str {
    match k {
        KeyType::String => "string",
        KeyType::Int => "bigint",
        KeyType::Date => "date",
    }
}

fn seconds(t: chrono::DateTime<chrono::Utc>) -> i32 {
    i32::try_from(t.timestamp()).unwrap_or(i32::MAX)
}

/// A `Database` struct's fields (the caller closes the struct).
pub(crate) fn database(
    w: &mut Writer,
    name: &str,
    description: Option<&str>,
    location: &str,
    owner: Option<(&str, PrincipalType)>,
    parameters: &[(&str, &str)],
) {
    w.string_field(1, name);
    w.opt_string_field(2, description);
    w.string_field(3, location);
    w.string_map_field(4, parameters.iter().copied());
    if let Some((o, kind)) = owner {
        w.string_field(6, o);
        w.field(ttype::I32, 7);
        w.i32(kind as i32);
    }
}

/// Hive's `PrincipalType` (of a database owner).
#[derive(Debug, Clone, Copy)]
pub(crate) enum PrincipalType {
    User = 1,
    Role = 2,
}

/// The `default` database when no namespace has that name: what a fresh
/// Hive metastore answers (its description and owner), at the warehouse
/// root.
pub(crate) fn default_database(w: &mut Writer, warehouse: &str) {
    // Hive writes the root without its trailing slash (`file:/wh`), but
    // keeps a bucket's (`s3://bucket/`).
    let location = match warehouse.strip_suffix('/') {
        Some(trimmed) if !trimmed.ends_with('/') && trimmed.matches('/').count() > 2 => trimmed,
        _ => warehouse,
    };
    database(
        w,
        "default",
        Some("Default Hive database"),
        location,
        Some(("public", PrincipalType::Role)),
        &[],
    );
}

/// A namespace as a `Database`.
pub(crate) fn namespace_database(w: &mut Writer, ns: &Namespace, location: &str) {
    let params: Vec<(&str, &str)> = ns
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    database(
        w,
        ns.name.as_str(),
        ns.description.as_deref(),
        location,
        ns.owner.as_deref().map(|o| (o, PrincipalType::User)),
        &params,
    );
}

/// `list<FieldSchema>` of a table's data columns (no STOP needed around).
pub(crate) fn columns(w: &mut Writer, table: &Table) {
    let fields = table.schema.fields();
    w.list_begin(ttype::STRUCT, fields.len());
    for f in fields {
        field_schema(w, &f.name().to_lowercase(), &hive_type(f.data_type()));
    }
}

/// `list<FieldSchema>` of partition keys.
pub(crate) fn key_columns(w: &mut Writer, keys: &[PartitionKey]) {
    w.list_begin(ttype::STRUCT, keys.len());
    for k in keys {
        field_schema(w, k.name.as_str(), key_type(k.kind));
    }
}

fn field_schema(w: &mut Writer, name: &str, ty: &str) {
    w.string_field(1, name);
    w.string_field(2, ty);
    w.stop();
}

/// A `StorageDescriptor` field with the table's columns at `location`.
fn storage_descriptor(w: &mut Writer, id: i16, table: &Table, location: &str) {
    w.field(ttype::STRUCT, id);
    w.field(ttype::LIST, 1);
    columns(w, table);
    w.string_field(2, location);
    w.string_field(3, INPUT_FORMAT);
    w.string_field(4, OUTPUT_FORMAT);
    w.bool_field(5, false);
    w.i32_field(6, -1);
    // SerDeInfo
    w.field(ttype::STRUCT, 7);
    w.string_field(1, table.ident.name.as_str());
    w.string_field(2, SERDE);
    w.string_map_field(3, [("serialization.format", "1")].into_iter());
    w.stop();
    w.field(ttype::LIST, 8);
    w.list_begin(ttype::STRING, 0);
    w.field(ttype::LIST, 9);
    w.list_begin(ttype::STRUCT, 0);
    w.string_map_field(10, std::iter::empty());
    // SkewedInfo: none (a Hive metastore answers the empty struct).
    w.field(ttype::STRUCT, 11);
    w.field(ttype::LIST, 1);
    w.list_begin(ttype::STRING, 0);
    w.field(ttype::LIST, 2);
    w.list_begin(ttype::LIST, 0);
    w.field(ttype::MAP, 3);
    w.map_begin(ttype::LIST, ttype::STRING, 0);
    w.stop();
    w.bool_field(12, false);
    w.stop();
}

/// Table parameters: the table's own properties (minus any `spark.sql.*`,
/// which would make Spark list directories itself and read superseded
/// batches) plus `EXTERNAL` and the comment.
fn table_parameters(table: &Table) -> Vec<(&str, &str)> {
    let mut p: Vec<(&str, &str)> = table
        .properties
        .iter()
        .filter(|(k, _)| !k.starts_with("spark.sql."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    p.push(("EXTERNAL", "TRUE"));
    if let Some(d) = &table.description {
        p.push(("comment", d.as_str()));
    }
    p
}

/// A `Table` struct (its fields up to STOP). `name` is the name the
/// client asked for (a virtual `t@pin` keeps its suffix); `location` is the
/// table's prefix, or the current batch prefix of an unpartitioned table.
pub(crate) fn table(w: &mut Writer, db: &str, name: &str, table: &Table, location: &str) {
    w.string_field(1, name);
    w.string_field(2, db);
    w.string_field(3, table.owner.as_deref().unwrap_or(""));
    w.i32_field(4, seconds(table.created_at));
    w.i32_field(5, 0);
    w.i32_field(6, 0);
    storage_descriptor(w, 7, table, location);
    w.field(ttype::LIST, 8);
    key_columns(w, &table.partition_keys);
    let params = table_parameters(table);
    w.string_map_field(9, params.into_iter());
    w.string_field(12, "EXTERNAL_TABLE");
    w.bool_field(15, false); // rewriteEnabled, as a Hive metastore answers it
    w.stop();
}

/// A partition resolved to a batch, ready to answer with.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// Its values in key order.
    pub(crate) values: PartitionValues,
    /// Its batch under the requested version.
    pub(crate) batch: String,
    /// The batch prefix as a full URI.
    pub(crate) location: String,
    /// When its pointer last moved (or the batch was committed).
    pub(crate) updated: chrono::DateTime<chrono::Utc>,
}

/// One partition as a `Partition` struct (fields up to STOP).
pub(crate) fn partition(w: &mut Writer, db: &str, name: &str, table: &Table, part: &Part) {
    let vals: Vec<&str> = part.values.values().collect();
    w.strings_field(1, &vals);
    w.string_field(2, db);
    w.string_field(3, name);
    w.i32_field(4, seconds(part.updated));
    w.i32_field(5, 0);
    storage_descriptor(w, 6, table, &part.location);
    w.string_map_field(7, [("batchmeta.batch_id", part.batch.as_str())].into_iter());
    w.stop();
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{Field, Fields, TimeUnit};

    use super::*;

    #[test]
    fn arrow_types_map_to_hive_types() {
        let item = Arc::new(Field::new("item", DataType::Int64, true));
        let st = DataType::Struct(Fields::from(vec![
            Field::new("A", DataType::Utf8, true),
            Field::new("b", DataType::Float64, true),
        ]));
        let map = DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Int32, true),
                ])),
                false,
            )),
            false,
        );
        for (t, want) in [
            (DataType::Boolean, "boolean"),
            (DataType::Int8, "tinyint"),
            (DataType::Int16, "smallint"),
            (DataType::Int32, "int"),
            (DataType::Int64, "bigint"),
            (DataType::Float32, "float"),
            (DataType::Float64, "double"),
            (DataType::Decimal128(10, 2), "decimal(10,2)"),
            (DataType::Utf8, "string"),
            (DataType::LargeUtf8, "string"),
            (DataType::Binary, "binary"),
            (DataType::Date32, "date"),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "timestamp",
            ),
            (DataType::List(item.clone()), "array<bigint>"),
            (st, "struct<a:string,b:double>"),
            (map, "map<string,int>"),
            (
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                "string",
            ),
        ] {
            assert_eq!(hive_type(&t), want, "{t}");
        }
        assert_eq!(key_type(KeyType::Int), "bigint");
        assert_eq!(key_type(KeyType::Date), "date");
    }
}
