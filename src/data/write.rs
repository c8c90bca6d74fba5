//! Writing record batches as Parquet files under a batch prefix.
//!
//! Files are encoded in memory and uploaded whole with create-only puts, so
//! a file is either absent or complete, and nothing that exists is ever
//! overwritten. A file is closed once its encoded size reaches the target,
//! which bounds memory by the target size, not by the data.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::dictionary_order;
use super::encode::ParallelFileWriter;
use crate::error::{Error, Result};
use crate::model::{DataFile, same_logical_type};

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
        let bad = |m: String| Error::invalid("invalid_write_options", m);
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
/// Files uploaded before a failure stay in place (the batch is never
/// published, so no reader sees them).
pub async fn write_files(
    store: &Arc<dyn ObjectStore>,
    prefix: &Path,
    schema: SchemaRef,
    mut batches: impl Stream<Item = Result<RecordBatch>> + Unpin + Send,
    opts: &WriteOptions,
) -> Result<Vec<DataFile>> {
    let props = opts.properties()?;
    let target = opts.target_file_size;
    let mut done: Vec<DataFile> = Vec::new();
    let mut current: Option<OpenFile> = None;
    // Encoded bytes per row, carried across files to size the next chunk.
    let mut bytes_per_row: Option<f64> = None;

    while let Some(batch) = batches.next().await {
        let batch = conform(&batch?, &schema)?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let file = match &mut current {
                Some(f) => f,
                None => {
                    current.insert(OpenFile::new(&schema, &with_dictionaries(&props, &batch)?)?)
                }
            };
            let take = file
                .rows_that_fit(target, bytes_per_row)
                .min(batch.num_rows() - offset);
            file.writer.write(&batch.slice(offset, take))?;
            file.rows += take as u64;
            offset += take;
            let encoded = file.encoded_size();
            bytes_per_row = Some(encoded as f64 / file.rows as f64);
            if encoded >= target
                && let Some(full) = current.take()
            {
                done.push(full.upload(store, prefix, done.len()).await?);
            }
        }
    }
    if current.is_none() && done.is_empty() {
        current = Some(OpenFile::new(&schema, &props)?);
    }
    if let Some(last) = current.take() {
        done.push(last.upload(store, prefix, done.len()).await?);
    }
    Ok(done)
}

/// `props` plus the dictionary orders of `batch` (see `dictionary_order`).
fn with_dictionaries(props: &WriterProperties, batch: &RecordBatch) -> Result<WriterProperties> {
    let recorded = dictionary_order::record(batch)?;
    if recorded.is_empty() {
        return Ok(props.clone());
    }
    let mut kv = props.key_value_metadata().cloned().unwrap_or_default();
    kv.extend(recorded);
    Ok(props
        .clone()
        .into_builder()
        .set_key_value_metadata(Some(kv))
        .build())
}

/// The object name of the `index`-th file of a batch.
pub(crate) fn file_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

/// A file being encoded in memory.
struct OpenFile {
    writer: ParallelFileWriter,
    rows: u64,
}

impl OpenFile {
    fn new(schema: &SchemaRef, props: &WriterProperties) -> Result<Self> {
        Ok(Self {
            writer: ParallelFileWriter::new(schema, props)?,
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

    async fn upload(
        self,
        store: &Arc<dyn ObjectStore>,
        prefix: &Path,
        index: usize,
    ) -> Result<DataFile> {
        let rows = self.rows;
        let bytes = Bytes::from(self.writer.finish()?);
        let size = bytes.len() as u64;
        let path = prefix.clone().join(file_name(index));
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match store.put_opts(&path, PutPayload::from(bytes), opts).await {
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
            }),
            Err(e) => Err(e.into()),
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
