//! Every common Arrow type, with pandas / polars metadata, through Parquet and back.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::compute::concat_batches;
use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray,
    RecordBatch, StringArray, StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use object_store::path::Path;

use super::*;

pub(super) const PANDAS: &str = r#"{"index_columns": [{"kind": "range", "name": null, "start": 0, "stop": 1000000, "step": 1}], "column_indexes": [{"name": null, "field_name": null, "pandas_type": "unicode", "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}], "columns": [{"name": "i64", "field_name": "i64", "pandas_type": "int64", "numpy_type": "Int64", "metadata": null}, {"name": "ts_utc", "field_name": "ts_utc", "pandas_type": "datetimetz", "numpy_type": "datetime64[ns]", "metadata": {"timezone": "UTC"}}, {"name": "cat", "field_name": "cat", "pandas_type": "categorical", "numpy_type": "int32", "metadata": {"num_categories": 5, "ordered": false}}], "creator": {"library": "pyarrow", "version": "17.0.0"}, "pandas_version": "2.2.2"}"#;

pub(super) fn all_types_schema() -> SchemaRef {
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
pub(super) fn all_types_batch(schema: &SchemaRef, start: usize, n: usize) -> RecordBatch {
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
    let list_valid = valid(19);
    for (k, i) in rows.clone().enumerate() {
        if list_valid[k] {
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
