//! Write → read round trips over in-memory and local-file stores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use arrow::compute::kernels::{boolean, cmp};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::types::{Int8Type, Int32Type};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    RecordBatch, StringArray, StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use futures::{TryStreamExt, stream};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::*;
use crate::model::DataFile;

fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

fn local() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    (dir, Arc::new(store))
}

fn batches_stream(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = crate::Result<RecordBatch>> + Unpin + Send {
    stream::iter(batches.into_iter().map(Ok))
}

async fn write(
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

async fn read_all(
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

fn assert_batches_equal(got: &RecordBatch, want: &RecordBatch) {
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

const PANDAS: &str = r#"{"index_columns": [{"kind": "range", "name": null, "start": 0, "stop": 1000000, "step": 1}], "column_indexes": [{"name": null, "field_name": null, "pandas_type": "unicode", "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}], "columns": [{"name": "i64", "field_name": "i64", "pandas_type": "int64", "numpy_type": "Int64", "metadata": null}, {"name": "ts_utc", "field_name": "ts_utc", "pandas_type": "datetimetz", "numpy_type": "datetime64[ns]", "metadata": {"timezone": "UTC"}}, {"name": "cat", "field_name": "cat", "pandas_type": "categorical", "numpy_type": "int32", "metadata": {"num_categories": 5, "ordered": false}}], "creator": {"library": "pyarrow", "version": "17.0.0"}, "pandas_version": "2.2.2"}"#;

fn all_types_schema() -> SchemaRef {
    let f = |n: &str, t: DataType| Field::new(n, t, true);
    let fields = vec![
        f("i8", DataType::Int8),
        f("i16", DataType::Int16),
        f("i32", DataType::Int32),
        f("i64", DataType::Int64),
        f("u8", DataType::UInt8),
        f("u16", DataType::UInt16),
        f("u32", DataType::UInt32),
        f("u64", DataType::UInt64),
        f("f32", DataType::Float32),
        f("f64", DataType::Float64),
        f("bool", DataType::Boolean),
        f("utf8", DataType::Utf8),
        f("large_utf8", DataType::LargeUtf8),
        f("binary", DataType::Binary),
        f("date", DataType::Date32),
        f("ts_us", DataType::Timestamp(TimeUnit::Microsecond, None)),
        f(
            "ts_utc",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ),
        f(
            "ts_paris",
            DataType::Timestamp(TimeUnit::Millisecond, Some("Europe/Paris".into())),
        ),
        f("dec", DataType::Decimal128(38, 9)),
        f(
            "list",
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
        ),
        f("struct", DataType::Struct(struct_fields())),
        f(
            "cat",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        )
        .with_metadata(HashMap::from([(
            "POLARS.CATEGORICAL".to_owned(),
            "lexical".to_owned(),
        )])),
    ];
    Arc::new(Schema::new_with_metadata(
        fields,
        HashMap::from([
            ("pandas".to_owned(), PANDAS.to_owned()),
            (
                "polars.flags".to_owned(),
                r#"{"sorted":{"i64":"ascending"}}"#.to_owned(),
            ),
        ]),
    ))
}

fn struct_fields() -> Fields {
    Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, true),
    ])
}

/// Rows `start..start + n` of a table with every common type; column `c`
/// is null where `(row + c) % 11 == 0`.
fn all_types_batch(schema: &SchemaRef, start: usize, n: usize) -> RecordBatch {
    let rows = start..start + n;
    let valid =
        |c: usize| -> Vec<bool> { rows.clone().map(|i| !(i + c).is_multiple_of(11)).collect() };
    macro_rules! col {
        ($c:expr, $arr:ty, $f:expr) => {
            Arc::new(
                rows.clone()
                    .map(|i| ((i + $c) % 11 != 0).then(|| $f(i)))
                    .collect::<$arr>(),
            ) as ArrayRef
        };
    }
    let text: Vec<String> = rows.clone().map(|i| format!("value {i}")).collect();
    let t = |i: usize| text[i - start].as_str();
    let mut list = ListBuilder::new(Int64Builder::new());
    for (k, i) in rows.clone().enumerate() {
        if valid(19)[k] {
            for j in 0..(i % 4) as i64 {
                list.values().append_value(i as i64 * 10 + j);
            }
            list.append(true);
        } else {
            list.append_null();
        }
    }
    let struct_valid = valid(20);
    let a: Int32Array = rows
        .clone()
        .enumerate()
        .map(|(k, i)| struct_valid[k].then_some(i as i32))
        .collect();
    let b: StringArray = rows
        .clone()
        .enumerate()
        .map(|(k, i)| (struct_valid[k] && i % 3 != 0).then(|| t(i)))
        .collect();
    let strukt = StructArray::new(
        struct_fields(),
        vec![Arc::new(a), Arc::new(b)],
        Some(struct_valid.into()),
    );
    let cats = ["red", "green", "blue", "cyan", "magenta"];
    let columns: Vec<ArrayRef> = vec![
        col!(0, Int8Array, |i: usize| (i % 256) as u8 as i8),
        col!(1, Int16Array, |i: usize| (i % 65536) as u16 as i16),
        col!(2, Int32Array, |i: usize| i as i32 - 500_000),
        col!(3, Int64Array, |i: usize| i as i64 * 1_000_003),
        col!(4, UInt8Array, |i: usize| (i % 256) as u8),
        col!(5, UInt16Array, |i: usize| (i % 65536) as u16),
        col!(6, UInt32Array, |i: usize| i as u32 * 4001),
        col!(7, UInt64Array, |i: usize| u64::MAX - i as u64),
        col!(8, Float32Array, |i: usize| i as f32 / 3.0),
        col!(9, Float64Array, |i: usize| i as f64 * -1.5e10),
        col!(10, BooleanArray, |i: usize| i.is_multiple_of(3)),
        col!(11, StringArray, t),
        col!(12, LargeStringArray, t),
        col!(13, BinaryArray, |i: usize| t(i).as_bytes()),
        col!(14, Date32Array, |i: usize| (i % 40_000) as i32 - 10_000),
        col!(15, TimestampMicrosecondArray, |i: usize| i as i64
            * 1_000_001),
        Arc::new(
            rows.clone()
                .map(|i| ((i + 16) % 11 != 0).then_some(1_600_000_000_000_000_000 + i as i64 * 999))
                .collect::<TimestampNanosecondArray>()
                .with_timezone("UTC"),
        ),
        Arc::new(
            rows.clone()
                .map(|i| ((i + 17) % 11 != 0).then_some(1_600_000_000_000 + i as i64))
                .collect::<TimestampMillisecondArray>()
                .with_timezone("Europe/Paris"),
        ),
        Arc::new(
            rows.clone()
                .map(|i| ((i + 18) % 11 != 0).then_some(i as i128 * 123_456_789_012_345 - 7))
                .collect::<Decimal128Array>()
                .with_precision_and_scale(38, 9)
                .unwrap(),
        ),
        Arc::new(list.finish()),
        Arc::new(strukt),
        Arc::new(
            rows.clone()
                .map(|i| ((i + 21) % 11 != 0).then_some(cats[i % cats.len()]))
                .collect::<DictionaryArray<Int32Type>>(),
        ),
    ];
    RecordBatch::try_new(schema.clone(), columns).unwrap()
}

#[tokio::test]
async fn a_million_rows_of_every_type_round_trip_with_metadata() {
    let (_dir, store) = local();
    let schema = all_types_schema();
    let total = 1_000_000;
    let step = 100_000;
    let batches: Vec<RecordBatch> = (0..total)
        .step_by(step)
        .map(|s| all_types_batch(&schema, s, step))
        .collect();
    let opts = WriteOptions {
        target_file_size: 16 * 1024 * 1024,
        ..WriteOptions::default()
    };
    let files = write(&store, "ns/t/20240101000000000000", &batches, &opts)
        .await
        .unwrap();
    assert!(files.len() > 1, "{files:?}");
    assert_eq!(files.iter().map(|f| f.rows).sum::<u64>(), total as u64);
    assert_eq!(
        files[0].path,
        "ns/t/20240101000000000000/part-00000.parquet"
    );
    assert_eq!(
        files[1].path,
        "ns/t/20240101000000000000/part-00001.parquet"
    );

    let info = inspect_file(&store, &Path::from(files[0].path.as_str()))
        .await
        .unwrap();
    assert_eq!(info.size, files[0].size);
    assert_eq!(info.rows, files[0].rows);
    assert_eq!(info.schema, *schema, "the footer keeps types and metadata");

    let (got, stats) = read_all(&store, &files, &info.schema, &ReadOptions::default()).await;
    let want = concat_batches(&schema, &batches).unwrap();
    assert_batches_equal(&got, &want);
    assert_eq!(got.schema().metadata()["pandas"], PANDAS);
    assert_eq!(stats.rows_returned(), total as u64);
    assert_eq!(stats.files(), files.len() as u64);
}

fn numbers(start: i64, n: usize) -> RecordBatch {
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
            let ratio = f.size as f64 / target as f64;
            assert!((0.7..1.3).contains(&ratio), "file {i} is {} bytes", f.size);
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
async fn projection_returns_only_the_asked_columns_in_order() {
    let store = memory();
    let schema = all_types_schema();
    let batch = all_types_batch(&schema, 0, 5000);
    let files = write(
        &store,
        "proj",
        std::slice::from_ref(&batch),
        &WriteOptions::default(),
    )
    .await
    .unwrap();
    let opts = ReadOptions {
        columns: Some(vec!["cat".into(), "i8".into(), "struct".into()]),
        ..ReadOptions::default()
    };
    let (got, _) = read_all(&store, &files, &schema, &opts).await;
    let names: Vec<&str> = got
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["cat", "i8", "struct"]);
    assert_eq!(got.schema().metadata()["pandas"], PANDAS);
    let want = batch.project(&[21, 0, 20]).unwrap();
    assert_batches_equal(&got, &want);

    let none = ReadOptions {
        columns: Some(Vec::new()),
        ..ReadOptions::default()
    };
    let (got, _) = read_all(&store, &files, &schema, &none).await;
    assert_eq!((got.num_columns(), got.num_rows()), (0, 5000));

    for bad in [vec!["i8", "nope"], vec!["i8", "i8"]] {
        let opts = ReadOptions {
            columns: Some(bad.into_iter().map(String::from).collect()),
            ..ReadOptions::default()
        };
        let e = read_files(&store, &files, &schema, &opts)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(e.code(), "unknown_column" | "invalid_columns"),
            "{e}"
        );
        if e.code() == "unknown_column" {
            assert!(e.to_string().contains("the table has i8, i16, i32"), "{e}");
        }
    }
}

/// 100,000 rows in 10 row groups of 10,000, `n` ascending.
fn filter_table() -> RecordBatch {
    let n = 100_000usize;
    let f = |name: &str, t: DataType| Field::new(name, t, true);
    let schema = Arc::new(Schema::new(vec![
        f("n", DataType::Int64),
        f("s", DataType::Utf8),
        f("x", DataType::Float64),
        f("d", DataType::Date32),
        f(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ),
        f(
            "cat",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        ),
        f("sparse", DataType::Int32),
        f(
            "l",
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
        ),
    ]));
    let x = (0..n).map(|i| match i {
        _ if i % 13 == 0 => None,
        _ if i % 997 == 0 => Some(f64::NAN),
        _ => Some((i % 1000) as f64 / 10.0 - 50.0),
    });
    let mut l = ListBuilder::new(Int64Builder::new());
    for i in 0..n {
        l.values().append_value(i as i64);
        l.append(true);
    }
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i % 17 != 0).then(|| format!("s{}", i % 10))),
            )),
            Arc::new(x.collect::<Float64Array>()),
            Arc::new(Date32Array::from_iter_values(
                (0..n).map(|i| 18_000 + (i / 100) as i32),
            )),
            Arc::new(
                TimestampNanosecondArray::from_iter_values(
                    (0..n).map(|i| 1_577_836_800_000_000_000 + i as i64 * 1_000_000_000),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(
                (0..n)
                    .map(|i| ["a", "b", "c", "d"][i % 4])
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
            // Values only in the first 20,000 rows, nulls after.
            Arc::new(Int32Array::from_iter(
                (0..n).map(|i| (i < 20_000).then_some(i as i32)),
            )),
            Arc::new(l.finish()),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn filters_match_arrow_compute_and_prune_row_groups() {
    let store = memory();
    let table = filter_table();
    let schema = table.schema();
    let opts = WriteOptions {
        max_row_group_rows: 10_000,
        ..WriteOptions::default()
    };
    let files = write(&store, "f", std::slice::from_ref(&table), &opts)
        .await
        .unwrap();
    let col = |name: &str| table.column_by_name(name).unwrap().clone();
    let i64s = |v: i64| Int64Array::new_scalar(v);
    let utf8 = |v: &str| StringArray::new_scalar(v);
    let n = col("n");
    let cat = arrow_cast::cast(&col("cat"), &DataType::Utf8).unwrap();
    let ts =
        TimestampNanosecondArray::from(vec![1_577_836_800_000_000_000 + 99_990 * 1_000_000_000])
            .with_timezone("UTC");
    let not = |m: BooleanArray| boolean::not(&m).unwrap();
    let or = |a: BooleanArray, b: BooleanArray| boolean::or(&a, &b).unwrap();

    // (filter, expected mask from arrow kernels, row groups read out of 10)
    let cases: Vec<(Filter, BooleanArray, u64)> = vec![
        (
            Filter::new("n", FilterOp::Eq, 55_555i64),
            cmp::eq(&n, &i64s(55_555)).unwrap(),
            1,
        ),
        (
            Filter::new("s", FilterOp::NotEq, "s7"),
            cmp::neq(&col("s"), &utf8("s7")).unwrap(),
            10,
        ),
        (
            Filter::new("n", FilterOp::Lt, 15_000i64),
            cmp::lt(&n, &i64s(15_000)).unwrap(),
            2,
        ),
        (
            Filter::new("n", FilterOp::Lt, 1.5),
            cmp::lt(&n, &i64s(2)).unwrap(),
            1,
        ),
        (
            Filter::new("d", FilterOp::LtEq, "2019-04-14"),
            cmp::lt_eq(&col("d"), &Date32Array::new_scalar(18_000)).unwrap(),
            1,
        ),
        (
            Filter::new("ts", FilterOp::Gt, "2020-01-02T03:46:30Z"),
            cmp::gt(&col("ts"), &arrow_array::Scalar::new(ts)).unwrap(),
            1,
        ),
        (
            Filter::new("n", FilterOp::GtEq, 95_000i64),
            cmp::gt_eq(&n, &i64s(95_000)).unwrap(),
            1,
        ),
        (
            Filter::new("x", FilterOp::Lt, -49.5),
            cmp::lt(&col("x"), &Float64Array::new_scalar(-49.5)).unwrap(),
            10,
        ),
        (
            Filter::new("x", FilterOp::Gt, 49.0),
            cmp::gt(&col("x"), &Float64Array::new_scalar(49.0)).unwrap(),
            10,
        ),
        (
            Filter::new("cat", FilterOp::In, vec!["b", "c"]),
            or(
                cmp::eq(&cat, &utf8("b")).unwrap(),
                cmp::eq(&cat, &utf8("c")).unwrap(),
            ),
            10,
        ),
        (
            Filter::new("n", FilterOp::In, vec![5i64, 95_001]),
            or(
                cmp::eq(&n, &i64s(5)).unwrap(),
                cmp::eq(&n, &i64s(95_001)).unwrap(),
            ),
            2,
        ),
        (
            Filter::new("n", FilterOp::NotIn, vec![1i64, 2, 3]),
            not(or(
                or(
                    cmp::eq(&n, &i64s(1)).unwrap(),
                    cmp::eq(&n, &i64s(2)).unwrap(),
                ),
                cmp::eq(&n, &i64s(3)).unwrap(),
            )),
            10,
        ),
        (
            Filter::new("sparse", FilterOp::IsNull, Scalar::Null),
            arrow::compute::is_null(&col("sparse")).unwrap(),
            8,
        ),
        (
            Filter::new("sparse", FilterOp::IsNotNull, Scalar::Null),
            arrow::compute::is_not_null(&col("sparse")).unwrap(),
            2,
        ),
        (
            Filter::new("sparse", FilterOp::GtEq, 0i64),
            cmp::gt_eq(&col("sparse"), &Int32Array::new_scalar(0)).unwrap(),
            2,
        ),
        (
            Filter::new("l", FilterOp::IsNotNull, Scalar::Null),
            arrow::compute::is_not_null(&col("l")).unwrap(),
            10,
        ),
    ];
    for (filter, mask, groups) in cases {
        let opts = ReadOptions {
            filters: vec![filter.clone()],
            batch_size: 4096,
            ..ReadOptions::default()
        };
        let (got, stats) = read_all(&store, &files, &schema, &opts).await;
        let want = filter_record_batch(&table, &mask).unwrap();
        assert!(want.num_rows() > 0, "{filter} keeps some rows");
        assert_batches_equal(&got, &want);
        assert_eq!(stats.row_groups(), 10);
        assert_eq!(
            stats.row_groups_read(),
            groups,
            "row groups read for {filter}"
        );
    }

    // Filters combine with AND and may name columns that are not returned.
    let opts = ReadOptions {
        columns: Some(vec!["s".into()]),
        filters: vec![
            Filter::new("n", FilterOp::GtEq, 10_000i64),
            Filter::new("n", FilterOp::Lt, 10_100i64),
        ],
        ..ReadOptions::default()
    };
    let (got, stats) = read_all(&store, &files, &schema, &opts).await;
    assert_eq!(got.num_columns(), 1);
    assert_batches_equal(&got, &table.project(&[1]).unwrap().slice(10_000, 100));
    assert_eq!(stats.row_groups_read(), 1);
}

#[tokio::test]
async fn bad_filters_are_refused_before_reading() {
    let store = memory();
    let table = filter_table();
    let schema = table.schema();
    let cases = [
        Filter::new("n", FilterOp::Eq, Scalar::Null),
        Filter::new("n", FilterOp::Eq, "ten"),
        Filter::new("n", FilterOp::Eq, vec![1i64, 2]),
        Filter::new("d", FilterOp::Gt, "31/10/2016"),
        Filter::new("l", FilterOp::Eq, 1i64),
        Filter::new("nope", FilterOp::Eq, 1i64),
    ];
    for f in cases {
        let opts = ReadOptions {
            filters: vec![f.clone()],
            ..ReadOptions::default()
        };
        let e = read_files(&store, &[], &schema, &opts).await.err().unwrap();
        assert!(
            matches!(e.code(), "invalid_filter" | "unknown_column"),
            "{f}: {e}"
        );
        assert_eq!(check_filters(&[f], &schema).unwrap_err().code(), e.code());
    }
    let e = read_files(
        &store,
        &[],
        &schema,
        &ReadOptions {
            filters: vec![Filter::new("d", FilterOp::Gt, "31/10/2016")],
            ..ReadOptions::default()
        },
    )
    .await
    .err()
    .unwrap();
    assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
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

#[test]
fn partition_filters_decide_by_the_canonical_value() {
    use crate::model::{KeyType, PartitionKey};
    let date = PartitionKey::new("date", KeyType::Date).unwrap();
    let shard = PartitionKey::new("shard", KeyType::Int).unwrap();
    let region = PartitionKey::new("region", KeyType::String).unwrap();
    let f = |c: &str, op: &str, v: Scalar| Filter::new(c, Filter::parse_op(op).unwrap(), v);
    let d = "2016-10-31";
    assert_eq!(
        matches_partition(&f("date", ">=", "2016-10-01".into()), &date, d),
        Some(true)
    );
    assert_eq!(
        matches_partition(&f("date", "<", "2016-10-31".into()), &date, d),
        Some(false)
    );
    assert_eq!(
        matches_partition(&f("date", "is null", Scalar::Null), &date, d),
        Some(false)
    );
    assert_eq!(
        matches_partition(&f("region", "=", "us".into()), &date, d),
        None
    );
    assert_eq!(
        matches_partition(&f("shard", "in", vec![1i64, 7].into()), &shard, "7"),
        Some(true)
    );
    assert_eq!(
        matches_partition(&f("shard", "not in", vec![7i64].into()), &shard, "7"),
        Some(false)
    );
    assert_eq!(
        matches_partition(&f("shard", "<", 10i64.into()), &shard, "9"),
        Some(true)
    );
    assert_eq!(
        matches_partition(&f("shard", ">", 10i64.into()), &shard, "9"),
        Some(false)
    );
    assert_eq!(
        matches_partition(&f("region", "!=", "eu".into()), &region, "us"),
        Some(true)
    );
    assert_eq!(
        matches_partition(&f("date", "=", "soon".into()), &date, d),
        None
    );
}

#[test]
fn filters_parse_and_serialize() {
    for (op, want) in [
        ("=", FilterOp::Eq),
        ("==", FilterOp::Eq),
        ("!=", FilterOp::NotEq),
        ("<", FilterOp::Lt),
        ("<=", FilterOp::LtEq),
        (">", FilterOp::Gt),
        (">=", FilterOp::GtEq),
        ("in", FilterOp::In),
        ("NOT  IN", FilterOp::NotIn),
        ("is null", FilterOp::IsNull),
        ("is not null", FilterOp::IsNotNull),
    ] {
        assert_eq!(Filter::parse_op(op).unwrap(), want, "{op}");
        assert_eq!(Filter::parse_op(want.as_str()).unwrap(), want);
    }
    assert_eq!(Filter::parse_op("~").unwrap_err().code(), "invalid_filter");

    let f: Filter =
        serde_json::from_str(r#"{"column": "n", "op": "not in", "value": [1, 2.5, "x", null]}"#)
            .unwrap();
    assert_eq!(f.op, FilterOp::NotIn);
    assert_eq!(
        f.value,
        Scalar::List(vec![
            Scalar::Int(1),
            Scalar::Float(2.5),
            Scalar::String("x".into()),
            Scalar::Null
        ])
    );
    let g: Filter = serde_json::from_str(r#"{"column": "n", "op": "is null"}"#).unwrap();
    assert_eq!(g.value, Scalar::Null);
    let json = serde_json::to_string(&Filter::new("d", FilterOp::GtEq, "2016-10-31")).unwrap();
    assert_eq!(json, r#"{"column":"d","op":">=","value":"2016-10-31"}"#);
    assert_eq!(g.to_string(), "n is null");
    assert_eq!(
        Filter::new("n", FilterOp::In, vec![1i64, 2]).to_string(),
        "n in [1, 2]"
    );
}

#[test]
fn stream_type_is_send() {
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
