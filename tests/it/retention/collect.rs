//! Retention beyond committed batches, on every backend pair: orphan
//! objects (files under a batch's prefix that no batch records, a crashed
//! writer's leftovers) are collected by object time beside the abandoned
//! batch they belong to, never the table's Iceberg metadata nor a prefix no
//! batch of the table names; and `retention.keep_inputs_of_pinned` keeps
//! what a pinned batch was built from.

use std::collections::BTreeSet;
use std::sync::Arc;

use batchmeta::model::{
    Action, BatchState, EventQuery, KeyType, MetadataUpdate, NewPin, PartitionSpec, PinName,
    PinTarget,
};
use batchmeta::{GcRequest, Inputs, StageOptions, StoreOptions};
use chrono::TimeDelta;
use object_store::ObjectStoreExt;

use super::PastClock;
use crate::harness::{Env, frame};

async fn put(env: &Env, path: &str) {
    env.storage
        .store()
        .put(
            &object_store::path::Path::parse(path).unwrap(),
            bytes::Bytes::from_static(b"left over").into(),
        )
        .await
        .unwrap();
}

async fn exists(env: &Env, path: &str) -> bool {
    env.storage
        .store()
        .head(&object_store::path::Path::parse(path).unwrap())
        .await
        .is_ok()
}

/// Orphans: listed by the dry run only once older than the grace period,
/// deleted by the apply exactly as listed, nothing else touched.
pub async fn orphans(env: Env, clock: Arc<PastClock>) {
    clock.days_ago(21.0);
    let t = env
        .table("sales", "items", &[("day", KeyType::String)])
        .await;
    let a1 = env.store(&t, "day=a", 0, 3, "a").await.batch;
    let stage = |spec: &'static str| {
        let (env, t) = (&env, &t);
        async move {
            env.ms
                .stage(
                    &env.ctx,
                    t,
                    &[PartitionSpec::parse(spec).unwrap()],
                    &StageOptions::default(),
                )
                .await
                .unwrap()
                .remove(0)
        }
    };
    clock.days_ago(19.0);
    let abandoned = stage("day=a").await;
    // A crashed first write: its partition was never published.
    let first_write = stage("day=b").await;
    clock.days_ago(0.0);
    // A first write in flight, in another partition never published.
    let in_flight = stage("day=c").await;
    let table = env.ms.table(&t).await.unwrap();
    // A crashed writer's files: under the abandoned batch and under a
    // committed one (a write whose record never came).
    let leftover = format!("{}/part-00000.parquet", abandoned.location);
    let stray = format!("{}/w00009/part-00000.parquet", a1.location);
    let first_leftover = format!("{}/part-00000.parquet", first_write.location);
    // Never orphans: the Iceberg metadata, a prefix no batch of this table names.
    let iceberg = format!("{}/_iceberg/metadata/00001.metadata.json", table.location);
    let foreign = format!(
        "{}/day=a/20161102234252123456/part-00000.parquet",
        table.location
    );
    for p in [&leftover, &stray, &first_leftover, &iceberg, &foreign] {
        put(&env, p).await;
    }
    let req = GcRequest {
        table: Some(t.clone()),
        ..GcRequest::default()
    };
    // With the default grace the objects are too young (by object time).
    let young = env.ms.gc(&env.ctx, &req).await.unwrap();
    assert!(young.orphans.is_empty(), "{:?}", young.orphans);
    assert_eq!(
        young
            .collected
            .iter()
            .map(|c| c.batch.clone())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([abandoned.id.clone(), first_write.id.clone()])
    );
    assert!(
        young.survivors.iter().any(|s| s.batch == in_flight.id),
        "a first write in flight survives: {:?}",
        young.survivors
    );

    let now = GcRequest {
        grace: Some(TimeDelta::zero()),
        force_grace: true,
        ..req.clone()
    };
    let before = env.snapshot().await;
    let dry = env.ms.gc(&env.ctx, &now).await.unwrap();
    assert_eq!(env.snapshot().await, before, "a dry run changes nothing");
    let listed: BTreeSet<String> = dry.orphans.iter().map(|o| o.path.clone()).collect();
    assert_eq!(
        listed,
        BTreeSet::from([leftover.clone(), stray.clone(), first_leftover.clone()])
    );
    assert_eq!(
        dry.bytes,
        dry.collected.iter().map(|c| c.bytes).sum::<u64>() + 3 * 9
    );
    let applied = env
        .ms
        .gc(
            &env.ctx,
            &GcRequest {
                apply: true,
                ..now.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        applied.orphans, dry.orphans,
        "the apply deletes what the dry run listed"
    );
    assert_eq!(applied.collected, dry.collected);
    for p in [&leftover, &stray, &first_leftover] {
        assert!(!exists(&env, p).await, "{p} is an orphan");
    }
    // Their deletion is on the audit trail: one expire event of the table
    // naming exactly those files (no batch: orphans belong to none).
    let events = env
        .ms
        .events(&EventQuery {
            action: Some(Action::Expire),
            table: Some(t.clone()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    let orphan_events: Vec<BTreeSet<String>> = events
        .items
        .iter()
        .filter_map(|e| e.details.as_ref()?.get("orphan_files")?.as_array().cloned())
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .collect();
    assert_eq!(orphan_events, vec![listed.clone()]);
    assert!(exists(&env, &iceberg).await && exists(&env, &foreign).await);
    for f in &a1.files {
        assert!(
            exists(&env, &f.path).await,
            "{} of the current batch",
            f.path
        );
    }
    for b in [&abandoned, &first_write] {
        assert_eq!(
            env.ms.batch(&t, &b.id).await.unwrap().state,
            BatchState::Expired
        );
    }
    assert_eq!(env.load(&t, "day=a").await.num_rows(), 3);
    let again = env.ms.gc(&env.ctx, &now).await.unwrap();
    assert!(again.orphans.is_empty() && again.collected.is_empty());
    let report = env.ms.verify().await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
}

/// `retention.keep_inputs_of_pinned`: a batch a pinned batch was built
/// from survives, naming that batch; without the property it goes.
pub async fn inputs_of_pinned(env: Env, clock: Arc<PastClock>) {
    clock.days_ago(31.0);
    let raw = env.table("sales", "raw", &[("day", KeyType::String)]).await;
    let summary = env
        .table("sales", "summary", &[("day", KeyType::String)])
        .await;
    let r1 = env.store(&raw, "day=a", 0, 3, "r1").await.batch.id;
    let r2 = env.store(&raw, "day=a", 0, 3, "r2").await.batch.id;
    let s1 = env
        .store_with(
            &summary,
            "day=a",
            frame(0, 1, "s1"),
            &StoreOptions {
                inputs: Inputs::Only(vec![r1.clone()]),
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap()
        .batch
        .id;
    clock.days_ago(30.0);
    let _r3 = env.store(&raw, "day=a", 0, 3, "r3").await.batch.id;
    env.store(&summary, "day=a", 0, 1, "s2").await;
    clock.days_ago(0.0);
    let pin = NewPin {
        name: PinName::new("audit").unwrap(),
        owner: None,
        reason: None,
        target: PinTarget::Batch {
            partition: env
                .ms
                .partition(&summary, &PartitionSpec::parse("day=a").unwrap())
                .await
                .unwrap(),
            batch: s1.clone(),
        },
        expires_at: None,
    };
    env.ms.create_pin(&env.ctx, &summary, &pin).await.unwrap();
    let req = GcRequest {
        table: Some(raw.clone()),
        older_than: Some(TimeDelta::days(10)),
        ..GcRequest::default()
    };
    let gone = |r: &batchmeta::GcReport| -> BTreeSet<String> {
        r.collected.iter().map(|c| c.batch.to_string()).collect()
    };
    let without = env.ms.gc(&env.ctx, &req).await.unwrap();
    assert_eq!(
        gone(&without),
        BTreeSet::from([r1.to_string(), r2.to_string()])
    );

    env.ms
        .update_namespace(
            &env.ctx,
            &raw.namespace,
            &MetadataUpdate {
                set_properties: [(
                    "retention.keep_inputs_of_pinned".to_owned(),
                    "true".to_owned(),
                )]
                .into(),
                ..MetadataUpdate::default()
            },
        )
        .await
        .unwrap();
    let dry = env.ms.gc(&env.ctx, &req).await.unwrap();
    assert_eq!(gone(&dry), BTreeSet::from([r2.to_string()]));
    let why = dry
        .survivors
        .iter()
        .find(|s| s.batch == r1)
        .map(|s| s.why.clone());
    assert_eq!(
        why.as_deref(),
        Some(format!("input of pinned {s1} (pinned by audit)").as_str())
    );
    let applied = env
        .ms
        .gc(
            &env.ctx,
            &GcRequest {
                apply: true,
                ..req.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(applied.collected, dry.collected);
    assert_eq!(
        env.ms.batch(&raw, &r1).await.unwrap().state,
        BatchState::Committed
    );
    // A bad value is refused and changes nothing.
    let before = env.snapshot().await;
    let e = env
        .ms
        .update_table(
            &env.ctx,
            &raw,
            &MetadataUpdate {
                set_properties: [(
                    "retention.keep_inputs_of_pinned".to_owned(),
                    "yes".to_owned(),
                )]
                .into(),
                ..MetadataUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is(batchmeta::Code::InvalidRetention), "{e}");
    assert_eq!(env.snapshot().await, before);
}
