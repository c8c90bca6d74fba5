//! Scale-out: two `meta serve` replicas on one PostgreSQL database and one S3
//! bucket, 8 writers spread across both (half blind, half compare-and-swap)
//! publishing to 4 partitions, and readers on both replicas. Afterwards the
//! audit trail must hold every acknowledged publish exactly once, each
//! partition's events must form one unbroken chain, `verify` must be clean and
//! no reader may have seen part of a batch.
//!
//! The negative control runs the same harness against servers whose publish
//! is deliberately broken (read the pointer, then update it unconditionally;
//! `BATCHMETA_FAULTS=read_then_update_publish`, compiled in only by the test
//! build's `faults` feature) and must report lost updates.
//!
//! Needs `BATCHMETA_TEST_POSTGRES_URL` and `BATCHMETA_TEST_S3_URL` (set by
//! `scripts/with-services`); without them the tests say SKIP and pass.
//!
//! The same harness on one SQLite catalog file and one local warehouse
//! shared by two `meta serve` processes (issue 15,
//! `two_processes_on_one_sqlite_catalog_lose_nothing`): nothing lost, and
//! no client ever sees an error (no `SQLITE_BUSY`, "database is locked",
//! 5xx). Its negative control runs both processes with a busy timeout of
//! zero (`sqlite_no_busy_timeout`) and must see `SQLITE_BUSY` reach the
//! clients. Needs no services.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use batchmeta::model::{
    BatchId, Context, EventQuery, Expect, KeyType, NamespaceName, NewNamespace, NewTable,
    PartitionKey, PartitionSpec, TableIdent,
};
use batchmeta::{ConnectOptions, ErrorKind, Metastore, ReadRequest, ResolveRequest, StoreOptions};
use futures::{StreamExt, TryStreamExt};

use common::servers::{MetaServe, Served};
use common::services::{
    POSTGRES_NOFSYNC_URL, POSTGRES_URL, S3_URL, fresh_database, fresh_prefix, service,
};

const PARTITIONS: usize = 4;

/// A `meta serve` process, in a directory of its own.
struct Replica {
    server: Served,
    _dir: tempfile::TempDir,
}

impl Replica {
    fn start(database: &str, warehouse: &str, faults: &str) -> Self {
        Self::start_with(database, warehouse, faults, &[])
    }

    fn start_with(database: &str, warehouse: &str, faults: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = MetaServe::new(dir.path())
            .catalog(database, warehouse)
            .faults(faults)
            .args(extra)
            .start();
        Replica { server, _dir: dir }
    }

    fn base(&self) -> &str {
        &self.server.base
    }

    /// Lines of its log that say SQLite was busy ("database is locked").
    fn busy_log_lines(&self) -> u64 {
        let log = self.server.log();
        log.iter()
            .filter(|l| l.contains("database is locked"))
            .count() as u64
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("writer", DataType::Int64, false),
        Field::new("seq", DataType::Int64, false),
        Field::new("n", DataType::Int64, false),
    ]))
}

/// A batch of `n` rows that all say who wrote it and how many rows it has.
fn frame(writer: i64, seq: i64, n: i64) -> RecordBatch {
    let col = |v: i64| Arc::new(Int64Array::from(vec![v; n as usize])) as Arc<dyn Array>;
    RecordBatch::try_new(schema(), vec![col(writer), col(seq), col(n)]).unwrap()
}

fn part(i: usize) -> PartitionSpec {
    PartitionSpec::parse(&format!("p={i}")).unwrap()
}

/// One acknowledged publish, as the writer logged it before going on.
#[derive(Debug, Clone)]
struct Ack {
    partition: String,
    batch: BatchId,
    event: i64,
    /// The batch a compare-and-swap publish expected to replace.
    expected: Option<Option<BatchId>>,
}

#[derive(Debug, Default)]
struct Report {
    acknowledged: usize,
    events: usize,
    /// Acknowledged publishes missing from the trail, or recorded otherwise.
    missing: usize,
    /// Events or batches that appear twice.
    duplicates: usize,
    /// Pointer moves whose `from` is not the batch the previous move put
    /// there: the previous batch was overwritten without a trace.
    chain_breaks: usize,
    /// Compare-and-swap publishes that replaced something else than expected.
    cas_violations: usize,
    conflicts_retried: u64,
    reads: u64,
    torn_reads: u64,
    verify_violations: usize,
    /// Errors the writers and readers were answered with (a writer gives
    /// up that publish, a reader that read), of them those that say the
    /// database was busy or locked or came as an internal error (the server
    /// does not pass the driver's text on), and the first few.
    client_errors: usize,
    busy_errors: usize,
    error_samples: Vec<String>,
    /// Lines of the servers' logs that say "database is locked".
    server_busy_log_lines: u64,
    /// Wall time of the writers (s).
    writing_secs: f64,
}

impl Report {
    fn lost(&self) -> usize {
        self.missing + self.chain_breaks + self.cas_violations
    }

    fn saw(&mut self, errors: Vec<String>) {
        for e in errors {
            self.client_errors += 1;
            let l = e.to_lowercase();
            if l.contains("busy") || l.contains("lock") || l.contains("internal") {
                self.busy_errors += 1;
            }
            if self.error_samples.len() < 5 {
                self.error_samples.push(e);
            }
        }
    }
}

/// Where the replicas keep the catalog and the data.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    /// One PostgreSQL database and one S3 prefix.
    PostgresS3,
    /// One SQLite catalog file and one local warehouse directory.
    Sqlite,
}

struct Run {
    writers: usize,
    publishes_per_writer: usize,
    /// Writers with an odd number use compare-and-swap when true; all do
    /// when `all_cas`.
    all_cas: bool,
    partitions: usize,
    faults: &'static str,
    backend: Backend,
}

async fn connect(base: &str, direct: bool) -> Metastore {
    Metastore::connect(
        Some(base),
        &ConnectOptions {
            direct_data: Some(direct),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn current(
    ms: &Metastore,
    t: &TableIdent,
    p: &PartitionSpec,
) -> Result<Option<BatchId>, batchmeta::Error> {
    let req = ResolveRequest {
        partitions: Some(vec![p.clone()]),
        version: Default::default(),
    };
    match ms.resolve(t, &req).await {
        Ok(r) => Ok(r.into_iter().next().map(|r| r.batch.id)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn writer(
    ms: Arc<Metastore>,
    t: TableIdent,
    w: usize,
    cas: bool,
    run: Arc<Run>,
    retried: Arc<AtomicU64>,
) -> (Vec<Ack>, Vec<String>) {
    let ctx = Context::new(format!("writer-{w}"));
    let mut acks = Vec::with_capacity(run.publishes_per_writer);
    let mut errors = Vec::new();
    for seq in 0..run.publishes_per_writer {
        let p = part((w + seq) % run.partitions);
        let n = 1 + ((w * 7 + seq * 13) % 40) as i64;
        loop {
            let expected = if cas {
                match current(&ms, &t, &p).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        errors.push(format!("writer {w} resolve {seq}: {e}"));
                        break;
                    }
                }
            } else {
                None
            };
            let opts = StoreOptions {
                expect: expected.clone().map(|c| match c {
                    Some(b) => Expect::Batch(b),
                    None => Expect::Empty,
                }),
                ..Default::default()
            };
            let body = futures::stream::iter([Ok(frame(w as i64, seq as i64, n))]).boxed();
            match ms.store(&ctx, &t, &p, schema(), body, &opts).await {
                Ok(stored) => {
                    let event = stored.commit.events[0].id;
                    acks.push(Ack {
                        partition: stored.batch.partition.path(),
                        batch: stored.batch.id,
                        event,
                        expected,
                    });
                    break;
                }
                Err(e) if cas && e.kind() == ErrorKind::Conflict => {
                    retried.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    errors.push(format!("writer {w} publish {seq}: {:?}: {e}", e.kind()));
                    break;
                }
            }
        }
    }
    (acks, errors)
}

/// Reads random partitions until told to stop; returns (reads, torn reads,
/// errors).
async fn reader(
    ms: Arc<Metastore>,
    t: TableIdent,
    stop: Arc<AtomicBool>,
) -> (u64, u64, Vec<String>) {
    let (mut reads, mut torn) = (0, 0);
    let mut errors = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let req = ReadRequest {
            resolve: ResolveRequest {
                partitions: Some(vec![part(i % PARTITIONS)]),
                version: Default::default(),
            },
            columns: None,
            filters: vec![],
        };
        let batches: Vec<RecordBatch> = match ms.read(&t, &req).await {
            Ok((_, s)) => match s.try_collect().await {
                Ok(b) => b,
                Err(e) => {
                    errors.push(format!("read stream: {:?}: {e}", e.kind()));
                    continue;
                }
            },
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(format!("read: {:?}: {e}", e.kind()));
                // A bounded stream of errors: stop after a few hundred.
                if errors.len() >= 200 {
                    break;
                }
                continue;
            }
        };
        reads += 1;
        let mut rows = Vec::new();
        for b in &batches {
            let col = |name: &str| {
                b.column_by_name(name)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            };
            let (w, s, n) = (col("writer"), col("seq"), col("n"));
            rows.extend((0..b.num_rows()).map(|r| (w[r], s[r], n[r])));
        }
        let whole = !rows.is_empty()
            && rows.iter().all(|r| *r == rows[0])
            && rows.len() as i64 == rows[0].2;
        if !whole {
            torn += 1;
        }
    }
    (reads, torn, errors)
}

/// Checks the trail against the writers' logs.
async fn audit(ms: &Metastore, t: &TableIdent, acks: &[Ack], report: &mut Report) {
    let mut events = Vec::new();
    let mut after = Some(0);
    loop {
        let page = ms
            .events(&EventQuery {
                table: Some(t.clone()),
                namespace: Some(t.namespace.clone()),
                after,
                limit: Some(1000),
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.items.last() else { break };
        after = Some(last.id);
        events.extend(page.items);
    }
    let moves: Vec<_> = events.iter().filter(|e| e.to_batch.is_some()).collect();
    report.events = moves.len();
    let mut ids = HashSet::new();
    let mut batches = HashSet::new();
    for e in &moves {
        if !ids.insert(e.id) || !batches.insert(e.to_batch.clone().unwrap()) {
            report.duplicates += 1;
        }
    }
    let by_id: HashMap<i64, _> = moves.iter().map(|e| (e.id, *e)).collect();
    for a in acks {
        match by_id.get(&a.event) {
            Some(e)
                if e.to_batch.as_ref() == Some(&a.batch)
                    && e.partition.as_deref() == Some(a.partition.as_str()) =>
            {
                if let Some(expected) = &a.expected
                    && e.from_batch != *expected
                {
                    report.cas_violations += 1;
                }
            }
            _ => report.missing += 1,
        }
    }
    let mut chains: BTreeMap<String, Option<BatchId>> = BTreeMap::new();
    for e in &moves {
        let prev = chains.entry(e.partition.clone().unwrap()).or_insert(None);
        if e.from_batch != *prev {
            report.chain_breaks += 1;
        }
        *prev = e.to_batch.clone();
    }
    report.acknowledged = acks.len();
}

async fn scale_out(run: Run) -> Option<Report> {
    let dir = tempfile::tempdir().unwrap();
    let (database, warehouse) = match run.backend {
        Backend::PostgresS3 => {
            let pg = service(POSTGRES_URL)?;
            let s3 = service(S3_URL)?;
            (fresh_database(&pg).await, fresh_prefix(&s3))
        }
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("catalog.db").display()),
            dir.path().join("warehouse").display().to_string(),
        ),
    };
    let replicas = [
        Replica::start(&database, &warehouse, run.faults),
        Replica::start(&database, &warehouse, run.faults),
    ];
    let admin = connect(replicas[0].base(), true).await;
    let ctx = Context::new("setup");
    admin
        .create_namespace(
            &ctx,
            &NewNamespace {
                name: NamespaceName::new("scale").unwrap(),
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap();
    let t = TableIdent::new("scale", "events").unwrap();
    admin
        .create_table(
            &ctx,
            &NewTable {
                ident: t.clone(),
                schema: (*schema()).clone(),
                partition_keys: vec![PartitionKey::new("p", KeyType::Int).unwrap()],
                description: None,
                owner: None,
                properties: Default::default(),
            },
        )
        .await
        .unwrap();

    let run = Arc::new(run);
    let retried = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // Writers alternate between the replicas, and between writing the data
    // straight to S3 and uploading it through the server.
    let mut writers = Vec::new();
    let started = std::time::Instant::now();
    for w in 0..run.writers {
        let ms = Arc::new(connect(replicas[w % 2].base(), w % 4 < 2).await);
        let cas = run.all_cas || w % 2 == 1;
        writers.push(tokio::spawn(writer(
            ms,
            t.clone(),
            w,
            cas,
            run.clone(),
            retried.clone(),
        )));
    }
    let mut readers = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        let ms = Arc::new(connect(replica.base(), r == 0).await);
        readers.push(tokio::spawn(reader(ms, t.clone(), stop.clone())));
    }
    let mut acks = Vec::new();
    let mut report = Report::default();
    for w in writers {
        let (a, errors) = w.await.unwrap();
        acks.extend(a);
        report.saw(errors);
    }
    report.writing_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let (reads, torn, errors) = r.await.unwrap();
        report.reads += reads;
        report.torn_reads += torn;
        report.saw(errors);
    }
    report.conflicts_retried = retried.load(Ordering::Relaxed);
    audit(&admin, &t, &acks, &mut report).await;
    report.verify_violations = admin.verify().await.unwrap().violations.len();
    report.server_busy_log_lines = replicas.iter().map(Replica::busy_log_lines).sum();
    eprintln!(
        "scale-out ({:?}, faults {:?}): {report:?}",
        run.backend, run.faults
    );
    Some(report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_lose_nothing() {
    let Some(r) = scale_out(Run {
        writers: 8,
        publishes_per_writer: 250,
        all_cas: false,
        partitions: PARTITIONS,
        faults: "",
        backend: Backend::PostgresS3,
    })
    .await
    else {
        return;
    };
    assert_eq!(r.acknowledged, 2000);
    assert_eq!(r.events, 2000, "one pointer move per acknowledged publish");
    assert_eq!(r.lost(), 0, "{r:?}");
    assert_eq!(r.duplicates, 0, "{r:?}");
    assert_eq!(r.verify_violations, 0, "{r:?}");
    assert!(r.reads > 0, "the readers read nothing");
    assert_eq!(r.torn_reads, 0, "{r:?}");
    assert_eq!(r.client_errors, 0, "{r:?}");
    // The compare-and-swap writers really raced.
    assert!(r.conflicts_retried > 0, "{r:?}");
}

/// Two `meta serve` processes on one SQLite catalog and one local
/// warehouse, writers and readers on both: nothing lost, and the writer
/// lock between the processes (`BEGIN IMMEDIATE` and the busy timeout)
/// never reaches a client as `SQLITE_BUSY` or any other error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_sqlite_catalog_lose_nothing() {
    let r = scale_out(Run {
        writers: 8,
        publishes_per_writer: SQLITE_PUBLISHES,
        all_cas: false,
        partitions: PARTITIONS,
        faults: "",
        backend: Backend::Sqlite,
    })
    .await
    .unwrap();
    let n = 8 * SQLITE_PUBLISHES;
    assert_eq!(r.client_errors, 0, "errors reached the clients: {r:?}");
    assert_eq!(r.server_busy_log_lines, 0, "{r:?}");
    assert_eq!(r.acknowledged, n, "{r:?}");
    assert_eq!(r.events, n, "one pointer move per acknowledged publish");
    assert_eq!(r.lost(), 0, "{r:?}");
    assert_eq!(r.duplicates, 0, "{r:?}");
    assert_eq!(r.verify_violations, 0, "{r:?}");
    assert!(r.reads > 0, "the readers read nothing");
    assert_eq!(r.torn_reads, 0, "{r:?}");
    assert!(r.conflicts_retried > 0, "{r:?}");
}

const SQLITE_PUBLISHES: usize = 40;

/// The negative control: without a busy timeout the second process's
/// writes fail with `SQLITE_BUSY`, and the same checks must see it: the
/// servers answer 503 `database_unavailable` and log "database is locked"
/// (the clients retry those 503s, so only some of them still reach a
/// writer; the log lines are the check that fires every run).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_without_busy_timeout_reaches_clients() {
    let r = scale_out(Run {
        writers: 8,
        publishes_per_writer: SQLITE_PUBLISHES,
        all_cas: false,
        partitions: PARTITIONS,
        faults: "sqlite_no_busy_timeout",
        backend: Backend::Sqlite,
    })
    .await
    .unwrap();
    assert!(
        r.server_busy_log_lines > 0,
        "SQLITE_BUSY never happened without a busy timeout: {r:?}"
    );
}

/// The negative control: with the read-then-update publish the same checks
/// find lost updates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_then_update_publish_loses_updates() {
    let Some(r) = scale_out(Run {
        writers: 8,
        publishes_per_writer: 25,
        all_cas: true,
        partitions: 1,
        faults: "read_then_update_publish",
        backend: Backend::PostgresS3,
    })
    .await
    else {
        return;
    };
    assert!(r.lost() > 0, "the broken publish went unnoticed: {r:?}");
}

/// A replica refuses a PostgreSQL server that could lose acknowledged
/// commits, and says how to fix it; `--unsafe-durability` overrides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_refuses_postgres_without_fsync() {
    let Some(server) = service(POSTGRES_NOFSYNC_URL) else {
        return;
    };
    let database = fresh_database(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh").display().to_string();
    let out = MetaServe::new(dir.path())
        .catalog(&database, &warehouse)
        .command()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("fsync") && stderr.contains("hint:"),
        "{stderr}"
    );
    let replica = Replica::start_with(&database, &warehouse, "", &["--unsafe-durability"]);
    let ms = connect(replica.base(), true).await;
    assert!(ms.verify().await.unwrap().is_clean());
}
