//! Servers for tests: `meta serve` as a child process ([`MetaServe`]), the
//! app in-process on a tokio task ([`InProcess`]), and free ports.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use batchmeta::Metastore;
use batchmeta::server::{ServerConfig, app, limits};

use super::services::Place;

/// A loopback port nobody listened on a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The test build of `meta` (only the CLI's test crates have one).
pub(crate) fn meta_bin() -> &'static str {
    match option_env!("CARGO_BIN_EXE_meta") {
        Some(bin) => bin,
        None => panic!("only the CLI's tests can run `meta`"),
    }
}

/// How long `meta serve` may take to say it is serving.
const START: Duration = Duration::from_secs(60);

/// A `meta serve` command to start: on `127.0.0.1:0` unless
/// [`MetaServe::bind`] says otherwise, without the caller's `BATCHMETA_URL`
/// and `BATCHMETA_FAULTS`, without colours and backtraces.
#[derive(Debug)]
pub(crate) struct MetaServe {
    cwd: PathBuf,
    bind: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    removed: Vec<OsString>,
}

impl MetaServe {
    /// `meta serve` with `cwd` as its working directory (its default
    /// catalog is there unless the arguments name one).
    pub(crate) fn new(cwd: &Path) -> Self {
        MetaServe {
            cwd: cwd.to_path_buf(),
            bind: "127.0.0.1:0".into(),
            args: Vec::new(),
            envs: Vec::new(),
            removed: vec!["BATCHMETA_URL".into(), "BATCHMETA_FAULTS".into()],
        }
    }

    /// `meta serve` on the catalog and the warehouse of `place`, in its
    /// directory.
    pub(crate) fn on(place: &Place) -> Self {
        Self::new(place.path()).catalog(&place.database_url, &place.warehouse)
    }

    /// `--database-url` and `--warehouse`.
    pub(crate) fn catalog(self, database_url: &str, warehouse: &str) -> Self {
        self.args(["--database-url", database_url, "--warehouse", warehouse])
    }

    pub(crate) fn bind(mut self, addr: &str) -> Self {
        addr.clone_into(&mut self.bind);
        self
    }

    pub(crate) fn args<S: Into<OsString>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.removed.push(key.into());
        self
    }

    /// `BATCHMETA_FAULTS` (the test-only faults of `src/faults.rs`).
    pub(crate) fn faults(self, faults: &str) -> Self {
        self.env("BATCHMETA_FAULTS", faults)
    }

    /// The command, for a caller that runs it itself (to see it refuse).
    pub(crate) fn command(self) -> Command {
        let mut c = Command::new(meta_bin());
        c.current_dir(&self.cwd);
        for k in &self.removed {
            c.env_remove(k);
        }
        c.env("RUST_BACKTRACE", "0")
            .env("NO_COLOR", "1")
            .envs(self.envs)
            .args(["serve", "--bind", &self.bind])
            .args(self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        c
    }

    /// Starts it and waits until it says it is serving. Its log (stderr)
    /// is read to the end meanwhile, so that it never blocks on a full
    /// pipe, and kept ([`Served::log`]).
    pub(crate) fn start(self) -> Served {
        let mut child = self.command().stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = log.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                if let Some(at) = line.find("serving on ")
                    && let Some(tx) = tx.take()
                {
                    let base = line[at + "serving on ".len()..].trim().to_owned();
                    let _ = tx.send((base, log.clone()));
                }
                log.push(line);
            }
        });
        let Ok((base, before_banner)) = rx.recv_timeout(START) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "meta serve did not say it was serving: {:#?}",
                log.lock().unwrap()
            );
        };
        Served {
            child,
            base,
            before_banner,
            log,
        }
    }
}

/// A running `meta serve`, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) child: Child,
    /// `http://127.0.0.1:port`, as the server said.
    pub(crate) base: String,
    /// The log lines before the one that said it was serving.
    pub(crate) before_banner: Vec<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// SIGKILL, and wait for the process to be gone.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its log so far.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The HTTP app on a free loopback port, served on a tokio task as `meta
/// serve` serves it (`limits::serve_with`); stopped when dropped.
#[derive(Debug)]
pub(crate) struct InProcess {
    /// `127.0.0.1:port`.
    pub(crate) addr: String,
    task: tokio::task::JoinHandle<()>,
}

impl InProcess {
    pub(crate) async fn start(ms: Metastore, config: ServerConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let router = app(ms, config.clone());
            limits::serve_with(listener, router, std::future::pending(), &config)
                .await
                .unwrap();
        });
        InProcess { addr, task }
    }

    /// `http://127.0.0.1:port`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.task.abort();
    }
}
