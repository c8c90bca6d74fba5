//! The conformance suite on PostgreSQL (a fresh database per test) with a
//! local warehouse, and what only PostgreSQL has: the durability check,
//! migrations racing between replicas, several pools on one database, the
//! append-only triggers and the change feed under concurrent writers.

use std::collections::BTreeSet;
use std::sync::Arc;

use batchmeta::catalog::{Clock, PostgresCatalog, PostgresOptions, SystemClock, connect_catalog};
use batchmeta::model::{Action, EventQuery, KeyType, Order, PartitionSpec};
use batchmeta::{Config, Metastore, StoreOptions};
use sqlx::{Connection, PgConnection};

use crate::harness::{Env, frame, stream_of};
use crate::services::{self, POSTGRES_NOFSYNC_URL, POSTGRES_URL, Warehouse};

async fn env_with_clock(clock: Arc<dyn Clock>) -> Option<Env> {
    let server = services::service(POSTGRES_URL)?;
    Some(services::postgres_env(&server, clock, Warehouse::Local).await)
}

async fn env() -> Option<Env> {
    env_with_clock(Arc::new(SystemClock)).await
}

crate::conformance::tests_on!(env);

#[tokio::test]
async fn batch_ids_increase_when_the_clock_steps_back() {
    let Some(server) = services::service(POSTGRES_URL) else {
        return;
    };
    crate::conformance::batch_ids_with_a_stepping_clock(|clock| async move {
        services::postgres_env(&server, clock, Warehouse::Local).await
    })
    .await;
}

#[tokio::test]
async fn a_server_without_fsync_is_refused() {
    let Some(server) = services::service(POSTGRES_NOFSYNC_URL) else {
        return;
    };
    let url = services::fresh_database(&server).await;
    let e = PostgresCatalog::connect(&url).await.unwrap_err();
    assert_eq!(e.code(), "unsafe_durability");
    assert!(e.to_string().contains("fsync is off"), "{e}");
    assert!(
        e.to_string().contains("unsafe_durability"),
        "the error says how to override: {e}"
    );
    // Nothing was created in the refused database.
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(tables, 0);
    // Told to accept the risk, it connects.
    let opts = PostgresOptions {
        unsafe_durability: true,
        ..Default::default()
    };
    PostgresCatalog::connect_with(&url, opts).await.unwrap();
}

#[tokio::test]
async fn a_database_without_synchronous_commit_is_refused() {
    let Some(server) = services::service(POSTGRES_URL) else {
        return;
    };
    let url = services::fresh_database(&server).await;
    let name = url::Url::parse(&url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = PgConnection::connect(&server).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let e = PostgresCatalog::connect(&url).await.unwrap_err();
    assert_eq!(e.code(), "unsafe_durability");
    assert!(e.to_string().contains("synchronous_commit is off"), "{e}");
    assert!(!e.to_string().contains("fsync is off"), "{e}");
}

#[tokio::test]
async fn passwords_stay_out_of_debug_output_and_errors() {
    const PW: &str = "pw-s3cr3t-x1";
    // An unreachable server: the error names it without the password.
    let e = PostgresCatalog::connect(&format!("postgres://ann:{PW}@127.0.0.1:1/db"))
        .await
        .unwrap_err();
    assert!(
        !e.to_string().contains(PW) && !format!("{e:?}").contains(PW),
        "{e}"
    );
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    assert_eq!(
        e.code(),
        "database_unavailable",
        "a server that is down is not a bug"
    );
    let e = connect_catalog(&format!("mysql://ann:{PW}@127.0.0.1/db"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_database_url");
    assert!(!e.to_string().contains(PW), "{e}");
    let config = Config {
        database_url: Some(format!("postgres://ann:{PW}@db/meta?password={PW}")),
        storage_options: [("aws_secret_access_key".to_owned(), PW.to_owned())].into(),
        ..Default::default()
    };
    let shown = format!("{config:?}");
    assert!(
        !shown.contains(PW) && shown.contains("aws_secret_access_key"),
        "{shown}"
    );
    // A reachable server (trust authentication ignores the password).
    let Some(server) = services::service(POSTGRES_URL) else {
        return;
    };
    let mut url = url::Url::parse(&services::fresh_database(&server).await).unwrap();
    url.set_password(Some(PW)).unwrap();
    let catalog = PostgresCatalog::connect(url.as_str()).await.unwrap();
    let shown = format!("{catalog:?}");
    assert!(!shown.contains(PW), "{shown}");
    let ms = Metastore::open(&Config {
        database_url: Some(url.to_string()),
        warehouse: Some("memory://".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(!format!("{ms:?}").contains(PW));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_at_once_migrate_once() {
    let Some(server) = services::service(POSTGRES_URL) else {
        return;
    };
    let url = services::fresh_database(&server).await;
    let starts: Vec<_> = (0..4).map(|_| PostgresCatalog::connect(&url)).collect();
    for c in futures::future::join_all(starts).await {
        c.unwrap();
    }
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, name FROM batchmeta_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, "0001_catalog.sql".to_owned()),
            (2, "0002_tokens.sql".to_owned()),
            (3, "0003_retention.sql".to_owned()),
            (4, "0004_lineage.sql".to_owned()),
            (5, "0005_feeds.sql".to_owned()),
        ]
    );
}

/// A fresh database and a metastore on it.
async fn env_and_url() -> Option<(Env, String)> {
    let server = services::service(POSTGRES_URL)?;
    let url = services::fresh_database(&server).await;
    Some((
        services::postgres_env_on(&url, Arc::new(SystemClock), Warehouse::Local).await,
        url,
    ))
}

#[tokio::test]
async fn events_are_append_only() {
    let Some((env, url)) = env_and_url().await else {
        return;
    };
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    env.store(&t, "d=x", 0, 1, "a").await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    for sql in [
        "UPDATE events SET principal = 'mallory'",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
    ] {
        let e = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}

#[tokio::test]
async fn metastore_open_picks_postgres_by_scheme() {
    let Some(server) = services::service(POSTGRES_URL) else {
        return;
    };
    let url = services::fresh_database(&server).await;
    let dir = tempfile::tempdir().unwrap();
    for scheme_url in [url.clone(), url.replacen("postgres://", "postgresql://", 1)] {
        let config = Config {
            database_url: Some(scheme_url),
            warehouse: Some(dir.path().join("wh").display().to_string()),
            ..Default::default()
        };
        let ms = Metastore::open(&config).await.unwrap();
        assert!(
            format!("{ms:?}").contains("catalog: PostgresCatalog"),
            "{ms:?}"
        );
    }
}

/// Two metastores with their own pools (two replicas) publish to the same
/// partitions at once: every acknowledged publish is an event, in one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_database() {
    let Some((first, url)) = env_and_url().await else {
        return;
    };
    let t = first.table("s", "t", &[("d", KeyType::Int)]).await;
    let catalog = PostgresCatalog::connect_with(&url, services::pg_options())
        .await
        .unwrap();
    let second = Metastore::new(Arc::new(catalog), first.storage.clone());
    let mut tasks = Vec::new();
    for (r, ms) in [first.ms.clone(), second].into_iter().enumerate() {
        for task in 0..3 {
            let (ms, ctx, t) = (ms.clone(), first.ctx.clone(), t.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..20 {
                    let rb = frame(i, 1, &format!("r{r}t{task}"));
                    let p = PartitionSpec::parse(&format!("d={}", i % 2)).unwrap();
                    let s = ms
                        .store(
                            &ctx,
                            &t,
                            &p,
                            rb.schema(),
                            stream_of(vec![rb]),
                            &StoreOptions::default(),
                        )
                        .await
                        .unwrap();
                    acked.push(s.batch.id);
                }
                acked
            }));
        }
    }
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    let unique: BTreeSet<_> = acked.iter().cloned().collect();
    assert_eq!(unique.len(), 120, "batch ids are unique across replicas");
    let q = EventQuery {
        table: Some(t.clone()),
        action: Some(Action::Publish),
        limit: Some(1000),
        ..Default::default()
    };
    let published: BTreeSet<_> = first
        .ms
        .events(&q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.to_batch.unwrap())
        .collect();
    assert_eq!(published, unique, "every acknowledged publish is an event");
    assert_eq!(
        crate::conformance::replay_matches_pointers(&first, &t).await,
        120
    );
    assert!(first.ms.verify().await.unwrap().is_clean());
}

/// A change-feed reader polling while writers commit never skips an event:
/// event ids become visible in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_change_feed_never_skips_an_event() {
    let Some(env) = env().await else { return };
    let t = env.table("s", "t", &[("d", KeyType::Int)]).await;
    let start = env.ms.events(&EventQuery::default()).await.unwrap().items[0].id;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (ms, ctx, t) = (env.ms.clone(), env.ctx.clone(), t.clone());
            tokio::spawn(async move {
                for i in 0..15 {
                    let rb = frame(i, 1, "f");
                    let p = PartitionSpec::parse(&format!("d={w}")).unwrap();
                    ms.store(
                        &ctx,
                        &t,
                        &p,
                        rb.schema(),
                        stream_of(vec![rb]),
                        &StoreOptions::default(),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut after = start;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let page = env
            .ms
            .events(&EventQuery {
                after: Some(after),
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        for e in &page.items {
            seen.push(e.id);
            after = e.id;
        }
        if done && page.items.is_empty() {
            break;
        }
    }
    let all = env
        .ms
        .events(&EventQuery {
            order: Order::OldestFirst,
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    let expected: Vec<i64> = all
        .items
        .iter()
        .map(|e| e.id)
        .filter(|id| *id > start)
        .collect();
    assert_eq!(expected.len(), 60);
    assert_eq!(seen, expected, "the feed saw every event, in id order");
    let times: Vec<_> = all.items.iter().map(|e| e.at).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "event time never decreases along ids"
    );
}

/// Input SQLite stores but PostgreSQL cannot is refused as bad input (not a
/// 500) and changes nothing; times before `timestamptz`'s range answer as
/// SQLite does.
#[tokio::test]
async fn input_postgres_cannot_store_is_refused_cleanly() {
    use batchmeta::ResolveRequest;
    use batchmeta::model::{NewPin, PinName, PinTarget, Version};
    use chrono::{TimeZone, Utc};
    let Some(env) = env().await else { return };
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    env.store(&t, "d=x", 0, 1, "a").await;
    let before = env.snapshot().await;
    let nul_message = StoreOptions {
        message: Some("bad\0message".into()),
        ..Default::default()
    };
    let e = env
        .store_with(&t, "d=y", frame(0, 1, "b"), &nul_message)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_text", "{e}");
    let mut nul_metadata = StoreOptions::default();
    nul_metadata.metadata.insert("job".into(), "a\0b".into());
    let e = env
        .store_with(&t, "d=y", frame(0, 1, "b"), &nul_metadata)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_text", "{e}");
    let ancient = Utc.with_ymd_and_hms(-5000, 1, 1, 0, 0, 0).unwrap();
    let pin = NewPin {
        name: PinName::new("old").unwrap(),
        owner: None,
        reason: None,
        target: PinTarget::AsOf { at: ancient },
        expires_at: None,
    };
    let e = env.ms.create_pin(&env.ctx, &t, &pin).await.unwrap_err();
    assert_eq!(e.code(), "invalid_time", "{e}");
    assert_eq!(
        env.snapshot().await,
        before,
        "refused input changes nothing"
    );
    // Reading as of a time before anything existed: not found, as on SQLite.
    let req = ResolveRequest {
        partitions: Some(vec![PartitionSpec::parse("d=x").unwrap()]),
        version: Version::AsOf(ancient),
    };
    assert_eq!(
        env.ms.resolve(&t, &req).await.unwrap_err().code(),
        "partition_not_found"
    );
    let all = ResolveRequest {
        partitions: None,
        version: Version::AsOf(ancient),
    };
    assert!(env.ms.resolve(&t, &all).await.unwrap().is_empty());
    let q = EventQuery {
        since: Some(ancient),
        ..Default::default()
    };
    let every = env.ms.events(&EventQuery::default()).await.unwrap().items;
    assert_eq!(env.ms.events(&q).await.unwrap().items, every);
    assert_eq!(every.len(), 3);
}

/// Retries with one idempotency key, from several tasks at once, all get
/// the one batch: the key lookup and the mint happen under one lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_with_one_key_share_a_batch() {
    use batchmeta::StageOptions;
    let Some(env) = env().await else { return };
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let p = PartitionSpec::parse("d=x").unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (ms, ctx, t, p) = (env.ms.clone(), env.ctx.clone(), t.clone(), p.clone());
            tokio::spawn(async move {
                let opts = StageOptions {
                    idempotency_key: Some("job-1".into()),
                    ..Default::default()
                };
                ms.stage(&ctx, &t, &[p], &opts).await.unwrap().remove(0).id
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(env.ms.batches(&t, &p).await.unwrap().len(), 1);
}

/// Stores that fail (and discard their staged batch and new partition row)
/// racing stores that succeed on the same new partitions: every good store
/// lands, every bad one is refused as bad input and leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_stores_racing_good_ones_leave_nothing_behind() {
    use arrow_array::{Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let Some(env) = env().await else { return };
    let t = env.table("s", "t", &[("d", KeyType::String)]).await;
    let wrong = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Utf8, true),
        Field::new("d", DataType::Utf8, true),
    ]));
    let tasks: Vec<_> = (0..6)
        .map(|task| {
            let (ms, ctx, t, wrong) = (env.ms.clone(), env.ctx.clone(), t.clone(), wrong.clone());
            tokio::spawn(async move {
                for i in 0..8 {
                    let p = PartitionSpec::parse(&format!("d=p{i}")).unwrap();
                    let good = task % 2 == 0 && i % 2 == 0;
                    let rb = if good {
                        frame(i, 1, "good")
                    } else {
                        // Rows that belong to another partition: refused at write.
                        RecordBatch::try_new(
                            wrong.clone(),
                            vec![
                                Arc::new(Int64Array::from(vec![1])),
                                Arc::new(StringArray::from(vec!["bad"])),
                                Arc::new(StringArray::from(vec!["elsewhere"])),
                            ],
                        )
                        .unwrap()
                    };
                    let r = ms
                        .store(
                            &ctx,
                            &t,
                            &p,
                            rb.schema(),
                            stream_of(vec![rb]),
                            &StoreOptions::default(),
                        )
                        .await;
                    match (good, r) {
                        (true, r) => assert!(r.is_ok(), "{r:?}"),
                        (false, Err(e)) => assert_eq!(e.code(), "partition_mismatch", "{e}"),
                        (false, Ok(_)) => panic!("a bad store was accepted"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let parts = env
        .ms
        .partitions(&t, &Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(parts.len(), 4, "p0, p2, p4, p6 were published");
    let rows = env.snapshot().await.rows;
    assert_eq!(
        rows["partitions"], 4,
        "no partition row of a failed store is left"
    );
    assert_eq!(
        rows["batches"], 12,
        "3 good stores on each of 4 partitions, no staged leftovers"
    );
    assert!(env.ms.verify().await.unwrap().is_clean());
}
