//! File layout: rolling, create-only uploads, empty inputs, schema conformance, bad files, schema evolution.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::compute::concat_batches;
use arrow_array::types::{Int8Type, Int32Type};
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use super::every_type::all_types_schema;
use super::*;
use crate::Code;
use crate::data::Scalar;

#[tokio::test]
async fn files_roll_at_the_target_size_and_rows_stay_in_order() {
    let store = memory();
    let target = 256 * 1024;
    let batches: Vec<RecordBatch> = (0..10).map(|i| numbers(i * 30_000, 30_000)).collect();
    let opts = WriteOptions {
        target_file_size: target,
        ..WriteOptions::default()
    };
    let files = write(&store, "p", &batches, &opts).await.unwrap();
    assert!(files.len() >= 4, "{} files", files.len());
    for (i, f) in files.iter().enumerate() {
        assert_eq!(f.path, format!("p/part-{i:05}.parquet"));
        let head = store.head(&Path::from(f.path.as_str())).await.unwrap();
        assert_eq!(head.size, f.size);
        if i + 1 < files.len() {
            // The open row group's size is an estimate that counts its last
            // page uncompressed, so at a target this small (a few pages) a
            // file can close at about half of it; never far above it.
            let ratio = f.size as f64 / target as f64;
            let sizes: Vec<u64> = files.iter().map(|f| f.size).collect();
            assert!(
                (0.45..1.3).contains(&ratio),
                "file {i} is {} bytes: {sizes:?}",
                f.size
            );
        }
    }
    let schema = batches[0].schema();
    let (got, _) = read_all(&store, &files, &schema, &ReadOptions::default()).await;
    assert_batches_equal(&got, &concat_batches(&schema, &batches).unwrap());
}

#[tokio::test]
async fn writes_are_create_only() {
    let (_dir, local) = local();
    for store in [memory(), local] {
        let first = write(&store, "b/1", &[numbers(0, 100)], &WriteOptions::default())
            .await
            .unwrap();
        let path = Path::from(first[0].path.as_str());
        let before = store.get(&path).await.unwrap().bytes().await.unwrap();
        let e = write(
            &store,
            "b/1",
            &[numbers(1000, 50)],
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "conflict", "{e}");
        assert!(e.to_string().contains("already exists"), "{e}");
        let after = store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(before, after, "the first file is untouched");
    }
}

#[tokio::test]
async fn an_empty_input_writes_one_empty_file_with_the_schema() {
    let store = memory();
    let schema = all_types_schema();
    let files = write_files(
        &store,
        &Path::from("e"),
        schema.clone(),
        batches_stream(Vec::new()),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rows, 0);
    let info = inspect_file(&store, &Path::from(files[0].path.as_str()))
        .await
        .unwrap();
    assert_eq!(info.rows, 0);
    assert_eq!(info.schema, *schema);
    let (got, _) = read_all(&store, &files, &schema, &ReadOptions::default()).await;
    assert_eq!(got.num_rows(), 0);
}

#[tokio::test]
async fn batches_are_conformed_to_the_schema() {
    let store = memory();
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, true),
        ],
        HashMap::from([("pandas".to_owned(), "{}".to_owned())]),
    ));
    // Columns in another order, `k` as a dictionary, no metadata.
    let dict: DictionaryArray<Int8Type> = vec!["a", "b", "a"].into_iter().collect();
    let batch = RecordBatch::try_from_iter(vec![
        ("v", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        ("k", Arc::new(dict) as ArrayRef),
    ])
    .unwrap();
    let files = write_files(
        &store,
        &Path::from("c"),
        schema.clone(),
        batches_stream(vec![batch]),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let info = inspect_file(&store, &Path::from(files[0].path.as_str()))
        .await
        .unwrap();
    assert_eq!(info.schema, *schema);

    let extra = RecordBatch::try_from_iter(vec![
        ("k", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("v", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
        ("w", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
    ])
    .unwrap();
    let wrong = RecordBatch::try_from_iter(vec![
        ("k", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("v", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ])
    .unwrap();
    for bad in [extra, wrong] {
        let e = write_files(
            &store,
            &Path::from("d"),
            schema.clone(),
            batches_stream(vec![bad]),
            &WriteOptions::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "schema_mismatch", "{e}");
    }
}

#[tokio::test]
async fn files_that_are_not_parquet_are_invalid() {
    let store = memory();
    let files = write(&store, "ok", &[numbers(0, 1000)], &WriteOptions::default())
        .await
        .unwrap();
    let good = store
        .get(&Path::from(files[0].path.as_str()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let cases: Vec<(&str, bytes::Bytes)> = vec![
        (
            "bad/text.parquet",
            bytes::Bytes::from_static(b"name,value\na,1\n"),
        ),
        ("bad/tiny.parquet", bytes::Bytes::from_static(b"PA")),
        ("bad/truncated.parquet", good.slice(..good.len() - 10)),
        ("bad/headless.parquet", good.slice(good.len() / 2..)),
    ];
    for (path, bytes) in cases {
        let path = Path::from(path);
        store.put(&path, PutPayload::from(bytes)).await.unwrap();
        let e = inspect_file(&store, &path).await.unwrap_err();
        assert_eq!(e.code(), "invalid_data_file", "{path}: {e}");
    }
    let e = inspect_file(&store, &Path::from("bad/missing.parquet"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "storage_error");
}

#[tokio::test]
async fn files_missing_a_column_read_it_as_nulls() {
    let store = memory();
    let old = RecordBatch::try_from_iter(vec![(
        "a",
        Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
    )])
    .unwrap();
    let dict: DictionaryArray<Int32Type> = vec!["x", "y"].into_iter().collect();
    let new = RecordBatch::try_from_iter(vec![
        ("a", Arc::new(Int64Array::from(vec![4, 5])) as ArrayRef),
        ("b", Arc::new(dict) as ArrayRef),
    ])
    .unwrap();
    let mut files = write(&store, "m/1", &[old], &WriteOptions::default())
        .await
        .unwrap();
    files.extend(
        write(&store, "m/2", &[new], &WriteOptions::default())
            .await
            .unwrap(),
    );
    // The merged table schema: `b` added as nullable plain Utf8.
    let table = Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    let (got, _) = read_all(&store, &files, &table, &ReadOptions::default()).await;
    let want = RecordBatch::try_new(
        Arc::new(table.clone()),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(StringArray::from(vec![
                None,
                None,
                None,
                Some("x"),
                Some("y"),
            ])),
        ],
    )
    .unwrap();
    assert_batches_equal(&got, &want);

    let only = |f: Filter| ReadOptions {
        filters: vec![f],
        ..ReadOptions::default()
    };
    let (got, stats) = read_all(
        &store,
        &files,
        &table,
        &only(Filter::new("b", FilterOp::Eq, "y")),
    )
    .await;
    assert_batches_equal(&got, &want.slice(4, 1));
    assert_eq!(stats.files_skipped(), 1, "the old file cannot hold b = y");
    let (got, stats) = read_all(
        &store,
        &files,
        &table,
        &only(Filter::new("b", FilterOp::IsNull, Scalar::Null)),
    )
    .await;
    assert_batches_equal(&got, &want.slice(0, 3));
    assert_eq!(stats.files_skipped(), 0);
}

/// A file large enough to be decoded by several tasks, each on a share of
/// the columns, reads back exactly, in order, with projections and filters,
/// including row groups and batch sizes that do not line up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_decode_in_parallel_and_read_back_exactly() {
    let store = memory();
    let batches: Vec<RecordBatch> = (0..4).map(|i| numbers(i * 50_000, 50_000)).collect();
    let opts = WriteOptions {
        max_row_group_rows: 70_000,
        ..WriteOptions::default()
    };
    let files = write(&store, "big", &batches, &opts).await.unwrap();
    assert!(
        files[0].size > 2 << 20,
        "{} bytes: too small to split",
        files[0].size
    );
    let schema = batches[0].schema();
    let all = concat_batches(&schema, &batches).unwrap();
    let read = ReadOptions {
        batch_size: 3_000,
        ..ReadOptions::default()
    };
    let (got, stats) = read_all(&store, &files, &schema, &read).await;
    assert_batches_equal(&got, &all);
    assert_eq!(stats.rows_returned(), 200_000);

    let read = ReadOptions {
        columns: Some(vec!["x".into(), "n".into()]),
        filters: vec![crate::data::Filter::new(
            "n",
            crate::data::FilterOp::GtEq,
            150_000i64,
        )],
        batch_size: 7_777,
    };
    let (got, _) = read_all(&store, &files, &schema, &read).await;
    let want = all.slice(150_000, 50_000).project(&[2, 0]).unwrap();
    assert_batches_equal(&got, &want);
}

/// Every file and directory entry under `dir`, hidden ones included.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn streamed_files_of_many_row_groups_and_parts_round_trip() {
    // The local warehouse streams each file in parts as its row groups are
    // finished; small row groups and parts make many of both.
    let (dir, store) = local();
    assert!(crate::storage::multipart_is_create_only(store.as_ref()));
    assert!(!crate::storage::multipart_is_create_only(memory().as_ref()));
    let batches: Vec<RecordBatch> = (0..8).map(|i| numbers(i * 25_000, 25_000)).collect();
    let opts = WriteOptions {
        max_row_group_rows: 7_000,
        ..WriteOptions::default()
    };
    let files = write(&store, "t/p=1/b", &batches, &opts).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rows, 200_000);
    let path = Path::from(files[0].path.as_str());
    let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, files[0].size);
    assert!(
        files[0].size > 4 * super::super::write::PART_SIZE as u64,
        "{} bytes make several parts",
        files[0].size
    );
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&bytes)
        .unwrap();
    let groups: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
    assert_eq!(groups.len(), 29, "{groups:?}");
    assert!(groups.iter().all(|&n| n <= 7_000), "{groups:?}");
    let schema = batches[0].schema();
    let (got, _) = read_all(&store, &files, &schema, &ReadOptions::default()).await;
    assert_batches_equal(&got, &concat_batches(&schema, &batches).unwrap());
    // Nothing but the file itself: no staging files left.
    assert_eq!(entries(dir.path()), ["t/p=1/b/part-00000.parquet"]);
}

#[tokio::test]
async fn a_failed_write_leaves_no_object_behind() {
    for streamed in [true, false] {
        let (dir, local) = local();
        let store = if streamed { local } else { memory() };
        // Enough rows for several parts and row groups before the failure.
        let mut input: Vec<crate::Result<RecordBatch>> =
            (0..4).map(|i| Ok(numbers(i * 25_000, 25_000))).collect();
        input.push(Err(crate::Error::invalid(
            Code::ClientStream,
            "the source failed",
        )));
        input.push(Ok(numbers(100_000, 10)));
        let opts = WriteOptions {
            max_row_group_rows: 7_000,
            ..WriteOptions::default()
        };
        let e = write_files(
            &store,
            &Path::from("t/p=1/b"),
            numbers(0, 1).schema(),
            futures::stream::iter(input),
            &opts,
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "client_stream", "{e}");
        let listed: Vec<_> = futures::StreamExt::collect::<Vec<_>>(store.list(None)).await;
        assert!(listed.is_empty(), "{listed:?}");
        assert_eq!(
            entries(dir.path()),
            Vec::<String>::new(),
            "streamed={streamed}"
        );
    }
}

#[tokio::test]
async fn a_streamed_file_that_exists_already_is_a_conflict_and_stays() {
    let (dir, store) = local();
    let big: Vec<RecordBatch> = (0..4).map(|i| numbers(i * 25_000, 25_000)).collect();
    let first = write(&store, "b/1", &[numbers(0, 100)], &WriteOptions::default())
        .await
        .unwrap();
    let path = Path::from(first[0].path.as_str());
    let before = store.get(&path).await.unwrap().bytes().await.unwrap();
    let e = write(&store, "b/1", &big, &WriteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "conflict", "{e}");
    let after = store.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(before, after, "the first file is untouched");
    assert_eq!(entries(dir.path()), ["b/1/part-00000.parquet"]);
}
