//! The Avro files of Iceberg format v2: one manifest per batch (its data
//! files, ADDED, snapshot id and sequence number inherited from the manifest
//! list) and one manifest list per table state. Written with `apache-avro`,
//! `field-id` attributes everywhere.

use apache_avro::types::Value;
use apache_avro::{Codec, DeflateSettings, Reader, Schema, Writer};
use serde_json::json;

use crate::error::{Error, Result};
use crate::model::{KeyType, PartitionKey, PartitionValues};

/// One entry of a manifest list: a manifest and where it was added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestRef {
    /// Full URI of the manifest.
    pub(crate) path: String,
    /// Its size in bytes.
    pub(crate) length: i64,
    /// The sequence number it was added with (its files inherit it).
    pub(crate) sequence_number: i64,
    /// The snapshot it was added in.
    pub(crate) added_snapshot_id: i64,
    /// Its data files.
    pub(crate) files: i32,
    /// Their rows.
    pub(crate) rows: i64,
}

/// A data file as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataFileEntry {
    /// Full URI.
    pub(crate) path: String,
    /// Rows.
    pub(crate) rows: i64,
    /// Bytes.
    pub(crate) size: i64,
}

/// A writer with an explicit codec: pyiceberg 0.12 takes a file without
/// `avro.codec` for gzip (and fails), so "null" cannot be left implicit and
/// apache-avro writes the key only for real codecs. Deflate is what Iceberg
/// Java writes by default.
fn writer(schema: &Schema) -> Result<Writer<'_, Vec<u8>>> {
    Writer::with_codec(
        schema,
        Vec::new(),
        Codec::Deflate(DeflateSettings::default()),
    )
    .map_err(avro_err)
}

fn avro_err(e: apache_avro::Error) -> Error {
    Error::Internal(format!("iceberg avro: {e}"))
}

fn partition_avro_type(kind: KeyType) -> serde_json::Value {
    match kind {
        KeyType::String => json!("string"),
        KeyType::Int => json!("long"),
        KeyType::Date => json!({"type": "int", "logicalType": "date"}),
    }
}

/// The Avro schema of a manifest of a table with these partition keys.
pub(crate) fn manifest_schema(keys: &[PartitionKey]) -> Result<Schema> {
    let partition_fields: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "name": k.name.as_str(),
                "type": ["null", partition_avro_type(k.kind)],
                "default": null,
                "field-id": super::schema::FIRST_PARTITION_FIELD_ID + i as i32,
            })
        })
        .collect();
    let schema = json!({
        "type": "record",
        "name": "manifest_entry",
        "fields": [
            {"name": "status", "type": "int", "field-id": 0},
            {"name": "snapshot_id", "type": ["null", "long"], "default": null, "field-id": 1},
            {"name": "sequence_number", "type": ["null", "long"], "default": null, "field-id": 3},
            {"name": "file_sequence_number", "type": ["null", "long"], "default": null, "field-id": 4},
            {"name": "data_file", "field-id": 2, "type": {
                "type": "record",
                "name": "r2",
                "fields": [
                    {"name": "content", "type": "int", "field-id": 134},
                    {"name": "file_path", "type": "string", "field-id": 100},
                    {"name": "file_format", "type": "string", "field-id": 101},
                    {"name": "partition", "field-id": 102, "type": {
                        "type": "record", "name": "r102", "fields": partition_fields
                    }},
                    {"name": "record_count", "type": "long", "field-id": 103},
                    {"name": "file_size_in_bytes", "type": "long", "field-id": 104}
                ]
            }}
        ]
    });
    Schema::parse(&schema).map_err(avro_err)
}

/// The Avro schema of a manifest list.
pub(crate) fn manifest_list_schema() -> Result<Schema> {
    let schema = json!({
        "type": "record",
        "name": "manifest_file",
        "fields": [
            {"name": "manifest_path", "type": "string", "field-id": 500},
            {"name": "manifest_length", "type": "long", "field-id": 501},
            {"name": "partition_spec_id", "type": "int", "field-id": 502},
            {"name": "content", "type": "int", "field-id": 517},
            {"name": "sequence_number", "type": "long", "field-id": 515},
            {"name": "min_sequence_number", "type": "long", "field-id": 516},
            {"name": "added_snapshot_id", "type": "long", "field-id": 503},
            {"name": "added_files_count", "type": "int", "field-id": 504},
            {"name": "existing_files_count", "type": "int", "field-id": 505},
            {"name": "deleted_files_count", "type": "int", "field-id": 506},
            {"name": "added_rows_count", "type": "long", "field-id": 512},
            {"name": "existing_rows_count", "type": "long", "field-id": 513},
            {"name": "deleted_rows_count", "type": "long", "field-id": 514}
        ]
    });
    Schema::parse(&schema).map_err(avro_err)
}

fn null() -> Value {
    Value::Union(0, Box::new(Value::Null))
}

fn partition_value(key: &PartitionKey, raw: &str) -> Result<Value> {
    let bad = || {
        Error::Internal(format!(
            "partition value {raw:?} of key {} unreadable",
            key.name
        ))
    };
    let v = match key.kind {
        KeyType::String => Value::String(raw.to_owned()),
        KeyType::Int => Value::Long(raw.parse().map_err(|_| bad())?),
        KeyType::Date => {
            let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?;
            let days = i32::try_from((d - epoch).num_days()).map_err(|_| bad())?;
            Value::Date(days)
        }
    };
    Ok(Value::Union(1, Box::new(v)))
}

/// What a manifest's header says about the table.
#[derive(Debug, Clone)]
pub(crate) struct ManifestHeader<'a> {
    /// The Iceberg schema JSON.
    pub(crate) schema: &'a serde_json::Value,
    /// The partition spec fields JSON.
    pub(crate) spec_fields: &'a serde_json::Value,
}

/// The bytes of the manifest of one batch: one ADDED entry per data file.
pub(crate) fn manifest(
    header: &ManifestHeader<'_>,
    keys: &[PartitionKey],
    partition: &PartitionValues,
    files: &[DataFileEntry],
) -> Result<Vec<u8>> {
    let schema = manifest_schema(keys)?;
    let mut w = writer(&schema)?;
    let meta = [
        ("schema", header.schema.to_string()),
        (
            "schema-id",
            header.schema["schema-id"].as_i64().unwrap_or(0).to_string(),
        ),
        ("partition-spec", header.spec_fields.to_string()),
        ("partition-spec-id", "0".to_owned()),
        ("format-version", "2".to_owned()),
        ("content", "data".to_owned()),
    ];
    for (k, v) in meta {
        w.add_user_metadata(k.to_owned(), v).map_err(avro_err)?;
    }
    let values: Vec<&str> = partition.values().collect();
    let mut tuple = Vec::with_capacity(keys.len());
    for (key, raw) in keys.iter().zip(values) {
        tuple.push((key.name.to_string(), partition_value(key, raw)?));
    }
    for f in files {
        let data_file = Value::Record(vec![
            ("content".into(), Value::Int(0)),
            ("file_path".into(), Value::String(f.path.clone())),
            ("file_format".into(), Value::String("PARQUET".into())),
            ("partition".into(), Value::Record(tuple.clone())),
            ("record_count".into(), Value::Long(f.rows)),
            ("file_size_in_bytes".into(), Value::Long(f.size)),
        ]);
        w.append_value(Value::Record(vec![
            ("status".into(), Value::Int(1)),
            ("snapshot_id".into(), null()),
            ("sequence_number".into(), null()),
            ("file_sequence_number".into(), null()),
            ("data_file".into(), data_file),
        ]))
        .map_err(avro_err)?;
    }
    w.into_inner().map_err(avro_err)
}

/// The bytes of a manifest list.
pub(crate) fn manifest_list(
    snapshot_id: i64,
    parent: Option<i64>,
    sequence_number: i64,
    manifests: &[ManifestRef],
) -> Result<Vec<u8>> {
    let schema = manifest_list_schema()?;
    let mut w = writer(&schema)?;
    let mut meta = vec![
        ("snapshot-id", snapshot_id.to_string()),
        ("sequence-number", sequence_number.to_string()),
        ("format-version", "2".to_owned()),
    ];
    if let Some(p) = parent {
        meta.push(("parent-snapshot-id", p.to_string()));
    }
    for (k, v) in meta {
        w.add_user_metadata(k.to_owned(), v).map_err(avro_err)?;
    }
    for m in manifests {
        w.append_value(Value::Record(vec![
            ("manifest_path".into(), Value::String(m.path.clone())),
            ("manifest_length".into(), Value::Long(m.length)),
            ("partition_spec_id".into(), Value::Int(0)),
            ("content".into(), Value::Int(0)),
            ("sequence_number".into(), Value::Long(m.sequence_number)),
            ("min_sequence_number".into(), Value::Long(m.sequence_number)),
            ("added_snapshot_id".into(), Value::Long(m.added_snapshot_id)),
            ("added_files_count".into(), Value::Int(m.files)),
            ("existing_files_count".into(), Value::Int(0)),
            ("deleted_files_count".into(), Value::Int(0)),
            ("added_rows_count".into(), Value::Long(m.rows)),
            ("existing_rows_count".into(), Value::Long(0)),
            ("deleted_rows_count".into(), Value::Long(0)),
        ]))
        .map_err(avro_err)?;
    }
    w.into_inner().map_err(avro_err)
}

/// Reads back a manifest list this module wrote (to reuse its entries).
pub(crate) fn read_manifest_list(bytes: &[u8]) -> Result<Vec<ManifestRef>> {
    let reader = Reader::new(bytes).map_err(avro_err)?;
    let mut out = Vec::new();
    for value in reader {
        let Value::Record(fields) = value.map_err(avro_err)? else {
            return Err(Error::Internal("iceberg avro: not a record".into()));
        };
        let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let long = |name: &str| match get(name) {
            Some(Value::Long(v)) => Ok(*v),
            Some(Value::Int(v)) => Ok(i64::from(*v)),
            _ => Err(Error::Internal(format!("iceberg avro: no {name}"))),
        };
        let path = match get("manifest_path") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(Error::Internal("iceberg avro: no manifest_path".into())),
        };
        out.push(ManifestRef {
            path,
            length: long("manifest_length")?,
            sequence_number: long("sequence_number")?,
            added_snapshot_id: long("added_snapshot_id")?,
            files: i32::try_from(long("added_files_count")?).unwrap_or(i32::MAX),
            rows: long("added_rows_count")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::PartitionSpec;

    #[test]
    fn manifest_keeps_field_ids_and_days() {
        let keys = vec![
            PartitionKey::new("date", KeyType::Date).unwrap(),
            PartitionKey::new("n", KeyType::Int).unwrap(),
        ];
        let p = PartitionValues::resolve(
            &keys,
            &PartitionSpec::Positional(vec!["1970-01-11".into(), "7".into()]),
        )
        .unwrap();
        let schema = json!({"type": "struct", "schema-id": 0, "fields": []});
        let spec = json!([]);
        let header = ManifestHeader {
            schema: &schema,
            spec_fields: &spec,
        };
        let files = vec![DataFileEntry {
            path: "file:///w/a.parquet".into(),
            rows: 3,
            size: 10,
        }];
        let bytes = manifest(&header, &keys, &p, &files).unwrap();
        let reader = Reader::new(&bytes[..]).unwrap();
        let text = serde_json::to_string(reader.writer_schema()).unwrap();
        assert!(text.contains("\"field-id\":102"), "{text}");
        assert!(text.contains("\"field-id\":1001"), "{text}");
        assert_eq!(reader.user_metadata().get("format-version").unwrap(), b"2");
        let rows: Vec<Value> = reader.map(|v| v.unwrap()).collect();
        assert_eq!(rows.len(), 1);
        let Value::Record(entry) = &rows[0] else {
            panic!("not a record")
        };
        let Value::Record(df) = &entry[4].1 else {
            panic!("no data file")
        };
        let Value::Record(part) = &df[3].1 else {
            panic!("no partition")
        };
        assert_eq!(part[0].1, Value::Union(1, Box::new(Value::Date(10))));
        assert_eq!(part[1].1, Value::Union(1, Box::new(Value::Long(7))));
    }

    #[test]
    fn manifest_list_round_trips() {
        let m = ManifestRef {
            path: "file:///w/_iceberg/manifests/b.avro".into(),
            length: 123,
            sequence_number: 4,
            added_snapshot_id: 4,
            files: 2,
            rows: 9,
        };
        let bytes = manifest_list(5, Some(4), 5, std::slice::from_ref(&m)).unwrap();
        assert_eq!(read_manifest_list(&bytes).unwrap(), vec![m]);
        let empty = manifest_list(1, None, 1, &[]).unwrap();
        assert!(read_manifest_list(&empty).unwrap().is_empty());
    }
}
