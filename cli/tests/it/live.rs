//! Commands that run while others write: `audit --follow` and `wait`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::Env;

fn setup(env: &Env) {
    env.ok(&["ns", "create", "sales"]);
    env.ok(&[
        "table",
        "create",
        "sales.t",
        "--columns",
        "id:int64",
        "--partition-by",
        "d:int",
    ]);
    env.file("a.csv", "id\n1\n2\n");
}

fn follow(env: Env) {
    setup(&env);
    env.ok(&["put", "sales.t", "d=1", "a.csv"]);
    let mut child = env
        .cmd(&[
            "audit", "--follow", "--table", "sales.t", "--output", "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next = |what: &str| {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("audit --follow printed no {what}"));
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    // What matched before it started, oldest first ...
    assert_eq!(next("create_table")["action"], "create_table");
    assert_eq!(next("first publish")["action"], "publish");
    // ... then what happens while it runs.
    env.ok(&["put", "sales.t", "d=2", "a.csv"]);
    let e = next("new publish");
    assert_eq!(e["action"], "publish");
    assert_eq!(e["partition"], "d=2");
    assert!(child.try_wait().unwrap().is_none(), "follow keeps running");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn audit_follow_prints_new_events_embedded() {
    follow(Env::embedded());
}

#[test]
fn audit_follow_prints_new_events_server() {
    follow(Env::server());
}

fn wait_returns_when_published(env: Env) {
    setup(&env);
    let first = env.ok(&["put", "sales.t", "d=1", "a.csv", "--output", "json"]);
    let first: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let b1 = first["batch"].as_str().unwrap().to_owned();
    let waiter = env
        .cmd(&[
            "wait",
            "sales.t",
            "d=1",
            "--after",
            &b1,
            "--timeout",
            "30s",
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let second = env.ok(&["put", "sales.t", "d=1", "a.csv", "--output", "json"]);
    let second: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["batch"], second["batch"]);
    assert_eq!(got["parent"].as_str(), Some(b1.as_str()));
}

#[test]
fn wait_returns_when_published_embedded() {
    wait_returns_when_published(Env::embedded());
}

#[test]
fn wait_returns_when_published_server() {
    wait_returns_when_published(Env::server());
}
