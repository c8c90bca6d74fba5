//! Writing record batches as Parquet files under a batch prefix.
//!
//! Uploads are create-only, so a file is either absent or complete, and
//! nothing that exists is ever overwritten. Where the store's multipart
//! uploads are create-only (the local warehouse), each file is streamed:
//! every finished row group goes to the store while the next one encodes,
//! so a write holds about one row group, not one file. Elsewhere (cloud
//! stores, whose multipart uploads would overwrite) a file is encoded in
//! memory and put whole. A file is closed once its encoded size reaches the
//! target, which bounds memory by the target size, not by the data.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::dictionary_order;
use super::encode::ParallelFileWriter;
use crate::error::{Code, Error, Result};
use crate::model::{DataFile, casts_losslessly, exact_in_float64, same_logical_type};

/// Bytes per part of a streamed file (small in tests, to make many parts).
pub(crate) const PART_SIZE: usize = if cfg!(test) {
    64 * 1024
} else {
    8 * 1024 * 1024
};
/// Parts of a streamed file being written at once; the encoder waits beyond.
const PARTS_IN_FLIGHT: usize = 2;
/// Rows in the first chunk encoded into a file, before its bytes per row are known.
const FIRST_CHUNK_ROWS: usize = 1024;
/// Most rows encoded between two size checks.
const MAX_CHUNK_ROWS: usize = 64 * 1024;

/// How [`write_files`] lays data out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// A file is closed once its encoded size reaches this many bytes
    /// (default 128 MiB). It is also about the most memory a write holds.
    pub target_file_size: usize,
    /// Most rows per Parquet row group (default 1,048,576).
    pub max_row_group_rows: usize,
    /// zstd compression level, 1..=22 (default 1, Arrow C++'s and so
    /// pyarrow's default: the fastest level, files within a few percent of
    /// level 3).
    pub zstd_level: i32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            target_file_size: 128 * 1024 * 1024,
            max_row_group_rows: 1_048_576,
            zstd_level: 1,
        }
    }
}

impl WriteOptions {
    fn properties(&self) -> Result<WriterProperties> {
        let bad = |m: String| Error::invalid(Code::InvalidWriteOptions, m);
        if self.target_file_size == 0 {
            return Err(bad("target_file_size must be at least 1 byte".into()));
        }
        if self.max_row_group_rows == 0 {
            return Err(bad("max_row_group_rows must be at least 1".into()));
        }
        let level = ZstdLevel::try_new(self.zstd_level).map_err(|_| {
            bad(format!(
                "zstd_level {} is out of range: use 1 to 22",
                self.zstd_level
            ))
        })?;
        Ok(WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .set_max_row_group_bytes(Some(self.target_file_size))
            .build())
    }
}

/// Writes `batches` as zstd Parquet files `part-00000.parquet`,
/// `part-00001.parquet`, ... under `prefix`, starting a new file whenever
/// the current one reaches `opts.target_file_size`, and returns them in
/// order with their exact sizes and row counts.
///
/// Every batch must match `schema` logically (same column names; physical
/// encodings such as dictionary vs plain are cast to `schema`'s). Files
/// carry `schema` itself, metadata included, so pandas/polars metadata
/// round-trips. An empty input still writes one file with zero rows, so the
/// schema is recorded. Uploads are create-only: if a file exists already the
/// write fails with a conflict and the existing file is left as it was.
/// On failure the file being written is aborted (a streamed upload leaves
/// nothing behind); files completed before it stay in place (the batch is
/// never published, so no reader sees them; the metastore removes them).
pub async fn write_files(
    store: &Arc<dyn ObjectStore>,
    prefix: &Path,
    schema: SchemaRef,
    batches: impl Stream<Item = Result<RecordBatch>> + Unpin + Send,
    opts: &WriteOptions,
) -> Result<Vec<DataFile>> {
    let mut current: Option<OpenFile> = None;
    let written = write_all(store, prefix, schema, batches, opts, &mut current).await;
    if written.is_err()
        && let Some(open) = current.take()
    {
        open.abort().await;
    }
    written
}

/// [`write_files`]; the file being written is left in `current` on failure.
async fn write_all(
    store: &Arc<dyn ObjectStore>,
    prefix: &Path,
    schema: SchemaRef,
    mut batches: impl Stream<Item = Result<RecordBatch>> + Unpin + Send,
    opts: &WriteOptions,
    current: &mut Option<OpenFile>,
) -> Result<Vec<DataFile>> {
    let props = opts.properties()?;
    let target = opts.target_file_size;
    let streamed = crate::storage::multipart_is_create_only(store.as_ref());
    let mut done: Vec<DataFile> = Vec::new();
    // Encoded bytes per row, carried across files to size the next chunk.
    let mut bytes_per_row: Option<f64> = None;

    while let Some(batch) = batches.next().await {
        let batch = conform(&batch?, &schema)?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let file = match current {
                Some(f) => f,
                None => {
                    let props = with_dictionaries(&props, &batch)?;
                    let path = prefix.clone().join(file_name(done.len()));
                    current.insert(OpenFile::new(store, path, &schema, &props, streamed).await?)
                }
            };
            let take = file
                .rows_that_fit(target, bytes_per_row)
                .min(batch.num_rows() - offset);
            file.writer.write(&batch.slice(offset, take))?;
            file.rows += take as u64;
            offset += take;
            file.backpressure().await?;
            let encoded = file.encoded_size();
            bytes_per_row = Some(encoded as f64 / file.rows as f64);
            if encoded >= target
                && let Some(full) = current.take()
            {
                done.push(full.close(store).await?);
            }
        }
    }
    if current.is_none() && done.is_empty() {
        let path = prefix.clone().join(file_name(0));
        *current = Some(OpenFile::new(store, path, &schema, &props, streamed).await?);
    }
    if let Some(last) = current.take() {
        done.push(last.close(store).await?);
    }
    Ok(done)
}

/// `props` for a file whose first batch is `batch`: plus the dictionary
/// orders of its dictionary columns (see `dictionary_order`), and without
/// dictionary encoding for the columns it would not pay on.
fn with_dictionaries(props: &WriterProperties, batch: &RecordBatch) -> Result<WriterProperties> {
    let recorded = dictionary_order::record(batch)?;
    let plain = mostly_distinct_columns(batch);
    if recorded.is_empty() && plain.is_empty() {
        return Ok(props.clone());
    }
    let mut builder = props.clone().into_builder();
    if !recorded.is_empty() {
        let mut kv = props.key_value_metadata().cloned().unwrap_or_default();
        kv.extend(recorded);
        builder = builder.set_key_value_metadata(Some(kv));
    }
    for name in plain {
        builder = builder.set_column_dictionary_enabled(ColumnPath::new(vec![name]), false);
    }
    Ok(builder.build())
}

/// Leading rows of a file's first batch that decide whether a column gets
/// a dictionary.
const DICTIONARY_SAMPLE_ROWS: usize = 4096;
/// Fewer sampled values than this decide nothing (dictionaries stay on).
const DICTIONARY_MIN_SAMPLE: usize = 512;
/// A column whose sample is at least this fraction distinct is written
/// without a dictionary.
const DICTIONARY_MAX_DISTINCT: f64 = 0.75;

/// The top-level columns of `batch` (plain, not nested, not already
/// dictionary-encoded) whose leading values are mostly distinct: ids,
/// timestamps, measurements, free text. Parquet would intern (hash) every
/// value into a dictionary that keeps growing until it passes the
/// dictionary page limit, then fall back to plain encoding for the rest of
/// the row group. In `perf` of the benchmark frame that was about a
/// quarter of a store's CPU, and it saved nothing.
fn mostly_distinct_columns(batch: &RecordBatch) -> Vec<String> {
    let rows = batch.num_rows().min(DICTIONARY_SAMPLE_ROWS);
    let mut out = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let sample = column.slice(0, rows);
        let values = rows - sample.null_count();
        if values < DICTIONARY_MIN_SAMPLE {
            continue;
        }
        if let Some(distinct) = distinct_values(&sample)
            && distinct as f64 >= DICTIONARY_MAX_DISTINCT * values as f64
        {
            out.push(field.name().clone());
        }
    }
    out
}

/// How many distinct values `array` holds (null slots may count as one
/// more value), or `None` for types this does not look into.
fn distinct_values(array: &ArrayRef) -> Option<usize> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    fn count<'a>(values: impl Iterator<Item = &'a [u8]>) -> usize {
        values.collect::<HashSet<&[u8]>>().len()
    }
    let data_type = array.data_type();
    Some(match data_type {
        DataType::Utf8 => count(array.as_string::<i32>().iter().flatten().map(str::as_bytes)),
        DataType::LargeUtf8 => count(array.as_string::<i64>().iter().flatten().map(str::as_bytes)),
        DataType::Utf8View => count(array.as_string_view().iter().flatten().map(str::as_bytes)),
        DataType::Binary => count(array.as_binary::<i32>().iter().flatten()),
        DataType::LargeBinary => count(array.as_binary::<i64>().iter().flatten()),
        DataType::BinaryView => count(array.as_binary_view().iter().flatten()),
        t if t.is_primitive() => {
            let width = t.primitive_width()?;
            let data = array.to_data();
            let buffer = data.buffers().first()?;
            let start = data.offset() * width;
            let bytes = buffer.as_slice().get(start..start + data.len() * width)?;
            count(bytes.chunks_exact(width))
        }
        _ => return None,
    })
}

/// The object name of the `index`-th file of a batch.
pub(crate) fn file_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

/// Where an open file's bytes go.
enum Sink {
    /// Kept in memory and put whole when the file is closed.
    Memory(Vec<u8>),
    /// Streamed to the store in parts as row groups are finished.
    Upload {
        upload: WriteMultipart,
        written: u64,
    },
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Memory(v) => v.extend_from_slice(buf),
            Sink::Upload { upload, written } => {
                upload.write(buf);
                *written += buf.len() as u64;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file being encoded.
struct OpenFile {
    writer: ParallelFileWriter<Sink>,
    path: Path,
    rows: u64,
}

impl OpenFile {
    /// Starts the file at `path`: a create-only multipart upload when
    /// `streamed`, otherwise a buffer in memory.
    async fn new(
        store: &Arc<dyn ObjectStore>,
        path: Path,
        schema: &SchemaRef,
        props: &WriterProperties,
        streamed: bool,
    ) -> Result<Self> {
        let sink = if streamed {
            let upload = store
                .put_multipart_opts(&path, PutMultipartOptions::default())
                .await?;
            Sink::Upload {
                upload: WriteMultipart::new_with_chunk_size(upload, PART_SIZE),
                written: 0,
            }
        } else {
            Sink::Memory(Vec::new())
        };
        Ok(Self {
            writer: ParallelFileWriter::new(sink, schema, props)?,
            path,
            rows: 0,
        })
    }

    /// Bytes written so far plus the estimated encoded size of the open row group.
    fn encoded_size(&self) -> usize {
        self.writer.encoded_size()
    }

    /// How many rows to encode before the next size check: about what is
    /// left to reach `target`, so files end close to it.
    fn rows_that_fit(&self, target: usize, bytes_per_row: Option<f64>) -> usize {
        let Some(bpr) = bytes_per_row.filter(|b| *b > 0.0) else {
            return FIRST_CHUNK_ROWS;
        };
        let left = target.saturating_sub(self.encoded_size()) as f64;
        ((left / bpr).ceil() as usize).clamp(1, MAX_CHUNK_ROWS)
    }

    /// Waits while too many parts of a streamed file are being written.
    async fn backpressure(&mut self) -> Result<()> {
        if let Sink::Upload { upload, .. } = self.writer.sink_mut() {
            upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        }
        Ok(())
    }

    /// Finishes the file and makes it visible under its name (create-only).
    async fn close(self, store: &Arc<dyn ObjectStore>) -> Result<DataFile> {
        let rows = self.rows;
        let path = self.path;
        let (size, stored) = match self.writer.finish()? {
            Sink::Memory(bytes) => {
                let bytes = Bytes::from(bytes);
                let size = bytes.len() as u64;
                let opts = PutOptions {
                    mode: PutMode::Create,
                    ..Default::default()
                };
                (
                    size,
                    store.put_opts(&path, PutPayload::from(bytes), opts).await,
                )
            }
            Sink::Upload { upload, written } => (written, upload.finish().await),
        };
        match stored {
            Ok(_) => Ok(DataFile {
                path: path.to_string(),
                size,
                rows,
            }),
            Err(object_store::Error::AlreadyExists { .. }) => Err(Error::Conflict {
                message: format!(
                    "data file {path} already exists: a batch prefix is written once; stage a new batch and write there"
                ),
                current: None,
                hint: None,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Abandons the file: a streamed upload is aborted, so nothing of it
    /// stays in the store.
    async fn abort(mut self) {
        let sink = std::mem::replace(self.writer.sink_mut(), Sink::Memory(Vec::new()));
        if let Sink::Upload { upload, .. } = sink
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(path = %self.path, error = %e, "could not abort the upload of a failed write");
        }
    }
}

/// Gives `batch` exactly `schema` (metadata included), casting columns whose
/// physical type differs but whose logical type is the same.
pub(crate) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema_ref() == schema {
        return Ok(batch.clone());
    }
    let mismatch = |what: String| Error::SchemaMismatch {
        hint: None,
        message: format!(
            "a batch does not match the schema being written: {what}; hint: write every batch with the same columns and types"
        ),
    };
    let have = batch.schema();
    let extra: Vec<&str> = have
        .fields()
        .iter()
        .filter(|f| schema.field_with_name(f.name()).is_err())
        .map(|f| f.name().as_str())
        .collect();
    if !extra.is_empty() {
        return Err(mismatch(format!("unexpected columns {}", extra.join(", "))));
    }
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let (_, got) = have
                .column_with_name(f.name())
                .ok_or_else(|| mismatch(format!("column {} is missing", f.name())))?;
            let col = batch.column_by_name(f.name()).cloned().ok_or_else(|| {
                Error::Internal(format!("column {} vanished from its batch", f.name()))
            })?;
            if got.data_type() == f.data_type() {
                Ok(col)
            } else if same_logical_type(got.data_type(), f.data_type()) {
                Ok(arrow_cast::cast(&col, f.data_type())?)
            } else if casts_losslessly(got.data_type(), f.data_type()) {
                if *f.data_type() == DataType::Float64
                    && let Some(v) = exact_in_float64(col.as_ref())
                {
                    return Err(Error::SchemaMismatch {
                        hint: None,
                        message: format!(
                            "column {} holds {v}, which the table's type float64 cannot hold exactly; hint: store it in an int64 column, or round it first",
                            f.name()
                        ),
                    });
                }
                Ok(arrow_cast::cast(&col, f.data_type())?)
            } else {
                Err(mismatch(format!(
                    "column {} is {} but the schema says {}",
                    f.name(),
                    got.data_type(),
                    f.data_type()
                )))
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
        .map_err(|e| mismatch(e.to_string()))
}
