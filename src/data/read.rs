//! Reading data files back as record batches of the table's schema.
//!
//! Each file is read with parquet's async decoder: only the needed columns
//! are fetched, row groups the filters rule out (by their statistics) are
//! skipped, and the remaining rows are filtered exactly with Arrow kernels.
//! Files written before a schema merge may lack columns (they read as
//! nulls) or encode a column differently (cast to the table's type).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, new_null_array};
use arrow_schema::{FieldRef, Schema, SchemaRef};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::path::Path;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};

use super::dictionary_order;
use super::filter::Filter;
use super::object_file::{ObjectReader, invalid_file};
use super::predicate::Compiled;
use super::prune::row_groups_to_read;
use crate::error::{Code, Error, Result};
use crate::model::DataFile;

/// What [`read_files`] returns and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// The columns to return, in this order; `None` for all of the table's.
    pub columns: Option<Vec<String>>,
    /// Row filters, combined with AND. They may name columns not returned.
    pub filters: Vec<Filter>,
    /// Most rows per returned batch (default 8192).
    pub batch_size: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            columns: None,
            filters: Vec::new(),
            batch_size: 8192,
        }
    }
}

/// Counters of one read, updated as its stream is consumed.
#[derive(Debug, Default)]
pub struct ReadStats {
    files: AtomicU64,
    files_skipped: AtomicU64,
    row_groups: AtomicU64,
    row_groups_read: AtomicU64,
    rows_decoded: AtomicU64,
    rows_returned: AtomicU64,
}

impl ReadStats {
    /// Files whose footer was read.
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }
    /// Files skipped whole (a filter on a column they lack rules them out).
    pub fn files_skipped(&self) -> u64 {
        self.files_skipped.load(Ordering::Relaxed)
    }
    /// Row groups in the files whose footer was read.
    pub fn row_groups(&self) -> u64 {
        self.row_groups.load(Ordering::Relaxed)
    }
    /// Row groups actually decoded (the rest were pruned).
    pub fn row_groups_read(&self) -> u64 {
        self.row_groups_read.load(Ordering::Relaxed)
    }
    /// Rows decoded, before exact filtering.
    pub fn rows_decoded(&self) -> u64 {
        self.rows_decoded.load(Ordering::Relaxed)
    }
    /// Rows returned.
    pub fn rows_returned(&self) -> u64 {
        self.rows_returned.load(Ordering::Relaxed)
    }
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

/// The schema of the batches a read returns: `table_schema` projected to
/// `columns` (in that order), with the table's metadata.
pub fn output_schema(table_schema: &Schema, columns: Option<&[String]>) -> Result<SchemaRef> {
    let Some(columns) = columns else {
        return Ok(Arc::new(table_schema.clone()));
    };
    let mut indices = Vec::with_capacity(columns.len());
    for c in columns {
        let i = column_index(table_schema, c)?;
        if indices.contains(&i) {
            return Err(Error::invalid(
                Code::InvalidColumns,
                format!("column {c:?} is asked for twice: name each column once"),
            ));
        }
        indices.push(i);
    }
    Ok(Arc::new(table_schema.project(&indices)?))
}

fn column_index(schema: &Schema, name: &str) -> Result<usize> {
    schema.index_of(name).map_err(|_| {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        Error::invalid(
            Code::UnknownColumn,
            format!(
                "unknown column {name:?}: the table has {}",
                names.join(", ")
            ),
        )
    })
}

/// Reads `files` in order as batches of exactly [`output_schema`]`(table_schema,
/// opts.columns)`, keeping only rows matching every filter. Unknown columns
/// and filters whose literal does not fit the column fail here, before any
/// file is read. Batches left empty by filtering are not returned.
pub async fn read_files(
    store: &Arc<dyn ObjectStore>,
    files: &[DataFile],
    table_schema: &Schema,
    opts: &ReadOptions,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    Ok(read_files_with_stats(store, files, table_schema, opts)
        .await?
        .0)
}

/// [`read_files`], also returning counters of the files and row groups read.
pub async fn read_files_with_stats(
    store: &Arc<dyn ObjectStore>,
    files: &[DataFile],
    table_schema: &Schema,
    opts: &ReadOptions,
) -> Result<(BoxStream<'static, Result<RecordBatch>>, Arc<ReadStats>)> {
    let plan = Arc::new(Plan::new(table_schema, opts)?);
    let stats = Arc::new(ReadStats::default());
    let store = store.clone();
    let counters = stats.clone();
    let batches = stream::iter(files.to_vec())
        .then(move |file| open_file(store.clone(), plan.clone(), counters.clone(), file))
        .try_flatten()
        .boxed();
    Ok((batches, stats))
}

/// What every file of a read needs, decided once.
#[derive(Debug)]
struct Plan {
    /// The schema of returned batches.
    output: SchemaRef,
    /// The output fields, then columns only filters need (table types).
    working: Vec<FieldRef>,
    /// Each filter with the index of its column in `working`.
    filters: Vec<(usize, Compiled)>,
    batch_size: usize,
}

impl Plan {
    fn new(table: &Schema, opts: &ReadOptions) -> Result<Self> {
        let output = output_schema(table, opts.columns.as_deref())?;
        let mut working: Vec<FieldRef> = output.fields().iter().cloned().collect();
        let mut filters = Vec::with_capacity(opts.filters.len());
        for f in &opts.filters {
            let field = &table.fields()[column_index(table, &f.column)?];
            let idx = match working.iter().position(|w| w.name() == field.name()) {
                Some(i) => i,
                None => {
                    working.push(field.clone());
                    working.len() - 1
                }
            };
            filters.push((idx, Compiled::new(f, field.data_type())?));
        }
        if opts.batch_size == 0 {
            return Err(Error::invalid(
                Code::InvalidReadOptions,
                "batch_size must be at least 1",
            ));
        }
        Ok(Self {
            output,
            working,
            filters,
            batch_size: opts.batch_size,
        })
    }

    /// Whether a file lacking `column` (so all nulls there) can hold matches.
    fn nulls_may_match(&self, file_schema: &Schema) -> Result<bool> {
        for (idx, f) in &self.filters {
            let field = &self.working[*idx];
            if file_schema.field_with_name(field.name()).is_err() {
                let m = f.evaluate(&new_null_array(field.data_type(), 1))?;
                if !(m.is_valid(0) && m.value(0)) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Turns one decoded batch into an output batch: table types, missing
    /// columns as nulls, filters applied.
    fn process(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let columns = self
            .working
            .iter()
            .map(|f| match batch.column_by_name(f.name()) {
                Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
                Some(c) => arrow_cast::cast(c, f.data_type()).map_err(|e| {
                    Error::Data(format!(
                        "column {} is stored as {} and cannot be read as {}: {e}",
                        f.name(),
                        c.data_type(),
                        f.data_type()
                    ))
                }),
                None => Ok(new_null_array(f.data_type(), rows)),
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let mut mask: Option<BooleanArray> = None;
        for (idx, f) in &self.filters {
            let m = f.evaluate(&columns[*idx])?;
            mask = Some(match mask {
                None => m,
                Some(acc) => arrow::compute::and(&acc, &m)?,
            });
        }
        let out_columns = columns[..self.output.fields().len()].to_vec();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let out = RecordBatch::try_new_with_options(self.output.clone(), out_columns, &options)?;
        Ok(match mask {
            Some(m) => arrow::compute::filter_record_batch(&out, &m)?,
            None => out,
        })
    }
}

/// Opens one file: footer, pruning, projection; returns its batches.
async fn open_file(
    store: Arc<dyn ObjectStore>,
    plan: Arc<Plan>,
    stats: Arc<ReadStats>,
    file: DataFile,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let path = Path::parse(&file.path).map_err(|e| {
        Error::invalid(
            Code::InvalidDataFile,
            format!(
                "data file path {:?} is not a valid object path: {e}",
                file.path
            ),
        )
    })?;
    let mut reader = ObjectReader::new(store.clone(), path.clone(), file.size);
    let metadata = reader.load_metadata().await?;
    let meta = ArrowReaderMetadata::try_new(metadata.clone(), ArrowReaderOptions::new())
        .map_err(|e| invalid_file(&path, &e))?;
    let file_schema = meta.schema().clone();
    bump(&stats.files, 1);
    bump(&stats.row_groups, metadata.num_row_groups() as u64);

    if !plan.nulls_may_match(&file_schema)? {
        bump(&stats.files_skipped, 1);
        return Ok(stream::empty().boxed());
    }
    let compiled: Vec<&Compiled> = plan.filters.iter().map(|(_, c)| c).collect();
    let groups = row_groups_to_read(&metadata, &file_schema, &compiled);
    bump(&stats.row_groups_read, groups.len() as u64);
    if groups.is_empty() {
        return Ok(stream::empty().boxed());
    }
    let roots: Vec<usize> = file_schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| plan.working.iter().any(|w| w.name() == f.name()))
        .map(|(i, _)| i)
        .collect();
    let parts = split_columns(&metadata, &groups, roots, decode_threads());
    let decoded = if parts.len() == 1 {
        let mask = ProjectionMask::roots(metadata.file_metadata().schema_descr(), parts[0].clone());
        ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta)
            .with_projection(mask)
            .with_row_groups(groups)
            .with_batch_size(plan.batch_size)
            .build()?
            .map_err(Error::from)
            .boxed()
    } else {
        let mut streams = Vec::with_capacity(parts.len());
        for part in parts {
            let mask = ProjectionMask::roots(metadata.file_metadata().schema_descr(), part);
            let reader = ObjectReader::new(store.clone(), path.clone(), file.size);
            streams.push(
                ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta.clone())
                    .with_projection(mask)
                    .with_row_groups(groups.clone())
                    .with_batch_size(plan.batch_size)
                    .build()?
                    .map_err(Error::from)
                    .boxed(),
            );
        }
        zip_columns(streams)
    };
    let dictionaries = dictionary_order::recorded(metadata.file_metadata().key_value_metadata());
    Ok(decoded
        .map(move |batch| {
            let batch = dictionary_order::restore_batch(batch?, &dictionaries)?;
            bump(&stats.rows_decoded, batch.num_rows() as u64);
            let out = plan.process(&batch)?;
            bump(&stats.rows_returned, out.num_rows() as u64);
            Ok(out)
        })
        .try_filter(|b| futures::future::ready(b.num_rows() > 0))
        .boxed())
}

/// Threads a file's columns are decoded on.
fn decode_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Splits the projected root columns into up to `parts` groups of about
/// equal compressed size in the row groups read, each decoded by its own
/// task. Small reads stay in one group.
fn split_columns(
    metadata: &parquet::file::metadata::ParquetMetaData,
    groups: &[usize],
    roots: Vec<usize>,
    parts: usize,
) -> Vec<Vec<usize>> {
    /// Below this many compressed bytes a second task costs more than it saves.
    const MIN_PARALLEL_BYTES: i64 = 1 << 20;
    let schema = metadata.file_metadata().schema_descr();
    let size_of = |root: usize| -> i64 {
        groups
            .iter()
            .map(|&g| {
                let rg = metadata.row_group(g);
                (0..rg.num_columns())
                    .filter(|&c| schema.get_column_root_idx(c) == root)
                    .map(|c| rg.column(c).compressed_size())
                    .sum::<i64>()
            })
            .sum()
    };
    let mut sized: Vec<(i64, usize)> = roots.into_iter().map(|r| (size_of(r), r)).collect();
    let total: i64 = sized.iter().map(|(s, _)| s).sum();
    let parts = parts.min(sized.len()).max(1);
    if parts == 1 || total < MIN_PARALLEL_BYTES {
        return vec![sized.into_iter().map(|(_, r)| r).collect()];
    }
    // Largest first, each to the lightest group.
    sized.sort_by(|a, b| b.cmp(a));
    let mut out: Vec<(i64, Vec<usize>)> = vec![(0, Vec::new()); parts];
    for (size, root) in sized {
        if let Some(lightest) = out.iter_mut().min_by_key(|(s, _)| *s) {
            lightest.0 += size;
            lightest.1.push(root);
        }
    }
    out.into_iter()
        .map(|(_, mut r)| {
            r.sort_unstable();
            r
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Decodes each stream on its own task and joins their batches column-wise:
/// the streams read the same rows (same row groups and batch size), each a
/// different set of columns.
fn zip_columns(
    streams: Vec<BoxStream<'static, Result<RecordBatch>>>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let receivers: Vec<_> = streams
        .into_iter()
        .map(|mut s| {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
            tokio::spawn(async move {
                while let Some(b) = s.next().await {
                    if tx.send(b).await.is_err() {
                        break;
                    }
                }
            });
            rx
        })
        .collect();
    stream::unfold(receivers, |mut receivers| async move {
        let mut parts = Vec::with_capacity(receivers.len());
        let mut ended = 0;
        for rx in receivers.iter_mut() {
            match rx.recv().await {
                Some(Ok(b)) => parts.push(b),
                Some(Err(e)) => return Some((Err(e), receivers)),
                None => ended += 1,
            }
        }
        match (parts.is_empty(), ended) {
            (true, _) => None,
            (false, 0) => Some((join_columns(&parts), receivers)),
            (false, _) => Some((
                Err(Error::Internal(
                    "column groups of one file decoded to different row counts".into(),
                )),
                receivers,
            )),
        }
    })
    .boxed()
}

fn join_columns(parts: &[RecordBatch]) -> Result<RecordBatch> {
    let rows = parts[0].num_rows();
    if parts.iter().any(|p| p.num_rows() != rows) {
        return Err(Error::Internal(
            "column groups of one file decoded to different row counts".into(),
        ));
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for p in parts {
        fields.extend(p.schema().fields().iter().cloned());
        columns.extend(p.columns().iter().cloned());
    }
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &options,
    )?)
}
