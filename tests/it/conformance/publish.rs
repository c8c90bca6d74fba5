use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use batchmeta::model::{
    Action, BatchId, BatchState, EventQuery, Expect, KeyType, PartitionSpec, RollbackRequest,
    SchemaMode, Version,
};
use batchmeta::{
    ErrorKind, PublishOptions, PublishSpec, ReadRequest, ResolveRequest, StageOptions, StoreOptions,
};
use futures::TryStreamExt;

use crate::harness::{Env, frame, stream_of, values};

pub async fn never_delete_keeps_every_batch_byte_identical(env: &Env) {
    let t = env
        .table("sales", "sold_items", &[("date", KeyType::Date)])
        .await;
    let mut kept = Vec::new();
    for (i, tag) in ["first", "second", "third"].iter().enumerate() {
        let s = env
            .store(&t, "date=2016-10-31", i as i64 * 100, 50 + i as i64, tag)
            .await;
        assert!(
            s.batch
                .location
                .starts_with("sales/sold_items/date=2016-10-31/")
        );
        assert!(s.batch.location.ends_with(s.batch.id.as_str()));
        let mut files = Vec::new();
        for f in &s.batch.files {
            files.push((f.path.clone(), env.object_bytes(&f.path).await));
        }
        kept.push((s.batch.id.clone(), files));
    }
    // All three prefixes and their files still exist, byte-identical.
    for (_, files) in &kept {
        for (path, bytes) in files {
            assert_eq!(&env.object_bytes(path).await, bytes, "{path} changed");
        }
    }
    assert_eq!(
        values(&env.load(&t, "date=2016-10-31").await)[0],
        "third-200"
    );
    env.ms
        .rollback(
            &env.ctx,
            &t,
            &PartitionSpec::parse("date=2016-10-31").unwrap(),
            &RollbackRequest::default(),
        )
        .await
        .unwrap();
    let back = env.load(&t, "date=2016-10-31").await;
    assert_eq!(
        back,
        env.load_version(&t, "date=2016-10-31", Version::Batch(kept[1].0.clone()))
            .await
    );
    assert_eq!(back.num_rows(), 51);
    assert_eq!(values(&back), values(&frame(100, 51, "second")));
    for (_, files) in &kept {
        for (path, bytes) in files {
            assert_eq!(&env.object_bytes(path).await, bytes);
        }
    }
}

async fn current(env: &Env, t: &batchmeta::model::TableIdent, p: &str) -> BatchId {
    let r = env
        .ms
        .resolve(
            t,
            &ResolveRequest {
                partitions: Some(vec![PartitionSpec::parse(p).unwrap()]),
                version: Version::Current,
            },
        )
        .await
        .unwrap();
    r[0].batch.id.clone()
}

pub async fn rollback_follows_parents(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let b1 = env.store(&t, "d=x", 0, 1, "b1").await.batch.id;
    let b2 = env.store(&t, "d=x", 0, 1, "b2").await.batch.id;
    let b3 = env.store(&t, "d=x", 0, 1, "b3").await.batch.id;
    assert!(b1 < b2 && b2 < b3, "batch ids increase");
    let before = env
        .ms
        .events(&EventQuery::default())
        .await
        .unwrap()
        .items
        .len();
    let e = env
        .ms
        .rollback(&env.ctx, &t, &p, &RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!(
        (e.from_batch.as_ref(), e.to_batch.as_ref(), e.action),
        (Some(&b3), Some(&b2), Action::Rollback)
    );
    assert_eq!(current(env, &t, "d=x").await, b2);
    env.ms
        .rollback(&env.ctx, &t, &p, &RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!(current(env, &t, "d=x").await, b1);
    assert_eq!(values(&env.load(&t, "d=x").await), vec!["b1-0"]);
    let b4 = env.store(&t, "d=x", 0, 1, "b4").await.batch;
    assert_eq!(
        b4.parent.as_ref(),
        Some(&b1),
        "the parent is what was current at publish"
    );
    env.ms
        .rollback(&env.ctx, &t, &p, &RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!(current(env, &t, "d=x").await, b1);
    // Every rollback is exactly one event.
    let after = env
        .ms
        .events(&EventQuery::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(after - before, 4, "3 rollbacks + 1 publish");
    let h = env.ms.history(&t, &p, None, None).await.unwrap();
    let moves: Vec<_> = h
        .items
        .iter()
        .map(|e| (e.action, e.to_batch.clone().unwrap()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Action::Rollback, b1.clone()),
            (Action::Publish, b4.id.clone()),
            (Action::Rollback, b1.clone()),
            (Action::Rollback, b2.clone()),
            (Action::Publish, b3.clone()),
            (Action::Publish, b2.clone()),
            (Action::Publish, b1.clone()),
        ]
    );
}

pub async fn rollback_to_and_expect(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let b1 = env.store(&t, "d=x", 0, 1, "b1").await.batch.id;
    let b2 = env.store(&t, "d=x", 0, 1, "b2").await.batch.id;
    let b3 = env.store(&t, "d=x", 0, 1, "b3").await.batch.id;
    env.ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(b1.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(current(env, &t, "d=x").await, b1);
    // --to works forward too.
    env.ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(b3.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(current(env, &t, "d=x").await, b3);
    // expect: the wrong current batch is a conflict naming the right one.
    let e = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                expect: Some(b2.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains(b3.as_str()), "{e}");
    match e {
        batchmeta::Error::Conflict { current, .. } => assert_eq!(current, Some(b3.clone())),
        other => panic!("{other}"),
    }
    env.ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                expect: Some(b3.clone()),
                message: Some("bad load".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(current(env, &t, "d=x").await, b2, "b3's parent is b2");
    let same = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(b2.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(same.code(), "already_current");
    let unknown = BatchId::parse("20000101000000000000").unwrap();
    let e = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(unknown),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "batch_not_found");
}

pub async fn rollback_without_parent_is_a_clear_error(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let never = env
        .ms
        .rollback(&env.ctx, &t, &p, &RollbackRequest::default())
        .await
        .unwrap_err();
    assert_eq!(never.code(), "partition_not_found");
    env.store(&t, "d=x", 0, 1, "b1").await;
    let before = env.snapshot().await;
    let e = env
        .ms
        .rollback(&env.ctx, &t, &p, &RollbackRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "no_parent");
    let cli = e.message_for(batchmeta::model::Edge::Cli);
    assert!(
        cli.contains("--to BATCH") && cli.contains("meta history s.t d=x"),
        "{cli}"
    );
    let py = e.message_for(batchmeta::model::Edge::Python);
    assert!(py.contains("to=\"BATCH\"") && !py.contains("meta "), "{py}");
    assert_eq!(env.snapshot().await, before);
}

pub async fn publish_with_cas_names_the_current_batch(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let first = env
        .store_with(
            &t,
            "d=x",
            frame(0, 1, "a"),
            &StoreOptions {
                expect: Some(Expect::Empty),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = env
        .store_with(
            &t,
            "d=x",
            frame(0, 1, "b"),
            &StoreOptions {
                expect: Some(Expect::Empty),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains(first.batch.id.as_str()), "{e}");
    let ok = env
        .store_with(
            &t,
            "d=x",
            frame(0, 1, "c"),
            &StoreOptions {
                expect: Some(Expect::Batch(first.batch.id.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ok.batch.parent, Some(first.batch.id.clone()));
    let stale = env
        .store_with(
            &t,
            "d=x",
            frame(0, 1, "d"),
            &StoreOptions {
                expect: Some(Expect::Batch(first.batch.id.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    match stale {
        batchmeta::Error::Conflict { current, .. } => {
            assert_eq!(current, Some(ok.batch.id.clone()))
        }
        other => panic!("{other}"),
    }
    assert_eq!(values(&env.load(&t, "d=x").await), vec!["c-0"]);
    // A losing store leaves no staged batch behind.
    let batches = env
        .ms
        .batches(&t, &PartitionSpec::parse("d=x").unwrap())
        .await
        .unwrap();
    assert!(
        batches.iter().all(|b| b.state == BatchState::Committed),
        "{batches:?}"
    );
}

pub async fn multi_partition_publish_is_all_or_nothing(env: &Env) {
    let t = env
        .table("s", "t", &[("d", KeyType::Date), ("r", KeyType::String)])
        .await;
    let parts: Vec<PartitionSpec> = [
        "d=2024-01-01/r=us",
        "d=2024-01-01/r=eu",
        "d=2024-01-02/r=us",
    ]
    .iter()
    .map(|p| PartitionSpec::parse(p).unwrap())
    .collect();
    let staged = env
        .ms
        .stage(&env.ctx, &t, &parts, &StageOptions::default())
        .await
        .unwrap();
    for (i, b) in staged.iter().enumerate() {
        env.ms
            .write(
                &t,
                &b.id,
                crate::harness::small_schema(),
                stream_of(vec![frame(i as i64, 3, "m")]),
                SchemaMode::Strict,
            )
            .await
            .unwrap();
    }
    // One CAS fails: nothing is published.
    env.store(&t, "d=2024-01-02/r=us", 0, 1, "early").await;
    let before = env.snapshot().await;
    let specs: Vec<PublishSpec> = parts
        .iter()
        .zip(&staged)
        .map(|(p, b)| PublishSpec {
            partition: p.clone(),
            batch: b.id.clone(),
            expect: Some(Expect::Empty),
        })
        .collect();
    let e = env
        .ms
        .publish(&env.ctx, &t, &specs, &PublishOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(
        env.snapshot().await,
        before,
        "a failed multi-partition publish changes nothing"
    );
    assert_eq!(
        env.ms
            .partitions(&t, &Default::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Without the failing condition, all three move in one commit.
    let specs: Vec<PublishSpec> = specs
        .into_iter()
        .map(|s| PublishSpec { expect: None, ..s })
        .collect();
    let c = env
        .ms
        .publish(
            &env.ctx,
            &t,
            &specs,
            &PublishOptions {
                message: Some("daily".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(c.events.len(), 3);
    assert!(
        c.events
            .iter()
            .all(|e| e.commit_id.as_deref() == Some(c.commit_id.as_str())
                && e.message.as_deref() == Some("daily"))
    );
    assert_eq!(
        env.ms
            .partitions(&t, &Default::default())
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    // A duplicate partition in one publish is refused.
    let dup = vec![specs[0].clone(), specs[0].clone()];
    assert_eq!(
        env.ms
            .publish(&env.ctx, &t, &dup, &PublishOptions::default())
            .await
            .unwrap_err()
            .code(),
        "duplicate_partition"
    );
}

pub async fn stage_read_and_publish_later(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    env.store(&t, "d=x", 0, 2, "live").await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let staged = env
        .ms
        .stage(
            &env.ctx,
            &t,
            std::slice::from_ref(&p),
            &StageOptions {
                message: Some("audit me".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let b = &staged[0];
    assert_eq!(b.state, BatchState::Staged);
    env.ms
        .write(
            &t,
            &b.id,
            crate::harness::small_schema(),
            stream_of(vec![frame(0, 3, "wap")]),
            SchemaMode::Strict,
        )
        .await
        .unwrap();
    // Readers of the current version do not see it...
    assert_eq!(values(&env.load(&t, "d=x").await), vec!["live-0", "live-1"]);
    // ...but the auditor can read it by ID.
    let audit = env
        .load_version(&t, "d=x", Version::Batch(b.id.clone()))
        .await;
    assert_eq!(values(&audit), vec!["wap-0", "wap-1", "wap-2"]);
    // A second write appends files to the same staged batch.
    let b2 = env
        .ms
        .write(
            &t,
            &b.id,
            crate::harness::small_schema(),
            stream_of(vec![frame(3, 1, "wap")]),
            SchemaMode::Strict,
        )
        .await
        .unwrap();
    assert_eq!(b2.files.len(), 2);
    assert_eq!(b2.rows, 4);
    let c = env
        .ms
        .publish(
            &env.ctx,
            &t,
            &[PublishSpec {
                partition: p.clone(),
                batch: b.id.clone(),
                expect: None,
            }],
            &PublishOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(c.events[0].message.as_deref(), Some("audit me"));
    assert_eq!(c.events[0].rows, Some(4));
    assert_eq!(
        values(&env.load(&t, "d=x").await),
        vec!["wap-0", "wap-1", "wap-2", "wap-3"]
    );
    // Published batches are frozen.
    let e = env
        .ms
        .write(
            &t,
            &b.id,
            crate::harness::small_schema(),
            stream_of(vec![frame(0, 1, "late")]),
            SchemaMode::Strict,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "batch_not_staged");
}

pub async fn idempotent_stage_and_publish_add_no_event(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let opts = StageOptions {
        idempotency_key: Some("job-42".into()),
        ..Default::default()
    };
    let a = env
        .ms
        .stage(&env.ctx, &t, std::slice::from_ref(&p), &opts)
        .await
        .unwrap();
    let b = env
        .ms
        .stage(&env.ctx, &t, std::slice::from_ref(&p), &opts)
        .await
        .unwrap();
    assert_eq!(a[0].id, b[0].id);
    env.ms
        .write(
            &t,
            &a[0].id,
            crate::harness::small_schema(),
            stream_of(vec![frame(0, 1, "k")]),
            SchemaMode::Strict,
        )
        .await
        .unwrap();
    let spec = [PublishSpec {
        partition: p.clone(),
        batch: a[0].id.clone(),
        expect: Some(Expect::Empty),
    }];
    let c1 = env
        .ms
        .publish(&env.ctx, &t, &spec, &PublishOptions::default())
        .await
        .unwrap();
    let events = env.snapshot().await;
    let c2 = env
        .ms
        .publish(&env.ctx, &t, &spec, &PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(c1, c2, "a retried publish returns the original commit");
    assert_eq!(env.snapshot().await, events, "and appends nothing");
    // store with the same key: same batch, no new event, no new files.
    let sopts = StoreOptions {
        idempotency_key: Some("run-7".into()),
        ..Default::default()
    };
    let s1 = env
        .store_with(&t, "d=y", frame(0, 2, "s"), &sopts)
        .await
        .unwrap();
    let snap = env.snapshot().await;
    let s2 = env
        .store_with(&t, "d=y", frame(0, 2, "s"), &sopts)
        .await
        .unwrap();
    assert_eq!(s1.batch.id, s2.batch.id);
    assert_eq!(s1.commit, s2.commit);
    assert_eq!(env.snapshot().await, snap);
}

pub async fn schema_mismatch_is_refused_and_merge_adds_columns(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    env.store(&t, "d=old", 0, 2, "old").await;
    let wide = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Utf8, true),
        Field::new("score", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        wide.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(StringArray::from(vec!["n-1", "n-2"])),
            Arc::new(Int64Array::from(vec![10, 20])),
        ],
    )
    .unwrap();
    let before = env.snapshot().await;
    let e = env
        .store_with(&t, "d=new", batch.clone(), &StoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaMismatch);
    assert!(e.to_string().contains("new columns: score"), "{e}");
    assert_eq!(
        env.snapshot().await,
        before,
        "a refused store changes nothing"
    );
    let retyped = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["1"])),
            Arc::new(StringArray::from(vec!["v"])),
        ],
    )
    .unwrap();
    let e = env
        .store_with(
            &t,
            "d=new",
            retyped.clone(),
            &StoreOptions {
                schema_mode: SchemaMode::Merge,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("changed types: id"), "{e}");
    assert_eq!(env.snapshot().await, before);

    let s = env
        .store_with(
            &t,
            "d=new",
            batch,
            &StoreOptions {
                schema_mode: SchemaMode::Merge,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let table = env.ms.table(&t).await.unwrap();
    assert_eq!(table.schema_version, 2);
    assert!(table.schema.field_with_name("score").unwrap().is_nullable());
    let ev = env
        .ms
        .events(&EventQuery {
            action: Some(Action::UpdateSchema),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].details.as_ref().unwrap()["added_columns"][0], "score");
    assert_eq!(s.batch.rows, 2);
    // Old batches read back with nulls in the new column.
    let req = ReadRequest {
        resolve: ResolveRequest::default(),
        columns: Some(vec!["d".into(), "id".into(), "score".into()]),
        filters: vec![],
    };
    let (schema, st) = env.ms.read(&t, &req).await.unwrap();
    let all =
        arrow_select::concat::concat_batches(&schema, &st.try_collect::<Vec<_>>().await.unwrap())
            .unwrap();
    assert_eq!(all.num_rows(), 4);
    let score = all
        .column_by_name("score")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    let d = arrow_cast::cast(all.column_by_name("d").unwrap(), &DataType::Utf8).unwrap();
    let d = d.as_any().downcast_ref::<StringArray>().unwrap();
    for i in 0..4 {
        if d.value(i) == "old" {
            assert!(score.is_null(i))
        } else {
            assert!(!score.is_null(i))
        }
    }
    // Now the narrow (old) schema is refused in strict mode, accepted in merge mode.
    let e = env
        .store_with(
            &t,
            "d=old",
            crate::harness::frame(0, 1, "x"),
            &StoreOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing columns: score"), "{e}");
    env.store_with(
        &t,
        "d=old",
        crate::harness::frame(0, 1, "x"),
        &StoreOptions {
            schema_mode: SchemaMode::Merge,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        env.ms.table(&t).await.unwrap().schema_version,
        2,
        "nothing new to merge"
    );
}
