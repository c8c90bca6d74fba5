//! Two OS processes publishing to one SQLite file: no lost publish, and no
//! SQLITE_BUSY reaches a caller. The child is this test binary itself, run
//! with `BATCHMETA_CHILD_DIR` set.

use std::process::Command;

use batchmeta::model::{Action, Context, EventQuery, KeyType, PartitionSpec, TableIdent};
use batchmeta::{Metastore, StoreOptions};

const PER_PROCESS: i64 = 100;

/// The child side: publishes to the shared catalog and prints each
/// acknowledged batch ID. Does nothing when not run as a child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_publisher() {
    let Ok(dir) = std::env::var("BATCHMETA_CHILD_DIR") else {
        return;
    };
    let name = std::env::var("BATCHMETA_CHILD_NAME").unwrap();
    let ms = Metastore::open_dir(std::path::Path::new(&dir))
        .await
        .unwrap();
    let t = TableIdent::new("s", "t").unwrap();
    let ctx = Context::new(name.clone());
    for i in 0..PER_PROCESS {
        let rb = crate::harness::frame(i, 1, &name);
        let s = ms
            .store(
                &ctx,
                &t,
                &PartitionSpec::parse(&format!("d={}", i % 2)).unwrap(),
                rb.schema(),
                crate::harness::stream_of(vec![rb]),
                &StoreOptions::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("publish {i} failed: {e} ({})", e.code()));
        println!("ACK {}", s.batch.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_sqlite_file() {
    if std::env::var("BATCHMETA_CHILD_DIR").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ms = Metastore::open_dir(dir.path()).await.unwrap();
    let ctx = Context::new("parent");
    let env_dir = dir.path().to_str().unwrap().to_owned();
    // Create the table through the harness helpers on this metastore.
    let env = crate::harness::Env {
        ms: ms.clone(),
        backend: std::sync::Arc::new(NoCounts),
        ctx: ctx.clone(),
        _guard: Box::new(()),
    };
    env.table("s", "t", &[("d", KeyType::Int)]).await;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p1", "p2"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "processes::child_publisher",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("BATCHMETA_CHILD_DIR", &env_dir)
                .env("BATCHMETA_CHILD_NAME", name)
                .env("RUST_BACKTRACE", "0")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acked = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // libtest may print its own "test ... " prefix on the first line.
        acked.extend(
            stdout
                .lines()
                .filter_map(|l| l.split_once("ACK "))
                .map(|(_, id)| id.trim().to_owned()),
        );
    }
    assert_eq!(acked.len() as i64, 2 * PER_PROCESS);
    let t = TableIdent::new("s", "t").unwrap();
    let events = ms
        .events(&EventQuery {
            table: Some(t.clone()),
            action: Some(Action::Publish),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(events.len() as i64, 2 * PER_PROCESS);
    let published: std::collections::HashSet<String> = events
        .iter()
        .map(|e| e.to_batch.clone().unwrap().to_string())
        .collect();
    assert!(
        acked.iter().all(|a| published.contains(a)),
        "an acknowledged publish is missing"
    );
    assert_eq!(
        crate::conformance::replay_matches_pointers(&env, &t).await as i64,
        2 * PER_PROCESS
    );
    assert!(ms.verify().await.unwrap().is_clean());
}

struct NoCounts;

#[async_trait::async_trait]
impl crate::harness::Backend for NoCounts {
    async fn row_counts(&self) -> std::collections::BTreeMap<String, i64> {
        Default::default()
    }
}
