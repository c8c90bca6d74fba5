//! Running `meta` as a child process against a fresh catalog: embedded (a
//! temp dir given as --url) or a `meta serve` child on a free loopback port
//! ([`crate::common::servers::MetaServe`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use crate::common::servers::{MetaServe, Served};
use crate::common::services::Place;

pub(crate) use crate::common::servers::meta_bin;

/// A `meta` command with a quiet, deterministic environment.
pub fn meta(cwd: &Path) -> Command {
    let mut c = Command::new(meta_bin());
    c.current_dir(cwd)
        .env_remove("BATCHMETA_URL")
        .env_remove("BATCHMETA_WAREHOUSE")
        .env_remove("BATCHMETA_LOG")
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .stdin(Stdio::null());
    c
}

/// What one run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Where a test's catalog is: its working directory and the `--url` to pass.
#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
    pub url: String,
    /// Keeps the server running as long as the env lives.
    _server: Option<Served>,
}

impl Env {
    /// An embedded catalog in a fresh temp dir.
    pub fn embedded() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("catalog").display().to_string();
        Self {
            dir,
            url,
            _server: None,
        }
    }

    /// A fresh `meta serve` with its catalog (`catalog.db`, `warehouse/`)
    /// in a temp dir.
    pub fn server() -> Self {
        let place = Place::sqlite();
        let server = MetaServe::on(&place)
            .env_remove("BATCHMETA_WAREHOUSE")
            .env_remove("BATCHMETA_LOG")
            .env("USER", "tester")
            .start();
        Self {
            url: server.base.clone(),
            dir: place.dir,
            _server: Some(server),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `meta` command against this catalog.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = meta(self.path());
        c.arg("--url").arg(&self.url).args(args);
        c
    }

    /// Runs `meta ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and expects success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "meta {args:?} failed:\n{}{}", r.stdout, r.stderr);
        r
    }

    /// A file in the working directory.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// A Parquet file with columns id:int64, price:float64, name:string.
    pub fn parquet(&self, name: &str, ids: &[i64]) -> PathBuf {
        let p = self.path().join(name);
        write_parquet(&p, ids);
        p
    }
}

/// Writes a small Parquet file: id:int64, price:float64, name:string.
pub fn write_parquet(path: &Path, ids: &[i64]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("price", DataType::Float64, true),
        Field::new("name", DataType::Utf8, true),
    ]));
    let prices: Vec<f64> = ids.iter().map(|i| *i as f64 * 1.5).collect();
    let names: Vec<String> = ids.iter().map(|i| format!("item{i}")).collect();
    let rb = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(Float64Array::from(prices)),
            Arc::new(StringArray::from(names)),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&rb).unwrap();
    w.close().unwrap();
}

/// One command of a transcript, as it is snapshotted.
pub fn transcript(args: &[&str], r: &Run) -> String {
    let mut s = format!("$ meta {}\n[exit {}]\n", shell_words(args), r.code);
    if !r.stdout.is_empty() {
        s.push_str("--- stdout\n");
        s.push_str(&r.stdout);
        if !r.stdout.ends_with('\n') {
            s.push('\n');
        }
    }
    if !r.stderr.is_empty() {
        s.push_str("--- stderr\n");
        s.push_str(&r.stderr);
        if !r.stderr.ends_with('\n') {
            s.push('\n');
        }
    }
    s.push('\n');
    s
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '\'', '"', '*', '$']) {
                format!("'{a}'")
            } else {
                (*a).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// insta settings that make times, batch IDs, temp paths and ports stable.
pub fn settings(env: &Env, suffix: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_suffix(suffix);
    s.set_prepend_module_to_snapshot(false);
    let tmp = regex_escape(&env.path().display().to_string());
    s.add_filter(&tmp, "[TMP]");
    s.add_filter(r"\b\d{20}\b", "[BATCH]");
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)",
        "[TIME]",
    );
    s.add_filter(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC \([^)]*\)",
        "[TIME]",
    );
    s.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC", "[TIME]");
    s.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[UUID]",
    );
    s.add_filter(r"127\.0\.0\.1:\d+", "[ADDR]");
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}
