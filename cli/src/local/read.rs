//! Opening local Parquet, CSV and Arrow IPC files as streams of record
//! batches. CSV text is parsed straight into the table's types, so `2` lands
//! in a float64 column as 2.0, and `1.5` in an int64 column is refused with
//! its line and column (never truncated to 1); columns the table lacks keep
//! their inferred types (and a strict publish names them).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use batchmeta::{Code, Error, Result};

use super::{Format, bad_file, open_error};

/// Rows per record batch read from CSV and Parquet.
const BATCH_ROWS: usize = 64 * 1024;
/// What a CSV input is reported as.
const CSV: &str = "CSV";
/// CSV rows looked at to infer the column types.
const INFER_ROWS: usize = 10_000;

type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

/// One opened input file.
pub(crate) struct Input {
    /// Where it is.
    pub(crate) path: PathBuf,
    /// The schema of its batches.
    pub(crate) schema: SchemaRef,
    batches: Batches,
    /// What a malformed batch is reported as ("CSV" names the line and
    /// column of a value that does not fit its type).
    what: &'static str,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.path)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// The batches; a file that turns out malformed midway is a user error.
    pub(crate) fn into_batches(self) -> impl Iterator<Item = Result<RecordBatch>> + Send {
        let path = self.path;
        let what = self.what;
        self.batches.map(move |r| {
            r.map_err(|e| match (what, e) {
                (CSV, ArrowError::ParseError(e)) => Error::invalid(
                    Code::InvalidFile,
                    format!(
                        "a value of {} does not fit its column's type: {e}; hint: fix the value (line numbers count data rows, not the header), or compare the columns with `meta table show`",
                        path.display()
                    ),
                ),
                (_, e) => bad_file(&path, what, e),
            })
        })
    }
}

/// Opens a local data file; its format comes from the extension or, failing
/// that, from its first bytes. `table` gives CSV columns their types.
pub(crate) fn open_input(path: &Path, table: &Schema) -> Result<Input> {
    let mut file = File::open(path).map_err(|e| open_error(path, &e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::invalid(
            Code::CannotOpenFile,
            format!(
                "{} is a directory; hint: name the data files in it",
                path.display()
            ),
        ));
    }
    let format = match Format::from_extension(path) {
        Some(f) => f,
        None => sniff(&mut file).ok_or_else(|| {
            Error::invalid(
                Code::UnknownFileFormat,
                format!(
                    "cannot tell the format of {}; hint: name it .parquet, .csv or .arrow",
                    path.display()
                ),
            )
        })?,
    };
    let path_buf = path.to_path_buf();
    match format {
        Format::Parquet => {
            let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| bad_file(path, "Parquet", e))?;
            let schema = Arc::new(Schema::new(b.schema().fields().clone()));
            let reader = b
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| bad_file(path, "Parquet", e))?;
            let s = schema.clone();
            Ok(Input {
                path: path_buf,
                schema,
                batches: Box::new(reader.map(move |r| r.and_then(|rb| rb.with_schema(s.clone())))),
                what: "data",
            })
        }
        Format::Ipc => open_ipc(path, file),
        Format::Csv => open_csv(path, file, table),
    }
}

fn open_ipc(path: &Path, mut file: File) -> Result<Input> {
    let path_buf = path.to_path_buf();
    if let Ok(r) = arrow_ipc::reader::FileReader::try_new(
        file.try_clone().map_err(|e| open_error(path, &e))?,
        None,
    ) {
        return Ok(Input {
            path: path_buf,
            schema: r.schema(),
            batches: Box::new(r),
            what: "data",
        });
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| open_error(path, &e))?;
    let r = arrow_ipc::reader::StreamReader::try_new(std::io::BufReader::new(file), None)
        .map_err(|e| bad_file(path, "Arrow IPC", e))?;
    Ok(Input {
        path: path_buf,
        schema: r.schema(),
        batches: Box::new(r),
        what: "data",
    })
}

fn open_csv(path: &Path, mut file: File, table: &Schema) -> Result<Input> {
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (inferred, _) = format
        .infer_schema(&mut file, Some(INFER_ROWS))
        .map_err(|e| bad_file(path, "CSV", e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| open_error(path, &e))?;
    let inferred = Arc::new(inferred);
    // Each column the table knows gets the table's type; others keep the
    // inferred one (and a strict publish will name them).
    let target: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| match table.field_with_name(f.name()) {
            Ok(t) => Field::new(f.name(), t.data_type().clone(), true),
            Err(_) => f.as_ref().clone(),
        })
        .collect();
    let target = Arc::new(Schema::new(target));
    let reader = arrow_csv::ReaderBuilder::new(target.clone())
        .with_format(format)
        .with_batch_size(BATCH_ROWS)
        .build(file)
        .map_err(|e| bad_file(path, "CSV", e))?;
    Ok(Input {
        path: path.to_path_buf(),
        schema: target,
        batches: Box::new(reader),
        what: CSV,
    })
}

/// The format a file's first bytes show.
fn sniff(file: &mut File) -> Option<Format> {
    let mut head = [0u8; 6];
    let n = file.read(&mut head).ok()?;
    file.seek(SeekFrom::Start(0)).ok()?;
    match &head[..n] {
        [b'P', b'A', b'R', b'1', ..] => Some(Format::Parquet),
        [b'A', b'R', b'R', b'O', b'W', b'1'] => Some(Format::Ipc),
        _ => None,
    }
}
