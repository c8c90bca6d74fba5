//! Local data files: the Parquet, CSV and Arrow IPC files people `put` and
//! `get`, and the schemas `table create` takes from files. Everything here
//! is about files on this machine; the warehouse is the core's business.

mod read;
mod write;

use std::path::Path;

use arrow_schema::{Field, Schema};
use batchmeta::model::{KeyType, PartitionKey, parse_data_type};
use batchmeta::{Code, Error, Result};

pub(crate) use read::open_input;
pub(crate) use write::open_sink;

/// The file formats, by extension (or magic bytes for inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Apache Parquet.
    Parquet,
    /// Comma-separated values with a header row.
    Csv,
    /// Arrow IPC (file or stream), also called Feather v2.
    Ipc,
}

impl Format {
    /// The format an extension names, if any.
    pub(crate) fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            "arrow" | "ipc" | "feather" | "arrows" => Some(Format::Ipc),
            _ => None,
        }
    }
}

/// A user-supplied path that cannot be opened: exit 1 with what to check.
pub(crate) fn open_error(path: &Path, e: &std::io::Error) -> Error {
    let hint = match e.kind() {
        std::io::ErrorKind::NotFound => "check the path; it is relative to the current directory",
        std::io::ErrorKind::PermissionDenied => "check the file's permissions",
        _ => "check that it is a readable file",
    };
    Error::invalid(
        Code::CannotOpenFile,
        format!("cannot open {}: {e}; hint: {hint}", path.display()),
    )
}

/// A local file whose content is not what it claims: exit 1.
pub(crate) fn bad_file(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::invalid(
        Code::InvalidFile,
        format!(
            "cannot read {} as {what}: {e}; hint: check that the file is complete and in the format its extension says",
            path.display()
        ),
    )
}

/// The Arrow schema in a Parquet file's footer.
pub(crate) fn parquet_schema(path: &Path) -> Result<Schema> {
    let file = std::fs::File::open(path).map_err(|e| open_error(path, &e))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad_file(path, "Parquet", e))?;
    let schema = builder.schema().as_ref().clone();
    // pandas and Spark metadata describe the file, not the table.
    Ok(Schema::new(schema.fields().clone()))
}

/// A table's columns from a JSON file, in either form: what `meta table
/// show --output json` prints (`{"columns": [{"name", "type", "nullable"}],
/// "partition_keys": [{"name", "type"}], ...}`, whose partition keys come
/// along), or arrow-rs's serde form of a schema (`{"fields": [...]}`).
pub(crate) fn schema_json(path: &Path) -> Result<(Schema, Option<Vec<PartitionKey>>)> {
    #[derive(serde::Deserialize)]
    struct Column {
        name: String,
        #[serde(rename = "type")]
        data_type: String,
        #[serde(default = "yes")]
        nullable: bool,
    }
    #[derive(serde::Deserialize)]
    struct Key {
        name: String,
        #[serde(rename = "type")]
        key_type: String,
    }
    #[derive(serde::Deserialize)]
    struct Shown {
        columns: Vec<Column>,
        #[serde(default)]
        partition_keys: Vec<Key>,
    }
    fn yes() -> bool {
        true
    }
    let text = std::fs::read_to_string(path).map_err(|e| open_error(path, &e))?;
    if let Ok(shown) = serde_json::from_str::<Shown>(&text) {
        let fields = shown
            .columns
            .iter()
            .map(|c| {
                Ok(Field::new(
                    &c.name,
                    parse_data_type(&c.data_type)?,
                    c.nullable,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let keys = shown
            .partition_keys
            .iter()
            .map(|k| PartitionKey::new(&k.name, KeyType::parse(&k.key_type)?))
            .collect::<Result<Vec<_>>>()?;
        return Ok((Schema::new(fields), Some(keys)));
    }
    let schema = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(
            Code::InvalidSchema,
            format!(
                "{} is not a table schema JSON: {e}; hint: give the output of `meta table show NS.TABLE --output json`, or an Arrow schema {{\"fields\": [{{\"name\": \"id\", \"data_type\": \"Int64\", \"nullable\": true, \"dict_id\": 0, \"dict_is_ordered\": false, \"metadata\": {{}}}}], \"metadata\": {{}}}}, or use --columns",
                path.display()
            ),
        )
    })?;
    Ok((schema, None))
}

/// `schema` without the named columns when `drop` is set.
pub(crate) fn without_columns(schema: &Schema, names: &[&str], drop: bool) -> Schema {
    if !drop {
        return schema.clone();
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !names.contains(&f.name().as_str()))
        .cloned()
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}
