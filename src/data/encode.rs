//! One Parquet file encoded into a writer (memory, or a streamed upload),
//! its columns encoded in parallel.
//!
//! `ArrowWriter` encodes the columns of a row group one after the other on
//! the calling thread. Here each chunk of rows is split into its leaf
//! columns and the column writers take them from a shared queue on as many
//! threads as the machine has cores, so a wide frame encodes about that
//! many times faster. The file layout is what `ArrowWriter` writes (it
//! builds the file writer, the embedded Arrow schema included).

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use crate::error::{Error, Result};

/// A Parquet file being encoded into `W`. Bytes reach `W` a row group at a
/// time, as each is finished.
pub(crate) struct ParallelFileWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The open row group's column writers (one per leaf column).
    columns: Vec<ArrowColumnWriter>,
    row_groups: usize,
    row_group_rows: usize,
    max_row_group_rows: usize,
    max_row_group_bytes: usize,
    threads: usize,
    /// Each column's encoding time per row in the last chunk: columns are
    /// handed to the threads slowest first, so that the last one to start
    /// is a quick one and no thread waits long for another at the end of a
    /// chunk (a column of long strings can take as long as all the rest).
    cost: Vec<f64>,
}

impl<W: Write + Send> std::fmt::Debug for ParallelFileWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelFileWriter")
            .field("row_groups", &self.row_groups)
            .field("row_group_rows", &self.row_group_rows)
            .finish_non_exhaustive()
    }
}

/// Below this much data, encoding stays on the calling thread.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Runs `work` on every item, on up to `threads` threads (the caller's
/// included), items handed out one at a time so that a slow column does
/// not hold up the others' thread.
fn parallel<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let n = items.len();
    if threads <= 1 || n <= 1 {
        return items.into_iter().map(work).collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let results: Mutex<Vec<Option<Result<R>>>> = Mutex::new((0..n).map(|_| None).collect());
    let run = || {
        loop {
            let next = queue.lock().map(|mut q| q.next()).unwrap_or(None);
            let Some((i, item)) = next else { break };
            let r = work(item);
            let failed = r.is_err();
            if let Ok(mut slots) = results.lock() {
                slots[i] = Some(r);
            }
            if failed {
                break;
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.min(n) {
            s.spawn(run);
        }
        run();
    });
    let slots = results
        .into_inner()
        .map_err(|_| Error::Internal("an encoding thread panicked".into()))?;
    let mut out = Vec::with_capacity(n);
    for slot in slots {
        match slot {
            Some(r) => out.push(r?),
            // Left undone because another item failed first; that error
            // was returned above unless it sits later in the order.
            None => {
                return Err(Error::Internal(
                    "a column was not encoded after another one failed".into(),
                ));
            }
        }
    }
    Ok(out)
}

impl<W: Write + Send> ParallelFileWriter<W> {
    /// A file written to `sink` (its leading magic right away).
    pub(crate) fn new(sink: W, schema: &SchemaRef, props: &WriterProperties) -> Result<Self> {
        let max_row_group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX);
        let max_row_group_bytes = props.max_row_group_bytes().unwrap_or(usize::MAX);
        let (file, factory) = ArrowWriter::try_new(sink, schema.clone(), Some(props.clone()))?
            .into_serialized_writer()?;
        let columns = factory.create_column_writers(0)?;
        // Read once: on Linux each call reads the cgroup files.
        static CORES: OnceLock<usize> = OnceLock::new();
        let threads =
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(Self {
            file,
            factory,
            schema: schema.clone(),
            columns,
            row_groups: 0,
            row_group_rows: 0,
            max_row_group_rows,
            max_row_group_bytes,
            threads,
            cost: Vec::new(),
        })
    }

    /// Encodes `batch` (which has the file's schema), starting a new row
    /// group when the open one is full.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let room = self.max_row_group_rows - self.row_group_rows;
            let take = room.min(batch.num_rows() - offset);
            self.encode(&batch.slice(offset, take))?;
            offset += take;
            if self.row_group_rows >= self.max_row_group_rows
                || self.open_row_group_bytes() >= self.max_row_group_bytes
            {
                self.flush_row_group()?;
            }
        }
        Ok(())
    }

    fn encode(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = self.factory.create_column_writers(self.row_groups)?;
        }
        let mut leaves: Vec<ArrowLeafColumn> = Vec::with_capacity(self.columns.len());
        for (field, array) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array)?);
        }
        if leaves.len() != self.columns.len() {
            return Err(Error::Internal(format!(
                "{} leaf columns for {} column writers",
                leaves.len(),
                self.columns.len()
            )));
        }
        let threads = self.threads_for(batch.get_array_memory_size());
        let mut work: Vec<_> = self.columns.iter_mut().zip(leaves).enumerate().collect();
        if self.cost.len() == work.len() {
            let cost = &self.cost;
            work.sort_by(|(a, _), (b, _)| cost[*b].total_cmp(&cost[*a]));
        }
        let timed = parallel(work, threads, |(i, (w, leaf))| {
            let start = std::time::Instant::now();
            w.write(&leaf)?;
            Ok((i, start.elapsed().as_secs_f64()))
        })?;
        let rows = batch.num_rows().max(1) as f64;
        self.cost.resize(self.columns.len(), 0.0);
        for (i, seconds) in timed {
            self.cost[i] = seconds / rows;
        }
        self.row_group_rows += batch.num_rows();
        Ok(())
    }

    /// Threads for work on about `bytes` of data: a small write (a tiny
    /// publish) stays on the calling thread, where starting a thread would
    /// cost more than the encoding.
    fn threads_for(&self, bytes: usize) -> usize {
        if bytes < PARALLEL_MIN_BYTES {
            1
        } else {
            self.threads
        }
    }

    fn open_row_group_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(ArrowColumnWriter::get_estimated_total_bytes)
            .sum()
    }

    /// Closes the open row group (its columns finished in parallel) and
    /// appends it to the file.
    fn flush_row_group(&mut self) -> Result<()> {
        if self.row_group_rows == 0 {
            return Ok(());
        }
        self.row_groups += 1;
        let threads = self.threads_for(self.open_row_group_bytes());
        // The next row group's writers are made when it gets rows: a
        // column writer holds a compression context, costly to set up.
        let columns = std::mem::take(&mut self.columns);
        let chunks: Vec<ArrowColumnChunk> = parallel(columns, threads, |w| Ok(w.close()?))?;
        let mut group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.row_group_rows = 0;
        Ok(())
    }

    /// Bytes written so far plus the estimated encoded size of the open row group.
    pub(crate) fn encoded_size(&self) -> usize {
        self.file.bytes_written() + self.open_row_group_bytes()
    }

    /// The sink, which holds what was written so far.
    pub(crate) fn sink_mut(&mut self) -> &mut W {
        self.file.inner_mut()
    }

    /// Finishes the file (last row group, footer) and returns the sink.
    pub(crate) fn finish(mut self) -> Result<W> {
        self.flush_row_group()?;
        Ok(self.file.into_inner()?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    #[test]
    fn row_groups_split_at_the_row_limit_and_read_back_in_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
            Field::new("t", DataType::Utf8, true),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .build();
        let mut w = ParallelFileWriter::new(Vec::new(), &schema, &props).unwrap();
        let batch = |start: i64, n: i64| {
            let ns: Vec<i64> = (start..start + n).collect();
            let s: Vec<Option<String>> = ns
                .iter()
                .map(|i| (i % 7 != 0).then(|| format!("v{i}")))
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ns)),
                    Arc::new(StringArray::from(s.clone())),
                    Arc::new(StringArray::from(s)),
                ],
            )
            .unwrap()
        };
        w.write(&batch(0, 700)).unwrap();
        w.write(&batch(700, 1800)).unwrap();
        let bytes = Bytes::from(w.finish().unwrap());
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, [1000, 1000, 500]);
        let back: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let back = arrow::compute::concat_batches(&schema, &back).unwrap();
        assert_eq!(back, batch(0, 2500));
    }

    #[test]
    fn an_error_in_one_item_is_returned() {
        let r = parallel(vec![1, 2, 3, 4], 2, |i| {
            if i == 3 {
                Err(Error::Internal("three".into()))
            } else {
                Ok(i * 10)
            }
        });
        assert!(r.unwrap_err().to_string().contains("three"));
        assert_eq!(
            parallel(vec![1, 2, 3], 2, |i| Ok(i * 10)).unwrap(),
            [10, 20, 30]
        );
    }
}
