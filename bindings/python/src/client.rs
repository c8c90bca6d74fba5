//! The `Client` class: one connection to a catalog (embedded or a server),
//! reconnected after `fork()`, and what every operation shares: the
//! connection handle, running I/O with the GIL released, and paging
//! through listings. The operations are functions of the native module
//! that take the client first, one module per concern: [`crate::writes`],
//! [`crate::reads`], [`crate::versions`]. Each checks its arguments while
//! it holds the GIL, then releases it (`py.detach`) for everything that
//! does I/O, so Python threads store and load in parallel.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use batchmeta::model::Context;
use batchmeta::{ConnectOptions, Metastore};
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::convert;
use crate::errors::IntoPyResult;
use crate::runtime::rt;

/// A connection to a batchmeta catalog (embedded or a server).
#[pyclass(module = "batchmeta._native", frozen)]
pub(crate) struct Client {
    url: Option<String>,
    options: ConnectOptions,
    principal: String,
    /// The run whose reads this client's stores record (lineage).
    run: (String, Option<String>),
    /// The process that connected and its metastore; a forked child
    /// reconnects (connection pools do not survive `fork()`).
    conn: Mutex<(u32, Arc<Metastore>)>,
}

/// Runs a future on the runtime with the GIL released.
pub(crate) fn block<T, F>(py: Python<'_>, rt: &Runtime, fut: F) -> PyResult<T>
where
    T: Send,
    F: Future<Output = batchmeta::Result<T>> + Send,
{
    py.detach(|| rt.block_on(fut)).py()
}

/// Runs a future as a task on the runtime's workers with the GIL
/// released, and waits for its result. Unlike [`block`], whose future is
/// polled on the calling thread while a worker drives the sockets (a
/// thread switch at every database round trip), the task does its I/O on
/// the thread that receives it: for the many round trips of a store.
pub(crate) fn spawned<T, F>(py: Python<'_>, rt: &Runtime, fut: F) -> PyResult<T>
where
    T: Send + 'static,
    F: Future<Output = batchmeta::Result<T>> + Send + 'static,
{
    let task = rt.spawn(fut);
    py.detach(|| {
        rt.block_on(async {
            match task.await {
                Ok(out) => out,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(batchmeta::Error::Internal(format!(
                    "the store's task stopped before it finished: {e}"
                ))),
            }
        })
    })
    .py()
}

/// A fresh in-memory run of `(id, job)`.
fn run((id, job): &(String, Option<String>)) -> PyResult<batchmeta::Run> {
    batchmeta::Run::in_memory(id.clone(), job.clone()).py()
}

impl Client {
    /// The runtime, this process's metastore and the caller's context.
    pub(crate) fn handle(
        &self,
        py: Python<'_>,
    ) -> PyResult<(Arc<Runtime>, Arc<Metastore>, Context)> {
        let rt = rt()?;
        let pid = std::process::id();
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.0 != pid {
            let fresh = block(
                py,
                &rt,
                Metastore::connect(self.url.as_deref(), &self.options),
            )?
            .with_run(run(&self.run)?);
            let inherited = std::mem::replace(&mut *conn, (pid, Arc::new(fresh)));
            // Its pools belong to the parent's runtime: never touch them here.
            std::mem::forget(inherited);
        }
        Ok((rt, conn.1.clone(), Context::new(self.principal.clone())))
    }
}

#[pymethods]
impl Client {
    /// Connects to a catalog: `http(s)://` a server, `sqlite://...` or a
    /// directory an embedded catalog, `None` the embedded default `.batchmeta/`.
    #[new]
    #[pyo3(signature = (url=None, *, warehouse=None, direct_data=None, principal="python".to_owned(), storage_options=None, token=None, run_id=None, job=None))]
    #[expect(clippy::too_many_arguments, reason = "mirrors the Python signature")]
    fn new(
        py: Python<'_>,
        url: Option<String>,
        warehouse: Option<String>,
        direct_data: Option<bool>,
        principal: String,
        storage_options: Option<&Bound<'_, PyAny>>,
        token: Option<String>,
        run_id: Option<String>,
        job: Option<String>,
    ) -> PyResult<Self> {
        // Every client is a run: its stores record what it read since its
        // last store. A scheduler names the run; otherwise it is this client.
        let run_id = run_id.unwrap_or_else(|| {
            let now = chrono::Utc::now().timestamp_micros();
            format!("python-{}-{now}", std::process::id())
        });
        let run_spec = (run_id, job);
        let this_run = run(&run_spec)?;
        // Object-store credentials (object_store / deltalake key names); the
        // standard `AWS_*` variables fill in what is not given.
        let storage_options = convert::string_map(storage_options, "storage_options")?;
        let options = ConnectOptions {
            warehouse,
            direct_data,
            storage_options,
            token: token.map(batchmeta::model::Secret::new),
        };
        let rt = rt()?;
        let ms = block(py, &rt, Metastore::connect(url.as_deref(), &options))?.with_run(this_run);
        Ok(Self {
            url,
            options,
            principal,
            run: run_spec,
            conn: Mutex::new((std::process::id(), Arc::new(ms))),
        })
    }

    /// The catalog URL this client was given (`None` = embedded default).
    #[getter]
    fn url(&self) -> Option<String> {
        self.url.clone()
    }

    /// The run id this client's stores record.
    #[getter]
    fn run_id(&self) -> String {
        self.run.0.clone()
    }

    /// The warehouse URL.
    #[getter]
    fn warehouse(&self, py: Python<'_>) -> PyResult<String> {
        let (_, ms, _) = self.handle(py)?;
        Ok(ms.warehouse_url().to_owned())
    }

    fn __repr__(&self) -> String {
        match &self.url {
            Some(u) => format!("Client({u:?})"),
            None => "Client(None)".to_owned(),
        }
    }
}
