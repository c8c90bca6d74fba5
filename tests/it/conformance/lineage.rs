//! Lineage by batch: a run's reads become its stores' inputs, the walks up
//! and down, a rollback's impact, stale batches, and refused inputs.

use batchmeta::model::{
    Action, BatchId, Direction, EventQuery, KeyType, PartitionSpec, RollbackRequest, TableIdent,
    Version,
};
use batchmeta::{Code, Inputs, Metastore, PublishOptions, PublishSpec, Run, StoreOptions};

use crate::harness::{Env, frame, stream_of};

const P: &str = "date=2016-10-31";

fn spec() -> PartitionSpec {
    PartitionSpec::parse(P).unwrap()
}

/// Reads partition `P` of `t` at `version` through `ms` (its run notes it).
async fn read(ms: &Metastore, t: &TableIdent, version: Version) {
    let req = batchmeta::ReadRequest {
        resolve: batchmeta::ResolveRequest {
            partitions: Some(vec![spec()]),
            version,
        },
        columns: None,
        filters: vec![],
    };
    let (_, s) = ms.read(t, &req).await.unwrap();
    let _: Vec<_> = futures::TryStreamExt::try_collect(s).await.unwrap();
}

/// Stores a small frame into partition `P` of `t` through `ms`.
async fn store(ms: &Metastore, env: &Env, t: &TableIdent, inputs: Inputs) -> BatchId {
    let b = frame(0, 2, "x");
    ms.store(
        &env.ctx,
        t,
        &spec(),
        b.schema(),
        stream_of(vec![b]),
        &StoreOptions {
            inputs,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .batch
    .id
}

async fn inputs_of(env: &Env, b: &BatchId) -> Vec<BatchId> {
    let mut v: Vec<BatchId> = env
        .ms
        .input_batches(std::slice::from_ref(b))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.input.batch)
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<BatchId>) -> Vec<BatchId> {
    v.sort();
    v
}

pub async fn a_run_records_what_it_read_and_rollback_names_what_it_fed(env: &Env) {
    let keys = [("date", KeyType::Date)];
    let (a, x, b, c) = (
        env.table("lin", "a", &keys).await,
        env.table("lin", "x", &keys).await,
        env.table("lin", "b", &keys).await,
        env.table("lin", "c", &keys).await,
    );
    let a0 = env.store(&a, P, 0, 2, "a0").await.batch.id;
    let a1 = env.store(&a, P, 0, 2, "a1").await.batch.id;
    let x0 = env.store(&x, P, 0, 2, "x0").await.batch.id;
    let job = env
        .ms
        .clone()
        .with_run(Run::in_memory("run-1", Some("nightly".into())).unwrap());

    // Two loads, one store: exactly the two batches read.
    read(&job, &a, Version::Current).await;
    read(&job, &x, Version::Current).await;
    let b1 = store(&job, env, &b, Inputs::Tracked).await;
    assert_eq!(
        inputs_of(env, &b1).await,
        sorted(vec![a1.clone(), x0.clone()])
    );
    // A second store without new loads records the same inputs.
    let b1again = store(&job, env, &b, Inputs::Tracked).await;
    assert_eq!(
        inputs_of(env, &b1again).await,
        sorted(vec![a1.clone(), x0.clone()])
    );
    let batch = env.ms.batch(&b, &b1again).await.unwrap();
    assert_eq!(
        batch.metadata.get("run_id").map(String::as_str),
        Some("run-1")
    );
    assert_eq!(
        batch.metadata.get("job").map(String::as_str),
        Some("nightly")
    );
    let publish = env
        .ms
        .events(&EventQuery {
            namespace: Some(b.namespace.clone()),
            table: Some(b.clone()),
            action: Some(Action::Publish),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(publish.to_batch.as_ref(), Some(&b1again));
    assert_eq!(
        publish.metadata.get("run_id").map(String::as_str),
        Some("run-1")
    );
    let recorded = publish.details.unwrap()["inputs"].clone();
    assert_eq!(recorded.as_array().map(Vec::len), Some(2), "{recorded}");

    // A read of an older version records the batch actually read.
    read(&job, &a, Version::Batch(a0.clone())).await;
    let b_old_a = store(&job, env, &b, Inputs::Only(vec![])).await;
    assert_eq!(
        inputs_of(env, &b_old_a).await,
        vec![],
        "Only([]) records none"
    );
    let b_pinned = store(&job, env, &b, Inputs::Tracked).await;
    assert_eq!(inputs_of(env, &b_pinned).await, vec![a0.clone()]);

    // The chain a -> b -> c.
    read(&job, &a, Version::Current).await;
    let b2 = store(&job, env, &b, Inputs::Tracked).await;
    read(&job, &b, Version::Current).await;
    let c1 = store(&job, env, &c, Inputs::Tracked).await;
    let up = env
        .ms
        .lineage(&c, &spec(), None, Direction::Up, None)
        .await
        .unwrap();
    let seen: Vec<(u32, &BatchId)> = up.nodes.iter().map(|n| (n.depth, &n.batch.batch)).collect();
    assert_eq!(seen, vec![(1, &b2), (2, &a1)]);
    let up1 = env
        .ms
        .lineage(&c, &spec(), None, Direction::Up, Some(1))
        .await
        .unwrap();
    assert_eq!(up1.nodes.len(), 1);
    let down = env
        .ms
        .lineage(&a, &spec(), Some(&a1), Direction::Down, None)
        .await
        .unwrap();
    let current: Vec<&BatchId> = down
        .nodes
        .iter()
        .filter(|n| n.current)
        .map(|n| &n.batch.batch)
        .collect();
    assert_eq!(current, vec![&b2, &c1], "{down:?}");
    assert!(down.nodes.iter().any(|n| n.batch.batch == b1 && !n.current));

    // Rolling a back: its dry run and the rollback name b's and c's current batches.
    let dry = env
        .ms
        .rollback_impact(&a, &spec(), &RollbackRequest::default())
        .await
        .unwrap();
    let affected = |i: &batchmeta::model::RollbackImpact| -> Vec<BatchId> {
        i.affected.iter().map(|n| n.batch.batch.clone()).collect()
    };
    assert_eq!(affected(&dry), vec![b2.clone(), c1.clone()]);
    assert_eq!(
        env.ms
            .lineage(&a, &spec(), None, Direction::Up, None)
            .await
            .unwrap()
            .root
            .batch,
        a1,
        "a dry run moves nothing"
    );
    let done = env
        .ms
        .rollback_with_impact(&env.ctx, &a, &spec(), &RollbackRequest::default())
        .await
        .unwrap();
    assert_eq!(done.event.to_batch.as_ref(), Some(&a0));
    assert_eq!(affected(&done.impact), vec![b2.clone(), c1.clone()]);
    let stale = env.ms.stale(None, None).await.unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].batch.batch, b2);
    assert_eq!(stale[0].stale_inputs[0].input.batch, a1);
    assert_eq!(stale[0].stale_inputs[0].current_batch.as_ref(), Some(&a0));

    // Rebuilt from the rolled-back a: nothing current is built from a1 any more.
    read(&job, &a, Version::Current).await;
    let b3 = store(&job, env, &b, Inputs::Tracked).await;
    assert_eq!(inputs_of(env, &b3).await, vec![a0.clone()]);
    read(&job, &b, Version::Current).await;
    store(&job, env, &c, Inputs::Tracked).await;
    let after = env
        .ms
        .lineage(&a, &spec(), Some(&a1), Direction::Down, None)
        .await
        .unwrap();
    assert!(after.nodes.iter().all(|n| !n.current), "{after:?}");
    assert!(env.ms.stale(None, None).await.unwrap().is_empty());
}

/// A run that spans processes: each `Metastore` stands for one `meta`
/// invocation; the reads live in the catalog between them.
pub async fn a_durable_run_carries_reads_between_processes(env: &Env) {
    let keys = [("date", KeyType::Date)];
    let (a, b) = (
        env.table("dur", "a", &keys).await,
        env.table("dur", "b", &keys).await,
    );
    let a0 = env.store(&a, P, 0, 2, "a0").await.batch.id;
    let process = || {
        env.ms
            .clone()
            .with_run(Run::durable("sched:2016-10-31T00:00:00+00:00", None).unwrap())
    };
    read(&process(), &a, Version::Current).await;
    let b0 = store(&process(), env, &b, Inputs::Tracked).await;
    assert_eq!(inputs_of(env, &b0).await, vec![a0.clone()]);
    let b1 = store(&process(), env, &b, Inputs::Tracked).await;
    assert_eq!(
        inputs_of(env, &b1).await,
        vec![a0.clone()],
        "no new reads: the same"
    );
    // Another run's reads are its own.
    let other = env
        .ms
        .clone()
        .with_run(Run::durable("other", None).unwrap());
    let b2 = store(&other, env, &b, Inputs::Tracked).await;
    assert_eq!(inputs_of(env, &b2).await, vec![]);
    // Explicit inputs add to the tracked ones.
    let b3 = store(&process(), env, &b, Inputs::Add(vec![b0.clone()])).await;
    assert_eq!(inputs_of(env, &b3).await, sorted(vec![a0, b0]));
}

pub async fn bad_lineage_inputs_are_refused_and_record_nothing(env: &Env) {
    let keys = [("date", KeyType::Date)];
    let t = env.table("bad", "t", &keys).await;
    let good = env.store(&t, P, 0, 2, "ok").await.batch.id;
    let staged = env
        .ms
        .stage(&env.ctx, &t, &[spec()], &Default::default())
        .await
        .unwrap()
        .remove(0);
    let before = env.snapshot().await;
    let unknown = BatchId::parse("20000101000000000001").unwrap();
    let too_many: Vec<BatchId> = (0..=batchmeta::model::MAX_INPUTS)
        .map(|i| BatchId::parse(&format!("2000010100000{i:07}")).unwrap())
        .collect();
    let cases = [
        (
            "unknown input",
            vec![good.clone(), unknown],
            Code::InputBatchNotFound,
        ),
        (
            "staged input",
            vec![staged.id.clone()],
            Code::InputNotCommitted,
        ),
        ("too many inputs", too_many, Code::TooManyInputs),
    ];
    for (label, inputs, code) in cases {
        let b = frame(0, 2, "x");
        let e = env
            .ms
            .store(
                &env.ctx,
                &t,
                &spec(),
                b.schema(),
                stream_of(vec![b]),
                &StoreOptions {
                    inputs: Inputs::Only(inputs),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(e.is(code), "{label}: {e:?}");
        assert_eq!(e.kind(), batchmeta::ErrorKind::InvalidInput, "{label}");
        assert_eq!(env.snapshot().await, before, "{label} changed something");
    }
    // A batch listed as an input of its own publish.
    let other = env
        .ms
        .stage(&env.ctx, &t, &[spec()], &Default::default())
        .await
        .unwrap()
        .remove(0);
    let b = frame(0, 2, "y");
    env.ms
        .write(
            &t,
            &other.id,
            b.schema(),
            stream_of(vec![b]),
            Default::default(),
        )
        .await
        .unwrap();
    let before = env.snapshot().await;
    let e = env
        .ms
        .publish(
            &env.ctx,
            &t,
            &[PublishSpec {
                partition: spec(),
                batch: other.id.clone(),
                expect: None,
            }],
            &PublishOptions {
                inputs: vec![other.id.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is(Code::LineageCycle), "{e:?}");
    assert_eq!(env.snapshot().await, before, "a cycle changed something");
    assert_eq!(inputs_of(env, &other.id).await, vec![]);
    // A bad depth.
    let e = env
        .ms
        .lineage(&t, &spec(), None, Direction::Up, Some(0))
        .await
        .unwrap_err();
    assert!(e.is(Code::InvalidLimit), "{e:?}");
}
