//! Filters: exact results, row-group pruning, partition pruning, parsing.

use std::sync::Arc;

use arrow::compute::filter_record_batch;
use arrow::compute::kernels::{boolean, cmp};
use arrow_array::builder::{Int64Builder, ListBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    BooleanArray, Date32Array, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::*;
use crate::data::Scalar;

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
