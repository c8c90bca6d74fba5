//! Every command's help has a one-line description and an example.

use crate::harness::meta;

const COMMANDS: &[&[&str]] = &[
    &[],
    &["serve"],
    &["ns"],
    &["ns", "create"],
    &["ns", "ls"],
    &["ns", "show"],
    &["ns", "set"],
    &["table"],
    &["table", "create"],
    &["table", "ls"],
    &["table", "show"],
    &["table", "drop"],
    &["table", "set"],
    &["partitions"],
    &["history"],
    &["rollback"],
    &["lineage"],
    &["stale"],
    &["gc"],
    &["pin"],
    &["pin", "create"],
    &["pin", "ls"],
    &["pin", "rm"],
    &["audit"],
    &["files"],
    &["put"],
    &["get"],
    &["wait"],
    &["verify"],
    &["gc"],
    &["token"],
    &["token", "create"],
    &["token", "ls"],
    &["token", "revoke"],
];

#[test]
fn every_command_has_a_description_and_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in COMMANDS {
        let out = meta(dir.path()).args(*cmd).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "meta {cmd:?} --help failed");
        assert!(
            text.contains("Example"),
            "meta {cmd:?} --help has no example:\n{text}"
        );
        let first = text.lines().next().unwrap_or_default();
        assert!(
            !first.trim().is_empty() && !first.ends_with('.'),
            "meta {cmd:?} --help: the first line should be a description without a period: {first:?}"
        );
    }
}

#[test]
fn every_subcommand_is_covered() {
    // A new subcommand must be added to COMMANDS (and get an example).
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = text
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .collect();
    for name in &listed {
        assert!(
            COMMANDS.iter().any(|c| c.first() == Some(name)),
            "subcommand {name} is missing from the help test"
        );
    }
    assert!(listed.len() >= 13, "{listed:?}");
}

#[test]
fn top_level_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).arg("--help").output().unwrap();
    insta::assert_snapshot!("help", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_bad_command_line_is_a_user_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).args(["rollback"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = meta(dir.path()).args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn an_unreachable_server_is_an_environment_error() {
    let dir = tempfile::tempdir().unwrap();
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = meta(dir.path())
        .args(["--url", &format!("http://127.0.0.1:{port}"), "ns", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("meta serve"), "says what to do: {err}");
}

#[test]
fn the_embedded_default_says_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = meta(dir.path()).args(["ns", "ls"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".batchmeta/"), "{err}");
    assert!(dir.path().join(".batchmeta").is_dir());
}
