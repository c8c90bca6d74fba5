//! A batchmeta table's columns as an Iceberg schema: field ids, the name
//! mapping (the Parquet files carry no field ids), the identity partition
//! spec on the partition keys, and the Avro type of the partition tuple.
//!
//! Ids: the partition keys come first (1..=k, so the spec's source ids never
//! move), then the data columns in order, nested fields depth-first after
//! their parent. A merge appends columns, so top-level ids stay stable.

use arrow_schema::{DataType, Field, TimeUnit};
use serde_json::{Value, json};

use crate::error::{Code, Error, Result};
use crate::model::{KeyType, Table};

/// The first partition field id (Iceberg's convention).
pub(crate) const FIRST_PARTITION_FIELD_ID: i32 = 1000;

/// An Iceberg schema built from a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IcebergSchema {
    /// The schema JSON (`{"type": "struct", "schema-id", "fields"}`).
    pub(crate) json: Value,
    /// `schema.name-mapping.default`, as JSON text.
    pub(crate) name_mapping: String,
    /// The partition spec's fields.
    pub(crate) spec_fields: Value,
    /// The highest field id.
    pub(crate) last_column_id: i32,
}

struct Ids {
    next: i32,
}

impl Ids {
    fn take(&mut self) -> i32 {
        self.next += 1;
        self.next
    }
}

/// The Iceberg type of a partition key.
pub(crate) fn key_type(kind: KeyType) -> &'static str {
    match kind {
        KeyType::String => "string",
        KeyType::Int => "long",
        KeyType::Date => "date",
    }
}

/// Builds the Iceberg schema of `table` (schema id = its schema version).
pub(crate) fn iceberg_schema(table: &Table) -> Result<IcebergSchema> {
    let mut ids = Ids { next: 0 };
    let mut fields = Vec::new();
    let mut mapping = Vec::new();
    let mut spec = Vec::new();
    for (i, key) in table.partition_keys.iter().enumerate() {
        let id = ids.take();
        fields.push(json!({"id": id, "name": key.name.as_str(), "required": false, "type": key_type(key.kind)}));
        mapping.push(json!({"field-id": id, "names": [key.name.as_str()]}));
        spec.push(json!({
            "source-id": id,
            "field-id": FIRST_PARTITION_FIELD_ID + i as i32,
            "name": key.name.as_str(),
            "transform": "identity",
        }));
    }
    for f in table.schema.fields() {
        let (field, map) = field_json(f, &mut ids)?;
        fields.push(field);
        mapping.push(map);
    }
    let json = json!({
        "type": "struct",
        "schema-id": table.schema_version,
        "fields": fields,
    });
    Ok(IcebergSchema {
        json,
        name_mapping: Value::Array(mapping).to_string(),
        spec_fields: Value::Array(spec),
        last_column_id: ids.next,
    })
}

fn field_json(f: &Field, ids: &mut Ids) -> Result<(Value, Value)> {
    let id = ids.take();
    let (ty, nested) = type_json(f.name(), f.data_type(), ids)?;
    let mut map = json!({"field-id": id, "names": [f.name()]});
    if !nested.is_empty() {
        map["fields"] = Value::Array(nested);
    }
    Ok((
        json!({"id": id, "name": f.name(), "required": false, "type": ty}),
        map,
    ))
}

/// The Iceberg type of an Arrow type, and the name mapping of its children.
fn type_json(column: &str, dt: &DataType, ids: &mut Ids) -> Result<(Value, Vec<Value>)> {
    let prim = |s: &str| Ok((Value::String(s.to_owned()), Vec::new()));
    match dt {
        DataType::Boolean => prim("boolean"),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            prim("int")
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => prim("long"),
        DataType::Float16 | DataType::Float32 => prim("float"),
        DataType::Float64 => prim("double"),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => prim(&format!("decimal({p}, {s})")),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => prim("string"),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => prim("binary"),
        DataType::FixedSizeBinary(n) => prim(&format!("fixed[{n}]")),
        DataType::Date32 | DataType::Date64 => prim("date"),
        DataType::Time32(_) | DataType::Time64(_) => prim("time"),
        // Iceberg v2 has microsecond timestamps only; other units are
        // declared as such and left to the reader's Parquet cast.
        DataType::Timestamp(_, None) => prim("timestamp"),
        DataType::Timestamp(_, Some(_)) => prim("timestamptz"),
        DataType::Dictionary(_, v) => type_json(column, v, ids),
        DataType::Struct(children) => {
            let mut fields = Vec::new();
            let mut maps = Vec::new();
            for c in children {
                let (f, m) = field_json(c, ids)?;
                fields.push(f);
                maps.push(m);
            }
            Ok((json!({"type": "struct", "fields": fields}), maps))
        }
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            let id = ids.take();
            let (ty, nested) = type_json(column, item.data_type(), ids)?;
            let mut map = json!({"field-id": id, "names": ["element", item.name()]});
            if !nested.is_empty() {
                map["fields"] = Value::Array(nested);
            }
            Ok((
                json!({"type": "list", "element-id": id, "element": ty, "element-required": false}),
                vec![map],
            ))
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(unsupported(column, dt));
            };
            let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                return Err(unsupported(column, dt));
            };
            let key_id = ids.take();
            let value_id = ids.take();
            let (kt, kn) = type_json(column, k.data_type(), ids)?;
            let (vt, vn) = type_json(column, v.data_type(), ids)?;
            let mut km = json!({"field-id": key_id, "names": ["key", k.name()]});
            if !kn.is_empty() {
                km["fields"] = Value::Array(kn);
            }
            let mut vm = json!({"field-id": value_id, "names": ["value", v.name()]});
            if !vn.is_empty() {
                vm["fields"] = Value::Array(vn);
            }
            Ok((
                json!({"type": "map", "key-id": key_id, "key": kt, "value-id": value_id, "value": vt, "value-required": false}),
                vec![km, vm],
            ))
        }
        other => Err(unsupported(column, other)),
    }
}

fn unsupported(column: &str, dt: &DataType) -> Error {
    Error::invalid(
        Code::IcebergUnsupportedType,
        format!(
            "column {column} has type {dt}, which Iceberg cannot describe; read this table with batchmeta (load_dataframe) instead"
        ),
    )
}

/// Nanosecond timestamps have no Iceberg v2 type; say so once in the table
/// properties so a reader's odd values have an explanation.
pub(crate) fn has_nanosecond_timestamps(table: &Table) -> bool {
    fn walk(dt: &DataType) -> bool {
        match dt {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => true,
            DataType::Struct(f) => f.iter().any(|c| walk(c.data_type())),
            DataType::List(i) | DataType::LargeList(i) | DataType::FixedSizeList(i, _) => {
                walk(i.data_type())
            }
            DataType::Map(e, _) => walk(e.data_type()),
            DataType::Dictionary(_, v) => walk(v),
            _ => false,
        }
    }
    table.schema.fields().iter().any(|f| walk(f.data_type()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::{PartitionKey, TableIdent};
    use arrow_schema::Schema;
    use std::sync::Arc;

    pub(crate) fn table(keys: &[(&str, KeyType)], fields: Vec<Field>) -> Table {
        Table {
            ident: TableIdent::new("sales", "sold_items").unwrap(),
            schema: Schema::new(fields),
            schema_version: 3,
            partition_keys: keys
                .iter()
                .map(|(n, k)| PartitionKey::new(n, *k).unwrap())
                .collect(),
            location: "sales/sold_items".into(),
            description: None,
            owner: None,
            properties: Default::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn keys_first_then_columns_with_nested_ids() {
        let t = table(
            &[("date", KeyType::Date), ("region", KeyType::String)],
            vec![
                Field::new("id", DataType::Int64, false),
                Field::new(
                    "tags",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                    true,
                ),
                Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            ],
        );
        let s = iceberg_schema(&t).unwrap();
        let f = &s.json["fields"];
        assert_eq!(f[0]["id"], 1);
        assert_eq!(f[0]["type"], "date");
        assert_eq!(f[1]["name"], "region");
        assert_eq!(f[2]["id"], 3);
        assert_eq!(f[2]["type"], "long");
        assert_eq!(f[3]["id"], 4);
        assert_eq!(f[3]["type"]["element-id"], 5);
        assert_eq!(f[4]["id"], 6);
        assert_eq!(f[4]["type"], "timestamp");
        assert_eq!(s.last_column_id, 6);
        assert_eq!(s.json["schema-id"], 3);
        assert_eq!(s.spec_fields[1]["source-id"], 2);
        assert_eq!(s.spec_fields[1]["field-id"], 1001);
        let mapping: Value = serde_json::from_str(&s.name_mapping).unwrap();
        assert_eq!(mapping[3]["names"][0], "tags");
        assert_eq!(mapping[3]["fields"][0]["field-id"], 5);
    }

    #[test]
    fn unpartitioned_has_an_empty_spec() {
        let t = table(&[], vec![Field::new("x", DataType::Float64, true)]);
        let s = iceberg_schema(&t).unwrap();
        assert_eq!(s.spec_fields, json!([]));
        assert_eq!(s.json["fields"][0]["id"], 1);
        assert!(!has_nanosecond_timestamps(&t));
    }
}
