//! gc racing 8 writers that publish, roll back to and pin old batches of
//! the same partitions (bounded rounds): no batch that was current or
//! pinned at any moment after the gc began is ever expired, `verify` stays
//! clean and every read is a whole batch. The check replays the audit
//! trail: at each `expire` event, the partition's pointer (replayed from its
//! moves) must not name the batch, and no pin may ever have been created on
//! it (pins are never deleted here).

use std::collections::HashMap;
use std::sync::Arc;

use batchmeta::model::{
    Action, BatchId, Event, EventQuery, KeyType, NewPin, Order, PartitionSpec, PinName, PinTarget,
    RollbackRequest, TableIdent,
};
use batchmeta::{Code, GcRequest};
use chrono::TimeDelta;

use super::PastClock;
use crate::harness::Env;

const WRITERS: usize = 8;
const ROUNDS: usize = 12;
const PARTITIONS: [&str; 2] = ["day=a", "day=b"];

/// Every violation of "never expire a batch current or pinned", from the
/// audit trail of table `t`.
pub async fn protected_expiries(env: &Env, t: &TableIdent) -> Vec<String> {
    let mut events: Vec<Event> = Vec::new();
    let mut q = EventQuery {
        table: Some(t.clone()),
        order: Order::OldestFirst,
        limit: Some(1000),
        ..EventQuery::default()
    };
    loop {
        let page = env.ms.events(&q).await.unwrap();
        events.extend(page.items);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    events.sort_by_key(|e| e.id);
    let mut current: HashMap<String, BatchId> = HashMap::new();
    let mut pinned: Vec<BatchId> = Vec::new();
    let mut out = Vec::new();
    for e in &events {
        match e.action {
            Action::Publish | Action::Rollback => {
                if let (Some(p), Some(to)) = (&e.partition, &e.to_batch) {
                    current.insert(p.clone(), to.clone());
                }
            }
            Action::CreatePin => pinned.extend(e.to_batch.clone()),
            Action::Expire => {
                let (Some(p), Some(b)) = (&e.partition, &e.from_batch) else {
                    continue;
                };
                if current.get(p) == Some(b) {
                    out.push(format!(
                        "event {}: expired {b}, the current batch of {p}",
                        e.id
                    ));
                }
                if pinned.contains(b) {
                    out.push(format!("event {}: expired {b}, which a pin holds", e.id));
                }
            }
            _ => {}
        }
    }
    out
}

pub async fn gc_races_writers(env: Env, clock: Arc<PastClock>) {
    clock.days_ago(31.0);
    let t = env
        .table("sales", "items", &[("day", KeyType::String)])
        .await;
    let mut old: Vec<(String, BatchId)> = Vec::new();
    for i in 0..10 {
        for p in PARTITIONS {
            clock.days_ago(30.0 - f64::from(i));
            old.push((p.to_owned(), env.store(&t, p, 0, 3, p).await.batch.id));
        }
    }
    clock.days_ago(0.0);
    let env = Arc::new(env);
    let old = Arc::new(old);
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (env, t, old) = (env.clone(), t.clone(), old.clone());
        tasks.push(tokio::spawn(async move {
            for r in 0..ROUNDS {
                // Only the older half is raced; the newer half is collected for sure.
                let (p, b) = &old[(w * 7 + r * 3) % (old.len() / 2)];
                let spec = PartitionSpec::parse(p).unwrap();
                match (w + r) % 3 {
                    0 => {
                        env.store(&t, p, 0, 3, p).await;
                    }
                    1 => {
                        let req = RollbackRequest {
                            to: Some(b.clone()),
                            ..RollbackRequest::default()
                        };
                        if let Err(e) = env.ms.rollback(&env.ctx, &t, &spec, &req).await {
                            assert!(
                                e.is(Code::BatchExpired) || e.is(Code::AlreadyCurrent),
                                "{e}"
                            );
                        }
                    }
                    _ => {
                        let pin = NewPin {
                            name: PinName::new(format!("w{w}_r{r}")).unwrap(),
                            owner: None,
                            reason: None,
                            target: PinTarget::Batch {
                                partition: env.ms.partition(&t, &spec).await.unwrap(),
                                batch: b.clone(),
                            },
                            expires_at: None,
                        };
                        if let Err(e) = env.ms.create_pin(&env.ctx, &t, &pin).await {
                            assert!(e.is(Code::BatchExpired), "{e}");
                        }
                    }
                }
                let got = env.load(&t, p).await;
                assert_eq!(got.num_rows(), 3, "a reader read a whole batch");
            }
        }));
    }
    let req = GcRequest {
        table: Some(t.clone()),
        older_than: Some(TimeDelta::zero()),
        keep_last: Some(1),
        apply: true,
        ..GcRequest::default()
    };
    let mut collected = 0;
    let mut skipped = 0;
    while !tasks.iter().all(|t| t.is_finished()) {
        let r = env.ms.gc(&env.ctx, &req).await.unwrap();
        collected += r.batches;
        skipped += r.skipped.len();
    }
    for t in tasks {
        t.await.unwrap();
    }
    collected += env.ms.gc(&env.ctx, &req).await.unwrap().batches;
    eprintln!("gc race: {collected} batches collected, {skipped} skipped on re-check");
    assert!(
        collected > 0,
        "the race collected nothing: it tested nothing"
    );
    let bad = protected_expiries(&env, &t).await;
    assert!(bad.is_empty(), "{bad:#?}");
    let report = env.ms.verify().await.unwrap();
    assert!(report.is_clean(), "{:?}", report.violations);
}
