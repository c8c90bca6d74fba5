//! Write → read round trips over in-memory and local-file stores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod every_type;
mod files;
mod filters;

use std::sync::Arc;

use arrow::compute::concat_batches;
use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use futures::{TryStreamExt, stream};
use object_store::ObjectStore;
use object_store::memory::InMemory;
use object_store::path::Path;

use super::*;
use crate::model::DataFile;

pub(super) fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

pub(super) fn local() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    // The warehouse's own local store (durable creates).
    let store = crate::storage::Storage::open(&dir.path().display().to_string()).unwrap();
    (dir, store.store().clone())
}

pub(super) fn batches_stream(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = crate::Result<RecordBatch>> + Unpin + Send {
    stream::iter(batches.into_iter().map(Ok))
}

pub(super) async fn write(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
    batches: &[RecordBatch],
    opts: &WriteOptions,
) -> crate::Result<Vec<DataFile>> {
    let schema = batches[0].schema();
    write_files(
        store,
        &Path::from(prefix),
        schema,
        batches_stream(batches.to_vec()),
        opts,
    )
    .await
}

pub(super) async fn read_all(
    store: &Arc<dyn ObjectStore>,
    files: &[DataFile],
    schema: &Schema,
    opts: &ReadOptions,
) -> (RecordBatch, Arc<ReadStats>) {
    let out_schema = output_schema(schema, opts.columns.as_deref()).unwrap();
    let (s, stats) = read_files_with_stats(store, files, schema, opts)
        .await
        .unwrap();
    let got: Vec<RecordBatch> = s.try_collect().await.unwrap();
    for b in &got {
        assert_eq!(b.schema(), out_schema, "every batch has the output schema");
    }
    (concat_batches(&out_schema, &got).unwrap(), stats)
}

pub(super) fn assert_batches_equal(got: &RecordBatch, want: &RecordBatch) {
    assert_eq!(got.schema(), want.schema());
    assert_eq!(got.num_rows(), want.num_rows());
    for (i, f) in want.schema().fields().iter().enumerate() {
        assert_eq!(
            got.column(i).as_ref(),
            want.column(i).as_ref(),
            "column {}",
            f.name()
        );
    }
}

pub(super) fn numbers(start: i64, n: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, false),
        Field::new("s", DataType::Utf8, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let ns: Vec<i64> = (start..start + n as i64).collect();
    // Pseudo-random text and floats, so files do not compress to nothing.
    let hash = |v: i64| (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ns.clone())),
            Arc::new(StringArray::from_iter_values(
                ns.iter().map(|v| format!("{:x}", hash(*v))),
            )),
            Arc::new(Float64Array::from_iter_values(
                ns.iter().map(|v| hash(*v) as f64 / 7.0),
            )),
        ],
    )
    .unwrap()
}

/// The server runs reads and writes on a multi-threaded runtime.
#[test]
fn write_and_read_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let store = memory();
    let schema = Schema::new(vec![Field::new("a", DataType::Int64, true)]);
    let (prefix, wopts) = (Path::from("x"), WriteOptions::default());
    let fut = write_files(
        &store,
        &prefix,
        Arc::new(schema.clone()),
        batches_stream(Vec::new()),
        &wopts,
    );
    is_send(&fut);
    let opts = ReadOptions::default();
    let read = read_files(&store, &[], &schema, &opts);
    is_send(&read);
}
