use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use batchmeta::model::{
    BatchId, KeyType, NewPin, PartitionSpec, PinName, PinTarget, RollbackRequest, SchemaMode,
    TableIdent, Version,
};
use batchmeta::{Code, PublishOptions, PublishSpec, ResolveRequest, StoreOptions};
use object_store::{ObjectStoreExt, PutPayload};

use crate::harness::{Env, frame, stream_of};

/// Every case must fail with its own code and leave rows, events and objects as they were.
pub async fn bad_input_is_refused_and_changes_nothing(env: &Env) {
    let t = env
        .table(
            "sales",
            "sold_items",
            &[("date", KeyType::Date), ("region", KeyType::String)],
        )
        .await;
    let good = env.store(&t, "date=2016-10-31/region=us", 0, 3, "ok").await;
    let other_table = env
        .table(
            "sales",
            "returns",
            &[("date", KeyType::Date), ("region", KeyType::String)],
        )
        .await;
    let other = env
        .store(&other_table, "date=2016-10-31/region=us", 0, 1, "r")
        .await;
    let other_partition = env.store(&t, "date=2016-10-31/region=eu", 0, 1, "eu").await;
    let staged = env
        .ms
        .stage(
            &env.ctx,
            &t,
            &[PartitionSpec::parse("date=2016-10-30/region=us").unwrap()],
            &Default::default(),
        )
        .await
        .unwrap();
    let staged_p = env
        .ms
        .stage(
            &env.ctx,
            &t,
            &[PartitionSpec::parse("date=2016-10-31/region=us").unwrap()],
            &Default::default(),
        )
        .await
        .unwrap();
    let before = env.snapshot().await;

    let mut cases: Vec<(&str, &str, batchmeta::Result<()>)> = Vec::new();
    macro_rules! case {
        ($label:expr, $code:expr, $e:expr) => {
            cases.push(($label, $code, $e.await.map(|_| ())));
        };
    }
    // Names (validated by the model before any call).
    for bad in [
        "..",
        "a/b",
        "a\\b",
        "UPPER",
        "",
        "a\u{0}b",
        "sp ace",
        "é",
        "1abc",
        &"x".repeat(10_000),
        "ｓａｌｅｓ",
    ] {
        assert_eq!(
            TableIdent::new("sales", bad).unwrap_err().code(),
            "invalid_name",
            "{bad:?}"
        );
        assert_eq!(
            TableIdent::new(bad, "t").unwrap_err().code(),
            "invalid_name",
            "{bad:?}"
        );
    }
    // Partition values.
    for (label, p) in [
        ("dotdot", "date=2016-10-31/region=.."),
        ("slash", "date=2016-10-31/region=a%2Fb"),
        ("backslash", "date=2016-10-31/region=a\\b"),
        ("control", "date=2016-10-31/region=a%0Ab"),
        ("nul", "date=2016-10-31/region=a%00b"),
        ("empty", "date=2016-10-31/region="),
        ("bad date", "date=2016-02-30/region=us"),
        ("missing key", "date=2016-10-31"),
        ("extra key", "date=2016-10-31/region=us/x=1"),
        (
            "long",
            &format!("date=2016-10-31/region={}", "x".repeat(10_000)),
        ),
        ("positional count", "2016-10-31"),
    ] {
        let spec = PartitionSpec::parse(p).unwrap_or(PartitionSpec::Positional(vec![]));
        case!(
            label,
            "invalid_partition",
            env.ms.store(
                &env.ctx,
                &t,
                &spec,
                crate::harness::small_schema(),
                stream_of(vec![frame(0, 1, "x")]),
                &StoreOptions::default()
            )
        );
    }
    let ints = env.table("sales", "ints", &[("n", KeyType::Int)]).await;
    let snap_ints = env.snapshot().await;
    case!(
        "int type",
        "invalid_partition",
        env.ms.store(
            &env.ctx,
            &ints,
            &PartitionSpec::parse("n=abc").unwrap(),
            crate::harness::small_schema(),
            stream_of(vec![frame(0, 1, "x")]),
            &StoreOptions::default()
        )
    );
    // Unknown things.
    let unknown_t = TableIdent::new("sales", "nope").unwrap();
    let unknown_ns = TableIdent::new("nope", "t").unwrap();
    let p = PartitionSpec::parse("date=2016-10-31/region=us").unwrap();
    let absent = PartitionSpec::parse("date=1999-01-01/region=us").unwrap();
    let ghost = BatchId::parse("20000101000000000000").unwrap();
    case!(
        "unknown table",
        "table_not_found",
        env.ms.store(
            &env.ctx,
            &unknown_t,
            &p,
            crate::harness::small_schema(),
            stream_of(vec![frame(0, 1, "x")]),
            &StoreOptions::default()
        )
    );
    case!(
        "unknown namespace",
        "namespace_not_found",
        env.ms.table(&unknown_ns)
    );
    case!(
        "unknown partition",
        "partition_not_found",
        env.ms.resolve(
            &t,
            &ResolveRequest {
                partitions: Some(vec![absent.clone()]),
                version: Version::Current
            }
        )
    );
    case!(
        "rollback unknown partition",
        "partition_not_found",
        env.ms
            .rollback(&env.ctx, &t, &absent, &RollbackRequest::default())
    );
    case!(
        "unknown batch",
        "batch_not_found",
        env.ms.resolve(
            &t,
            &ResolveRequest {
                partitions: None,
                version: Version::Batch(ghost.clone())
            }
        )
    );
    case!(
        "batch of another table",
        "batch_not_found",
        env.ms.resolve(
            &t,
            &ResolveRequest {
                partitions: None,
                version: Version::Batch(other.batch.id.clone())
            }
        )
    );
    case!(
        "batch of another partition",
        "batch_partition_mismatch",
        env.ms.rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(other_partition.batch.id.clone()),
                ..Default::default()
            }
        )
    );
    case!(
        "staged batch as rollback target",
        "batch_not_committed",
        env.ms.rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(staged_p[0].id.clone()),
                ..Default::default()
            }
        )
    );
    case!(
        "unknown pin",
        "pin_not_found",
        env.ms.resolve(
            &t,
            &ResolveRequest {
                partitions: None,
                version: Version::Pin(PinName::new("nobody").unwrap())
            }
        )
    );
    case!(
        "pin of another table's batch",
        "batch_not_found",
        env.ms.create_pin(
            &env.ctx,
            &t,
            &NewPin {
                name: PinName::new("p").unwrap(),
                owner: None,
                reason: None,
                target: PinTarget::Batch {
                    partition: env.ms.partition(&t, &p).await.unwrap(),
                    batch: other.batch.id.clone()
                },
                expires_at: None
            }
        )
    );
    case!(
        "publish another partition's batch",
        "batch_partition_mismatch",
        env.ms.publish(
            &env.ctx,
            &t,
            &[PublishSpec {
                partition: p.clone(),
                batch: staged[0].id.clone(),
                expect: None
            }],
            &PublishOptions::default()
        )
    );
    case!(
        "publish an empty staged batch",
        "empty_batch",
        env.ms.publish(
            &env.ctx,
            &t,
            &[PublishSpec {
                partition: PartitionSpec::parse("date=2016-10-30/region=us").unwrap(),
                batch: staged[0].id.clone(),
                expect: None
            }],
            &PublishOptions::default()
        )
    );
    case!(
        "publish a published batch with another partition",
        "batch_partition_mismatch",
        env.ms.publish(
            &env.ctx,
            &t,
            &[PublishSpec {
                partition: absent.clone(),
                batch: good.batch.id.clone(),
                expect: None
            }],
            &PublishOptions::default()
        )
    );
    // Data that does not fit.
    let wrong = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)])),
        vec![Arc::new(StringArray::from(vec!["1"]))],
    )
    .unwrap();
    case!(
        "schema mismatch",
        "schema_mismatch",
        env.ms.store(
            &env.ctx,
            &t,
            &p,
            wrong.schema(),
            stream_of(vec![wrong.clone()]),
            &StoreOptions::default()
        )
    );
    case!(
        "schema mismatch on write",
        "schema_mismatch",
        env.ms.write(
            &t,
            &staged[0].id,
            wrong.schema(),
            stream_of(vec![wrong.clone()]),
            SchemaMode::Strict
        )
    );
    let with_region = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, true),
    ]));
    let mixed = RecordBatch::try_new(
        with_region.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
            Arc::new(StringArray::from(vec!["us", "eu", "us"])),
        ],
    )
    .unwrap();
    case!(
        "rows outside the partition",
        "partition_mismatch",
        env.ms.store(
            &env.ctx,
            &t,
            &p,
            with_region.clone(),
            stream_of(vec![mixed.clone()]),
            &StoreOptions::default()
        )
    );
    // A stream that fails halfway leaves nothing behind either.
    let failing = futures::stream::iter(vec![
        Ok(frame(0, 10, "x")),
        Err(batchmeta::Error::invalid(
            Code::ClientStream,
            "the client's data source failed",
        )),
    ]);
    case!(
        "failing stream",
        "client_stream",
        env.ms.store(
            &env.ctx,
            &t,
            &p,
            crate::harness::small_schema(),
            Box::pin(failing),
            &StoreOptions::default()
        )
    );
    case!(
        "bad limit",
        "invalid_limit",
        env.ms.partitions(
            &t,
            &batchmeta::model::PartitionQuery {
                limit: Some(0),
                ..Default::default()
            }
        )
    );

    for (label, code, result) in &cases {
        match result {
            Ok(()) => panic!("{label}: expected {code}, got success"),
            Err(e) => {
                assert_eq!(e.code(), *code, "{label}: {e}");
                assert_ne!(e.kind(), batchmeta::ErrorKind::Internal, "{label}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let after = env.snapshot().await;
    assert_eq!(after.rows, snap_ints.rows, "database rows unchanged");
    assert_eq!(after.max_event, snap_ints.max_event, "no event appended");
    assert_eq!(after.objects, snap_ints.objects, "store listing unchanged");
    assert_eq!(before.objects, snap_ints.objects);
}

/// Publishing a batch whose files are missing, resized or outside its prefix.
pub async fn publishing_broken_batches_is_refused(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let (t, p) = (&t, &p);
    let store = env.storage.store().clone();
    let stage = || async {
        env.ms
            .stage(&env.ctx, t, std::slice::from_ref(p), &Default::default())
            .await
            .unwrap()
            .remove(0)
    };
    let write = |id: BatchId| async move {
        env.ms
            .write(
                t,
                &id,
                crate::harness::small_schema(),
                stream_of(vec![frame(0, 5, "x")]),
                SchemaMode::Strict,
            )
            .await
            .unwrap()
    };
    let publish = |id: BatchId| async move {
        env.ms
            .publish(
                &env.ctx,
                t,
                &[PublishSpec {
                    partition: p.clone(),
                    batch: id,
                    expect: None,
                }],
                &PublishOptions::default(),
            )
            .await
    };

    let missing = write(stage().await.id).await;
    store
        .delete(&object_store::path::Path::parse(&missing.files[0].path).unwrap())
        .await
        .unwrap();
    let before = env.snapshot().await;
    assert_eq!(
        publish(missing.id.clone()).await.unwrap_err().code(),
        "batch_file_missing"
    );
    assert_eq!(env.snapshot().await, before);

    let resized = write(stage().await.id).await;
    let path = object_store::path::Path::parse(&resized.files[0].path).unwrap();
    store.delete(&path).await.unwrap();
    store
        .put(&path, PutPayload::from_static(b"truncated"))
        .await
        .unwrap();
    let before = env.snapshot().await;
    assert_eq!(
        publish(resized.id.clone()).await.unwrap_err().code(),
        "batch_file_size_mismatch"
    );
    assert_eq!(env.snapshot().await, before);

    // A file outside the batch prefix cannot even be recorded.
    let outside = stage().await;
    let elsewhere = format!("{}/../evil.parquet", outside.location);
    let before = env.snapshot().await;
    let e = env
        .ms
        .add_files(t, &outside.id, &[elsewhere])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "file_outside_prefix");
    let e = env
        .ms
        .add_files(
            t,
            &outside.id,
            &[format!("{}/part-00000.parquet", missing.location)],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "file_outside_prefix");
    assert_eq!(env.snapshot().await, before);
    // A file written straight to the prefix by a client is accepted.
    let direct = format!("{}/client-0.parquet", outside.location);
    let written = env
        .object_bytes(
            &env.ms
                .batch(t, &env.store(t, "d=src", 0, 4, "direct").await.batch.id)
                .await
                .unwrap()
                .files[0]
                .path,
        )
        .await;
    store
        .put(
            &object_store::path::Path::parse(&direct).unwrap(),
            PutPayload::from(written),
        )
        .await
        .unwrap();
    let b = env.ms.add_files(t, &outside.id, &[direct]).await.unwrap();
    assert_eq!(b.rows, 4);
    publish(outside.id.clone()).await.unwrap();
    // Not Parquet at all.
    let junk = stage().await;
    let junk_path = format!("{}/junk.parquet", junk.location);
    store
        .put(
            &object_store::path::Path::parse(&junk_path).unwrap(),
            PutPayload::from_static(b"not parquet"),
        )
        .await
        .unwrap();
    assert_eq!(
        env.ms
            .add_files(t, &junk.id, &[junk_path])
            .await
            .unwrap_err()
            .code(),
        "invalid_data_file"
    );
}
