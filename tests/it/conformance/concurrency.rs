use std::collections::HashMap;

use batchmeta::model::{
    Action, BatchId, EventQuery, Expect, KeyType, Order, PartitionSpec, TableIdent,
};
use batchmeta::{ErrorKind, StoreOptions};

use crate::harness::{Env, frame};

/// Replays every pointer move of `t` (oldest first) and checks it reproduces
/// each partition's pointer; returns the number of moves.
pub async fn replay_matches_pointers(env: &Env, t: &TableIdent) -> usize {
    let mut pointer: HashMap<String, BatchId> = HashMap::new();
    let mut moves = 0;
    let mut cursor = None;
    loop {
        let page = env
            .ms
            .events(&EventQuery {
                table: Some(t.clone()),
                order: Order::OldestFirst,
                cursor: cursor.clone(),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        for e in page.items.iter().filter(|e| e.action.moves_pointer()) {
            let p = e.partition.clone().unwrap();
            assert_eq!(
                pointer.get(&p),
                e.from_batch.as_ref(),
                "event {} does not continue the chain",
                e.id
            );
            pointer.insert(p, e.to_batch.clone().unwrap());
            moves += 1;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    for info in env
        .ms
        .partitions(t, &Default::default())
        .await
        .unwrap()
        .items
    {
        assert_eq!(pointer.get(&info.partition.path()), Some(&info.current));
    }
    moves
}

pub async fn concurrent_publishes_without_cas_serialize(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let mut acked = Vec::new();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let ms = env.ms.clone();
            let ctx = env.ctx.clone();
            let t = t.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..50 {
                    let rb = frame(i, 1, &format!("t{task}"));
                    let s = ms
                        .store(
                            &ctx,
                            &t,
                            &PartitionSpec::parse("d=hot").unwrap(),
                            rb.schema(),
                            crate::harness::stream_of(vec![rb]),
                            &StoreOptions::default(),
                        )
                        .await
                        .unwrap();
                    mine.push(s.batch.id);
                }
                mine
            })
        })
        .collect();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    assert_eq!(acked.len(), 400);
    let publishes = env
        .ms
        .events(&EventQuery {
            table: Some(t.clone()),
            action: Some(Action::Publish),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(publishes.len(), 400, "every publish is an event");
    let published: std::collections::HashSet<_> = publishes
        .iter()
        .map(|e| e.to_batch.clone().unwrap())
        .collect();
    assert!(
        acked.iter().all(|b| published.contains(b)),
        "no acknowledged publish is lost"
    );
    let current = env
        .ms
        .partitions(&t, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(
        Some(&current.current),
        publishes[0].to_batch.as_ref(),
        "the pointer is the last event's to"
    );
    assert_eq!(current.version, 400);
    assert_eq!(replay_matches_pointers(env, &t).await, 400);
}

pub async fn concurrent_publishes_with_cas_have_one_winner(env: &Env) {
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let base = env.store(&t, "d=hot", 0, 1, "base").await.batch.id;
    let mut expected = base.clone();
    for round in 0..10 {
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let ms = env.ms.clone();
                let ctx = env.ctx.clone();
                let t = t.clone();
                let expect = expected.clone();
                tokio::spawn(async move {
                    let rb = frame(round, 1, &format!("r{round}t{task}"));
                    let opts = StoreOptions {
                        expect: Some(Expect::Batch(expect)),
                        ..Default::default()
                    };
                    ms.store(
                        &ctx,
                        &t,
                        &PartitionSpec::parse("d=hot").unwrap(),
                        rb.schema(),
                        crate::harness::stream_of(vec![rb]),
                        &opts,
                    )
                    .await
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(s) => winners.push(s.batch.id),
                Err(e) => losers.push(e),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one winner per expected batch"
        );
        assert_eq!(losers.len(), 7);
        for e in losers {
            assert_eq!(e.kind(), ErrorKind::Conflict);
            assert!(
                e.to_string().contains(winners[0].as_str()),
                "the conflict names the current batch: {e}"
            );
            match e {
                batchmeta::Error::Conflict { current, .. } => {
                    assert_eq!(current.as_ref(), Some(&winners[0]))
                }
                other => panic!("{other}"),
            }
        }
        expected = winners[0].clone();
    }
    assert_eq!(replay_matches_pointers(env, &t).await, 11);
    assert!(env.ms.verify().await.unwrap().is_clean());
}
