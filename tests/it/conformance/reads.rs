use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::*;
use arrow_schema::{DataType, Field, Fields, Schema};
use batchmeta::data::{Filter, FilterOp, Scalar};
use batchmeta::model::{
    Action, EventQuery, KeyType, NewPin, NewTable, Order, PartitionQuery, PartitionSpec, PinName,
    PinTarget, RollbackRequest, Version,
};
use batchmeta::{ReadRequest, ResolveRequest, StoreOptions};
use chrono::Duration;
use futures::TryStreamExt;

use crate::harness::{Env, frame, stream_of, values};

pub async fn as_of_returns_the_batch_current_at_each_time(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let mut moves = Vec::new();
    for tag in ["a", "b", "c"] {
        let s = env.store(&t, "d=x", 0, 1, tag).await;
        moves.push((s.commit.events[0].at, s.batch.id.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let rb = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &PartitionSpec::parse("d=x").unwrap(),
            &RollbackRequest::default(),
        )
        .await
        .unwrap();
    moves.push((rb.at, rb.to_batch.clone().unwrap()));
    let p = Some(vec![PartitionSpec::parse("d=x").unwrap()]);
    for (i, (at, batch)) in moves.iter().enumerate() {
        for probe in [*at, *at + Duration::microseconds(1)] {
            let r = env
                .ms
                .resolve(
                    &t,
                    &ResolveRequest {
                        partitions: p.clone(),
                        version: Version::AsOf(probe),
                    },
                )
                .await
                .unwrap();
            assert_eq!(&r[0].batch.id, batch, "as of move {i}");
        }
        if i > 0 {
            let r = env
                .ms
                .resolve(
                    &t,
                    &ResolveRequest {
                        partitions: p.clone(),
                        version: Version::AsOf(*at - Duration::microseconds(1)),
                    },
                )
                .await
                .unwrap();
            assert_eq!(r[0].batch.id, moves[i - 1].1, "just before move {i}");
        }
    }
    let e = env
        .ms
        .resolve(
            &t,
            &ResolveRequest {
                partitions: p.clone(),
                version: Version::AsOf(moves[0].0 - Duration::seconds(1)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "partition_not_found");
    // Without partitions: every partition that existed then.
    env.store(&t, "d=y", 0, 1, "y").await;
    let all = env
        .ms
        .resolve(
            &t,
            &ResolveRequest {
                partitions: None,
                version: Version::AsOf(moves[1].0),
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].batch.id, moves[1].1);
    assert_eq!(
        env.ms
            .resolve(&t, &ResolveRequest::default())
            .await
            .unwrap()
            .len(),
        2
    );
    // Data read as of a time is that batch's data.
    assert_eq!(
        values(&env.load_version(&t, "d=x", Version::AsOf(moves[0].0)).await),
        vec!["a-0"]
    );
}

pub async fn pins_hold_batches_and_answer_who_depends(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let b1 = env.store(&t, "d=x", 0, 1, "a").await;
    let at = b1.commit.events[0].at;
    let b2 = env.store(&t, "d=x", 0, 1, "b").await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let pv = env.ms.partition(&t, &p).await.unwrap();
    let report = PinName::new("weekly_report").unwrap();
    let pin = env
        .ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: report.clone(),
                owner: Some("ann".into()),
                reason: Some("quarter close".into()),
                target: PinTarget::Batch {
                    partition: pv.clone(),
                    batch: b1.batch.id.clone(),
                },
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(pin.owner.as_deref(), Some("ann"));
    let audit = PinName::new("audit").unwrap();
    env.ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: audit.clone(),
                owner: None,
                reason: None,
                target: PinTarget::AsOf { at },
                expires_at: Some(chrono::Utc::now() + Duration::days(1)),
            },
        )
        .await
        .unwrap();
    let dup = env
        .ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: report.clone(),
                owner: None,
                reason: None,
                target: PinTarget::AsOf { at },
                expires_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(dup.code(), "pin_exists");
    // Resolve by pin.
    for name in [&report, &audit] {
        let r = env
            .ms
            .resolve(
                &t,
                &ResolveRequest {
                    partitions: Some(vec![p.clone()]),
                    version: Version::Pin(name.clone()),
                },
            )
            .await
            .unwrap();
        assert_eq!(r[0].batch.id, b1.batch.id, "{name}");
    }
    assert_eq!(
        values(
            &env.load_version(&t, "d=x", Version::Pin(report.clone()))
                .await
        ),
        vec!["a-0"]
    );
    // Who depends on b1? Both pins. On b2? Nobody.
    let holders: Vec<String> = env
        .ms
        .pins_holding(&t, &b1.batch.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(holders, vec!["audit", "weekly_report"]);
    assert!(
        env.ms
            .pins_holding(&t, &b2.batch.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(env.ms.pins(Some(&t)).await.unwrap().len(), 2);
    env.ms.delete_pin(&env.ctx, &t, &report).await.unwrap();
    assert_eq!(
        env.ms
            .delete_pin(&env.ctx, &t, &report)
            .await
            .unwrap_err()
            .code(),
        "pin_not_found"
    );
    assert_eq!(env.ms.pins(None).await.unwrap().len(), 1);
    let kinds: Vec<Action> = env
        .ms
        .events(&EventQuery {
            table: Some(t.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.action)
        .take(3)
        .collect();
    assert_eq!(
        kinds,
        vec![Action::DeletePin, Action::CreatePin, Action::CreatePin]
    );
    // Pins refuse unpublished targets and past expiries.
    let staged = env
        .ms
        .stage(&env.ctx, &t, std::slice::from_ref(&p), &Default::default())
        .await
        .unwrap();
    let e = env
        .ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: PinName::new("x").unwrap(),
                owner: None,
                reason: None,
                target: PinTarget::Batch {
                    partition: pv.clone(),
                    batch: staged[0].id.clone(),
                },
                expires_at: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "batch_not_committed");
    let e = env
        .ms
        .create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: PinName::new("x").unwrap(),
                owner: None,
                reason: None,
                target: PinTarget::AsOf { at },
                expires_at: Some(chrono::Utc::now() - Duration::seconds(1)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_expiry");
}

pub async fn partitions_list_with_prefix_range_and_cursor(env: &Env) {
    let t = env
        .table("s", "t", &[("d", KeyType::Date), ("n", KeyType::Int)])
        .await;
    let mut expected = Vec::new();
    for day in 1..=12 {
        for n in [-3, 2, 10] {
            let p = format!("d=2024-{:02}-{:02}/n={n}", if day > 6 { 2 } else { 1 }, day);
            env.store(&t, &p, 0, 1, "x").await;
            expected.push(p);
        }
    }
    // An unpublished (staged only) partition is not listed.
    env.ms
        .stage(
            &env.ctx,
            &t,
            &[PartitionSpec::parse("d=2030-01-01/n=1").unwrap()],
            &Default::default(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = env
            .ms
            .partitions(
                &t,
                &PartitionQuery {
                    cursor: cursor.clone(),
                    limit: Some(7),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.iter().map(|i| i.partition.path()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    expected.sort_by_key(|p| {
        let (d, n) = p.split_once("/n=").unwrap();
        (d.to_owned(), n.parse::<i64>().unwrap())
    });
    assert_eq!(
        seen, expected,
        "typed order: ints numerically, every page once"
    );
    let feb = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                prefix: Some("d=2024-02".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(feb.items.len(), 18);
    let one = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                prefix: Some("d=2024-01-03/n=10".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    let bare = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                prefix: Some("2024-01-0".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bare.items.len(), 18);
    let range = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                from: Some("2024-01-05".into()),
                to: Some("2024-02-08".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(range.items.len(), 3 * 4, "05, 06, 07, 08 inclusive");
    assert!(range.items.iter().all(|i| i.version == 1));
    let e = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                from: Some("not-a-date".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_partition");
    let e = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                cursor: Some("zz".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_cursor");
    let e = env
        .ms
        .partitions(
            &t,
            &PartitionQuery {
                limit: Some(100_000),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_limit");
}

pub async fn events_filter_paginate_and_feed(env: &Env) {
    let a = env.table("a", "t", &[("d", KeyType::String)]).await;
    let b = env.table("b", "t", &[("d", KeyType::String)]).await;
    for i in 0..5 {
        env.store(&a, "d=x", i, 1, "a").await;
        env.store(&b, "d=y", i, 1, "b").await;
    }
    let other = batchmeta::model::Context::new("robot");
    env.ms
        .rollback(
            &other,
            &a,
            &PartitionSpec::parse("d=x").unwrap(),
            &RollbackRequest::default(),
        )
        .await
        .unwrap();
    let all = env
        .ms
        .events(&EventQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert!(
        all.windows(2)
            .all(|w| w[0].id > w[1].id && w[0].at >= w[1].at),
        "newest first, time never decreasing"
    );
    let q = |q: EventQuery| async move { env.ms.events(&q).await.unwrap().items };
    let by_table = q(EventQuery {
        table: Some(a.clone()),
        action: Some(Action::Publish),
        ..Default::default()
    })
    .await;
    assert_eq!(by_table.len(), 5);
    assert!(
        by_table
            .iter()
            .all(|e| e.namespace.as_deref() == Some("a") && e.partition.as_deref() == Some("d=x"))
    );
    assert_eq!(by_table[0].rows, Some(1));
    assert!(
        by_table[0].files.unwrap() >= 1
            && by_table[0].bytes.unwrap() > 0
            && by_table[0].schema_fingerprint.is_some()
    );
    assert_eq!(
        q(EventQuery {
            namespace: Some(b.namespace.clone()),
            ..Default::default()
        })
        .await
        .len(),
        1 + 1 + 5
    );
    let robot = q(EventQuery {
        principal: Some("robot".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(robot.len(), 1);
    assert_eq!(robot[0].action, Action::Rollback);
    let pv = env
        .ms
        .partition(&a, &PartitionSpec::parse("d=x").unwrap())
        .await
        .unwrap();
    assert_eq!(
        q(EventQuery {
            table: Some(a.clone()),
            partition: Some(pv),
            ..Default::default()
        })
        .await
        .len(),
        6
    );
    // Time range: since the 5th event, until the 8th.
    let oldest_first: Vec<_> = all.iter().rev().collect();
    let since = oldest_first[4].at;
    let until = oldest_first[7].at;
    let ranged = q(EventQuery {
        since: Some(since),
        until: Some(until),
        limit: Some(1000),
        ..Default::default()
    })
    .await;
    assert!(ranged.iter().all(|e| e.at >= since && e.at < until));
    let expect = all.iter().filter(|e| e.at >= since && e.at < until).count();
    assert_eq!(ranged.len(), expect);
    // Pagination: pages of 4 cover everything once.
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = env
            .ms
            .events(&EventQuery {
                cursor: cursor.clone(),
                limit: Some(4),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.extend(page.items.iter().map(|e| e.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids, all.iter().map(|e| e.id).collect::<Vec<_>>());
    // Change feed: after an id, oldest first.
    let after = oldest_first[9].id;
    let feed = q(EventQuery {
        after: Some(after),
        limit: Some(1000),
        ..Default::default()
    })
    .await;
    assert_eq!(
        feed.iter().map(|e| e.id).collect::<Vec<_>>(),
        oldest_first[10..].iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let asc = q(EventQuery {
        order: Order::OldestFirst,
        limit: Some(3),
        ..Default::default()
    })
    .await;
    assert_eq!(asc[0].id, oldest_first[0].id);
}

fn null(i: usize) -> bool {
    i % 7 == 3
}

fn opt<T>(i: usize, v: T) -> Option<T> {
    if null(i) { None } else { Some(v) }
}

fn every_type_batch(start: usize, n: usize) -> RecordBatch {
    let ix = start..start + n;
    let struct_fields = Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    let mut list = ListBuilder::new(Int64Builder::new());
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for i in ix.clone() {
        if null(i) {
            list.append_null();
            dict.append_null();
        } else {
            list.values().append_slice(&[i as i64, -(i as i64)]);
            list.append(true);
            dict.append_value(["red", "green", "blue"][i % 3]);
        }
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "i8",
            Arc::new(Int8Array::from_iter(ix.clone().map(|i| opt(i, i as i8)))),
        ),
        (
            "i16",
            Arc::new(Int16Array::from_iter(ix.clone().map(|i| opt(i, i as i16)))),
        ),
        (
            "i32",
            Arc::new(Int32Array::from_iter(ix.clone().map(|i| opt(i, i as i32)))),
        ),
        (
            "i64",
            Arc::new(Int64Array::from_iter(
                ix.clone().map(|i| opt(i, i as i64 * 1_000_003)),
            )),
        ),
        (
            "u8",
            Arc::new(UInt8Array::from_iter(ix.clone().map(|i| opt(i, i as u8)))),
        ),
        (
            "u16",
            Arc::new(UInt16Array::from_iter(ix.clone().map(|i| opt(i, i as u16)))),
        ),
        (
            "u32",
            Arc::new(UInt32Array::from_iter(ix.clone().map(|i| opt(i, i as u32)))),
        ),
        (
            "u64",
            Arc::new(UInt64Array::from_iter(
                ix.clone().map(|i| opt(i, u64::MAX - i as u64)),
            )),
        ),
        (
            "f32",
            Arc::new(Float32Array::from_iter(
                ix.clone().map(|i| opt(i, i as f32 / 3.0)),
            )),
        ),
        (
            "f64",
            Arc::new(Float64Array::from_iter(
                ix.clone().map(|i| opt(i, i as f64 * 1.5e-3)),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from_iter(
                ix.clone().map(|i| opt(i, i % 2 == 0)),
            )),
        ),
        (
            "text",
            Arc::new(StringArray::from_iter(
                ix.clone().map(|i| opt(i, format!("row {i} ü"))),
            )),
        ),
        (
            "large_text",
            Arc::new(LargeStringArray::from_iter(
                ix.clone().map(|i| opt(i, format!("L{i}"))),
            )),
        ),
        (
            "blob",
            Arc::new(BinaryArray::from_iter(
                ix.clone()
                    .map(|i| opt(i, (i as u32).to_le_bytes().to_vec())),
            )),
        ),
        (
            "day",
            Arc::new(Date32Array::from_iter(
                ix.clone().map(|i| opt(i, 17_000 + (i % 1000) as i32)),
            )),
        ),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from_iter(
                ix.clone().map(|i| opt(i, 1_477_958_400_000_000 + i as i64)),
            )),
        ),
        (
            "ts_utc",
            Arc::new(
                TimestampNanosecondArray::from_iter(
                    ix.clone()
                        .map(|i| opt(i, 1_477_958_400_000_000_000 + i as i64)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "ts_ny",
            Arc::new(
                TimestampNanosecondArray::from_iter(ix.clone().map(|i| opt(i, i as i64 * 999)))
                    .with_timezone("America/New_York"),
            ),
        ),
        (
            "amount",
            Arc::new(
                Decimal128Array::from_iter(ix.clone().map(|i| opt(i, i as i128 * 1_000_000_007)))
                    .with_precision_and_scale(38, 9)
                    .unwrap(),
            ),
        ),
        ("tags", Arc::new(list.finish())),
        (
            "pair",
            Arc::new(StructArray::new(
                struct_fields.clone(),
                vec![
                    Arc::new(Int32Array::from_iter(ix.clone().map(|i| opt(i, i as i32)))),
                    Arc::new(StringArray::from_iter(
                        ix.clone().map(|i| opt(i, format!("s{i}"))),
                    )),
                ],
                Some(ix.clone().map(|i| !null(i)).collect()),
            )),
        ),
        ("color", Arc::new(dict.finish())),
        ("nothing", Arc::new(NullArray::new(n))),
    ];
    let mut meta = HashMap::new();
    meta.insert("pandas".to_owned(), r#"{"index_columns": [], "column_indexes": [], "columns": [{"name": "i8", "pandas_type": "int8"}], "creator": {"library": "pyarrow", "version": "17.0.0"}, "pandas_version": "2.2.2"}"#.to_owned());
    meta.insert("polars".to_owned(), "{\"sorted\": []}".to_owned());
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, meta));
    RecordBatch::try_new(schema, columns.into_iter().map(|(_, a)| a).collect()).unwrap()
}

pub async fn round_trip_of_every_type_at_a_million_rows(env: &Env) {
    const ROWS: usize = 1_000_000;
    const CHUNK: usize = 100_000;
    let schema = every_type_batch(0, 1).schema();
    env.table("s", "scratch", &[]).await;
    let t = batchmeta::model::TableIdent::new("s", "every_type").unwrap();
    env.ms
        .create_table(
            &env.ctx,
            &NewTable {
                ident: t.clone(),
                schema: (*schema).clone(),
                partition_keys: vec![
                    batchmeta::model::PartitionKey::new("day_key", KeyType::Date).unwrap(),
                ],
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap();
    let chunks: Vec<RecordBatch> = (0..ROWS / CHUNK)
        .map(|c| every_type_batch(c * CHUNK, CHUNK))
        .collect();
    let stored = env
        .ms
        .store(
            &env.ctx,
            &t,
            &PartitionSpec::parse("2016-10-31").unwrap(),
            schema.clone(),
            stream_of(chunks.clone()),
            &StoreOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(stored.batch.rows, ROWS as u64);
    let req = ReadRequest {
        resolve: ResolveRequest::default(),
        columns: None,
        filters: vec![],
    };
    let (out_schema, s) = env.ms.read(&t, &req).await.unwrap();
    let back = arrow_select::concat::concat_batches(
        &out_schema,
        &s.try_collect::<Vec<_>>().await.unwrap(),
    )
    .unwrap();
    assert_eq!(back.num_rows(), ROWS);
    let original = arrow_select::concat::concat_batches(&schema, &chunks).unwrap();
    for f in schema.fields() {
        let a = original.column_by_name(f.name()).unwrap();
        let b = back.column_by_name(f.name()).unwrap();
        assert_eq!(b.data_type(), a.data_type(), "{}", f.name());
        assert_eq!(
            a.to_data(),
            b.to_data(),
            "column {} differs after the round trip",
            f.name()
        );
    }
    assert_eq!(
        back.schema().metadata().get("pandas"),
        schema.metadata().get("pandas")
    );
    assert_eq!(
        back.schema().metadata().get("polars"),
        schema.metadata().get("polars")
    );
    let day = back
        .column_by_name("day_key")
        .unwrap()
        .as_any()
        .downcast_ref::<Date32Array>()
        .unwrap();
    assert_eq!(
        day.value(0),
        17_105,
        "the partition column is restored as a date"
    );
}

pub async fn reads_project_and_filter(env: &Env) {
    let t = env.table("s", "t", &[("r", KeyType::String)]).await;
    env.store(&t, "r=us", 0, 100, "us").await;
    env.store(&t, "r=eu", 100, 100, "eu").await;
    let t = &t;
    let read = |columns: Option<Vec<&str>>, filters: Vec<Filter>| {
        let req = ReadRequest {
            resolve: ResolveRequest::default(),
            columns: columns.map(|c| c.into_iter().map(String::from).collect()),
            filters,
        };
        async move {
            let (schema, s) = env.ms.read(t, &req).await?;
            Ok::<_, batchmeta::Error>(
                arrow_select::concat::concat_batches(&schema, &s.try_collect::<Vec<_>>().await?)
                    .unwrap(),
            )
        }
    };
    let only = read(Some(vec!["value"]), vec![]).await.unwrap();
    assert_eq!(only.num_columns(), 1);
    assert_eq!(only.num_rows(), 200);
    let f = |c: &str, op, v| Filter {
        column: c.into(),
        op,
        value: v,
    };
    let us_small = read(
        None,
        vec![
            f("r", FilterOp::Eq, Scalar::String("us".into())),
            f("id", FilterOp::Lt, Scalar::Int(10)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(us_small.num_rows(), 10);
    assert_eq!(values(&us_small)[9], "us-9");
    let none = read(
        None,
        vec![f("r", FilterOp::Eq, Scalar::String("mars".into()))],
    )
    .await
    .unwrap();
    assert_eq!(none.num_rows(), 0);
    let e = read(Some(vec!["nope"]), vec![]).await.unwrap_err();
    assert_eq!(e.code(), "unknown_column");
    let e = read(None, vec![f("nope", FilterOp::Eq, Scalar::Int(1))])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_column");
    let files = env.ms.files(t, &ResolveRequest::default()).await.unwrap();
    assert_eq!(files.len(), 2);
    assert!(
        files
            .iter()
            .all(|f| f.contains("/s/t/r=") && f.ends_with(".parquet")),
        "{files:?}"
    );
}

pub async fn unpartitioned_tables_get_a_batch_per_write(env: &Env) {
    let t = env.table("s", "flat", &[]).await;
    let a = env.store(&t, "", 0, 3, "a").await;
    let b = env.store(&t, "", 0, 3, "b").await;
    assert_eq!(a.batch.location, format!("s/flat/{}", a.batch.id));
    assert_ne!(a.batch.location, b.batch.location);
    assert_eq!(values(&env.load(&t, "").await), vec!["b-0", "b-1", "b-2"]);
    env.ms
        .rollback(
            &env.ctx,
            &t,
            &PartitionSpec::parse("").unwrap(),
            &RollbackRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(values(&env.load(&t, "").await), vec!["a-0", "a-1", "a-2"]);
    let e = env
        .store_with(&t, "x", frame(0, 1, "c"), &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_partition");
}
