//! Retention (`gc`, docs/retention.md) on every backend pair: a truth table
//! of batches across ages × current / pinned by batch / pinned by as-of /
//! in grace / in flight / abandoned / rolled back from / within keep-last /
//! parent of the current batch; `gc --apply` collects exactly the expected
//! set, the dry run listed exactly that set, refusals name the expiry, and
//! `verify` knows expired batches yet still finds a missing live file.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use batchmeta::catalog::Clock;
use batchmeta::model::{
    Action, BatchId, BatchState, EventQuery, KeyType, NewPin, PartitionSpec, PinName, PinTarget,
    RollbackRequest, TableIdent,
};
use batchmeta::{Code, GcRequest, StageOptions};
use chrono::{DateTime, TimeDelta, Utc};
use object_store::ObjectStoreExt;

use crate::harness::Env;

mod collect;
mod races;
use crate::services::{self, POSTGRES_URL, S3_URL, Warehouse};

/// A clock `offset` behind the system clock, set by the test to make old batches.
#[derive(Debug, Default)]
pub struct PastClock {
    offset: Mutex<TimeDelta>,
}

impl PastClock {
    fn days_ago(&self, d: f64) {
        *self.offset.lock().unwrap() = TimeDelta::seconds((d * 86_400.0) as i64);
    }
}

impl Clock for PastClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() - *self.offset.lock().unwrap()
    }
}

async fn store(env: &Env, clock: &PastClock, t: &TableIdent, p: &str, days: f64) -> BatchId {
    clock.days_ago(days);
    env.store(t, p, 0, 3, p).await.batch.id
}

fn ids(v: impl IntoIterator<Item = BatchId>) -> BTreeSet<String> {
    v.into_iter().map(|b| b.to_string()).collect()
}

/// The truth table: builds every kind of batch, runs the dry run and the
/// apply, and checks what is left.
pub async fn truth_table(env: Env, clock: Arc<PastClock>) {
    // Event times never step back: the table's creation comes first.
    clock.days_ago(31.0);
    let t = env
        .table("sales", "items", &[("day", KeyType::String)])
        .await;
    // Partition a: old, pinned by batch, pinned by as-of, parent of current,
    // rolled back from, an abandoned and an in-flight staged batch.
    let a1 = store(&env, &clock, &t, "day=a", 30.0).await;
    let a2 = store(&env, &clock, &t, "day=a", 29.0).await;
    let a3 = store(&env, &clock, &t, "day=a", 28.0).await;
    clock.days_ago(27.5);
    let as_of = clock.now();
    let a4 = store(&env, &clock, &t, "day=a", 27.0).await;
    let a5 = store(&env, &clock, &t, "day=a", 26.0).await;
    clock.days_ago(25.0);
    let back = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &PartitionSpec::parse("day=a").unwrap(),
            &RollbackRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(back.to_batch.as_ref(), Some(&a4));
    clock.days_ago(20.0);
    let abandoned = env
        .ms
        .stage(
            &env.ctx,
            &t,
            &[PartitionSpec::parse("day=a").unwrap()],
            &StageOptions::default(),
        )
        .await
        .unwrap()
        .remove(0)
        .id;
    // Event times never step back, so every store below is in time order.
    // Partition b: beyond keep-last and old (collected), within keep-last.
    let b1 = store(&env, &clock, &t, "day=b", 20.0).await;
    let b2 = store(&env, &clock, &t, "day=b", 19.0).await;
    let b3 = store(&env, &clock, &t, "day=b", 18.0).await;
    // Partition d: beyond keep-last, past grace, younger than --older-than.
    let d1 = store(&env, &clock, &t, "day=d", 9.0).await;
    let d2 = store(&env, &clock, &t, "day=d", 8.5).await;
    let d3 = store(&env, &clock, &t, "day=d", 8.2).await;
    let a6 = store(&env, &clock, &t, "day=a", 8.0).await;
    let b4 = store(&env, &clock, &t, "day=b", 7.5).await;
    // Partition c: beyond keep-last but in grace.
    let c1 = store(&env, &clock, &t, "day=c", 6.0).await;
    let c2 = store(&env, &clock, &t, "day=c", 5.0).await;
    let c3 = store(&env, &clock, &t, "day=c", 4.0).await;
    clock.days_ago(1.0);
    let in_flight = env
        .ms
        .stage(
            &env.ctx,
            &t,
            &[PartitionSpec::parse("day=a").unwrap()],
            &StageOptions::default(),
        )
        .await
        .unwrap()
        .remove(0)
        .id;
    clock.days_ago(0.0);
    for (name, target) in [
        (
            "report",
            PinTarget::Batch {
                partition: env
                    .ms
                    .partition(&t, &PartitionSpec::parse("day=a").unwrap())
                    .await
                    .unwrap(),
                batch: a2.clone(),
            },
        ),
        ("month_end", PinTarget::AsOf { at: as_of }),
    ] {
        let pin = NewPin {
            name: PinName::new(name).unwrap(),
            owner: None,
            reason: Some("a report depends on it".into()),
            target,
            expires_at: None,
        };
        env.ms.create_pin(&env.ctx, &t, &pin).await.unwrap();
    }

    let req = GcRequest {
        table: Some(t.clone()),
        older_than: Some(TimeDelta::days(10)),
        keep_last: Some(2),
        ..GcRequest::default()
    };
    // Nothing is collected without a policy or a flag.
    let none = env
        .ms
        .gc(
            &env.ctx,
            &GcRequest {
                table: Some(t.clone()),
                ..GcRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        ids(none.collected.iter().map(|c| c.batch.clone())),
        ids([abandoned.clone()])
    );

    let before = env.snapshot().await;
    let dry = env.ms.gc(&env.ctx, &req).await.unwrap();
    assert_eq!(env.snapshot().await, before, "a dry run changes nothing");
    let expected = ids([a1.clone(), abandoned.clone(), b1.clone(), b2.clone()]);
    assert_eq!(ids(dry.collected.iter().map(|c| c.batch.clone())), expected);
    let why = |b: &BatchId| {
        dry.survivors
            .iter()
            .find(|s| s.batch == *b)
            .map(|s| s.why.clone())
            .unwrap_or_else(|| panic!("{b} is not listed as a survivor"))
    };
    assert_eq!(why(&a2), "pinned by report");
    assert_eq!(why(&a3), "pinned by month_end");
    assert_eq!(why(&a4), "parent of the current batch within keep-last");
    assert_eq!(why(&a5), "within keep-last");
    assert_eq!(why(&a6), "current");
    assert_eq!(why(&in_flight), "in flight (staged, in grace)");
    assert_eq!(why(&b3), "within keep-last");
    assert_eq!(why(&b4), "current");
    assert_eq!(why(&c1), "in grace");
    assert_eq!(why(&c2), "in grace");
    assert_eq!(why(&c3), "current");
    assert_eq!(why(&d1), "younger than the policy's max age");
    assert_eq!(why(&d2), "within keep-last");
    assert_eq!(why(&d3), "current");
    assert_eq!(dry.survivors.len(), 14);

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
    assert_eq!(
        applied.collected, dry.collected,
        "the apply deletes what the dry run listed"
    );
    assert!(applied.skipped.is_empty());
    assert!(applied.files >= 3 && applied.bytes > 0);
    for b in [&a1, &abandoned, &b1, &b2] {
        let got = env.ms.batch(&t, b).await.unwrap();
        assert_eq!(got.state, BatchState::Expired, "{b}");
        assert_eq!(got.expired.as_ref().unwrap().by, "tester");
        for f in &got.files {
            let head = env
                .storage
                .store()
                .head(&batchmeta::storage::object_path(&f.path).unwrap())
                .await;
            assert!(
                matches!(head, Err(object_store::Error::NotFound { .. })),
                "{} still exists",
                f.path
            );
        }
    }
    for b in [
        &a2, &a3, &a4, &a5, &a6, &b3, &b4, &c1, &c2, &c3, &d1, &d2, &d3,
    ] {
        let got = env.ms.batch(&t, b).await.unwrap();
        assert_eq!(got.state, BatchState::Committed, "{b}");
        for f in &got.files {
            env.storage
                .store()
                .head(&batchmeta::storage::object_path(&f.path).unwrap())
                .await
                .unwrap();
        }
    }
    // Every reader still reads whole batches; pins still read.
    assert_eq!(env.load(&t, "day=a").await.num_rows(), 3);
    let report = env.ms.verify().await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);

    // One audit event per deletion, with its files.
    let events = env
        .ms
        .events(&EventQuery {
            action: Some(Action::Expire),
            table: Some(t.clone()),
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(events.items.iter().filter_map(|e| e.from_batch.clone())),
        expected
    );

    // Refusals name the expiry.
    let p = PartitionSpec::parse("day=a").unwrap();
    let e = env
        .ms
        .rollback(
            &env.ctx,
            &t,
            &p,
            &RollbackRequest {
                to: Some(a1.clone()),
                ..RollbackRequest::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is(Code::BatchExpired), "{e}");
    assert!(
        e.to_string().contains("expired by retention at") && e.to_string().contains("tester"),
        "{e}"
    );
    let pin = NewPin {
        name: PinName::new("late").unwrap(),
        owner: None,
        reason: None,
        target: PinTarget::Batch {
            partition: env.ms.partition(&t, &p).await.unwrap(),
            batch: a1.clone(),
        },
        expires_at: None,
    };
    assert!(
        env.ms
            .create_pin(&env.ctx, &t, &pin)
            .await
            .unwrap_err()
            .is(Code::BatchExpired)
    );

    // A rerun deletes nothing twice.
    let again = env
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
    assert!(again.collected.is_empty(), "{:?}", again.collected);

    // Verify still finds a missing file of a live batch (negative control).
    let live = env.ms.batch(&t, &a2).await.unwrap();
    env.storage
        .store()
        .delete(&batchmeta::storage::object_path(&live.files[0].path).unwrap())
        .await
        .unwrap();
    let report = env.ms.verify().await.unwrap();
    assert_eq!(report.violations.len(), 1, "{:?}", report.violations);
    assert!(report.violations[0].subject.contains(&a2.to_string()));
}

/// A grace period under an hour is refused without force, and changes nothing.
pub async fn short_grace_is_refused(env: Env) {
    let t = env
        .table("sales", "items", &[("day", KeyType::String)])
        .await;
    env.store(&t, "day=a", 0, 3, "x").await;
    let before = env.snapshot().await;
    let req = GcRequest {
        table: Some(t.clone()),
        grace: Some(TimeDelta::minutes(5)),
        older_than: Some(TimeDelta::zero()),
        apply: true,
        ..GcRequest::default()
    };
    let e = env.ms.gc(&env.ctx, &req).await.unwrap_err();
    assert!(e.is(Code::GraceTooShort), "{e}");
    assert_eq!(env.snapshot().await, before);
}

macro_rules! retention_on {
    ($name:ident, $env:path) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn truth_table() {
                let clock = Arc::new(PastClock::default());
                let Some(env) = $env(clock.clone()).await else {
                    return;
                };
                super::truth_table(env, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn gc_races_writers() {
                let clock = Arc::new(PastClock::default());
                let Some(env) = $env(clock.clone()).await else {
                    return;
                };
                super::races::gc_races_writers(env, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn orphans() {
                let clock = Arc::new(PastClock::default());
                let Some(env) = $env(clock.clone()).await else {
                    return;
                };
                super::collect::orphans(env, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn inputs_of_pinned() {
                let clock = Arc::new(PastClock::default());
                let Some(env) = $env(clock.clone()).await else {
                    return;
                };
                super::collect::inputs_of_pinned(env, clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn short_grace_is_refused() {
                let Some(env) = $env(Arc::new(PastClock::default())).await else {
                    return;
                };
                super::short_grace_is_refused(env).await;
            }
        }
    };
}

async fn sqlite_local_env(c: Arc<PastClock>) -> Option<Env> {
    Some(services::sqlite_env(c, Warehouse::Local).await)
}

async fn postgres_local_env(c: Arc<PastClock>) -> Option<Env> {
    let server = services::service(POSTGRES_URL)?;
    Some(services::postgres_env(&server, c, Warehouse::Local).await)
}

async fn sqlite_s3_env(c: Arc<PastClock>) -> Option<Env> {
    let s3 = services::service(S3_URL)?;
    Some(services::sqlite_env(c, Warehouse::S3(s3)).await)
}

async fn postgres_s3_env(c: Arc<PastClock>) -> Option<Env> {
    let s3 = services::service(S3_URL)?;
    let server = services::service(POSTGRES_URL)?;
    Some(services::postgres_env(&server, c, Warehouse::S3(s3)).await)
}

retention_on!(sqlite_local, super::sqlite_local_env);
retention_on!(postgres_local, super::postgres_local_env);
retention_on!(sqlite_s3, super::sqlite_s3_env);
retention_on!(postgres_s3, super::postgres_s3_env);
