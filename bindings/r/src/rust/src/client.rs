//! A client is an external pointer to [`Client`], one connection to a
//! catalog (embedded or a server), reconnected after `fork()`; and what
//! every operation shares: running I/O on the runtime while watching for
//! Ctrl-C, answering a value or a condition, and paging through listings.
//! The operations are by concern in [`crate::writes`], [`crate::reads`] and
//! [`crate::versions`]; each checks its arguments, runs the I/O with
//! [`block`], and answers its value or a condition (see `errors`).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use batchmeta::model::{Context, TableIdent};
use batchmeta::{ConnectOptions, Metastore};
use extendr_api::prelude::*;

use crate::errors::{IntoR, RResult, interrupted, invalid};
use crate::runtime::rt;
use crate::values::{self, opt_str, req_str};

/// How often a running call looks for Ctrl-C.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// A connection to a batchmeta catalog (embedded or a server).
pub(crate) struct Client {
    url: Option<String>,
    options: ConnectOptions,
    principal: String,
    /// The process that connected and its metastore; a forked child
    /// reconnects (connection pools do not survive `fork()`).
    conn: Mutex<(u32, Arc<Metastore>)>,
}

/// Runs `fut` to completion on the runtime, on R's main thread, looking
/// for Ctrl-C every [`INTERRUPT_POLL`]. An interrupt drops the future: a
/// store that had not committed its publish transaction publishes nothing
/// (its staged batch stays invisible to readers).
pub(crate) fn block<T>(what: &str, fut: impl Future<Output = batchmeta::Result<T>>) -> RResult<T> {
    let rt = rt().r()?;
    rt.block_on(async {
        let mut fut = std::pin::pin!(fut);
        let mut tick = tokio::time::interval(INTERRUPT_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                out = &mut fut => return out.r(),
                _ = tick.tick() => {
                    if crate::interrupt::pending() {
                        return Err(interrupted(what));
                    }
                }
            }
        }
    })
}

pub(crate) fn get_client(ptr: &Robj) -> RResult<ExternalPtr<Client>> {
    ExternalPtr::<Client>::try_from(ptr).map_err(|_| {
        invalid(
            "invalid_input",
            "client must be a batchmeta client from batchmeta::connect()",
        )
    })
}

impl Client {
    /// This process's metastore and the caller's context.
    pub(crate) fn handle(&self) -> RResult<(Arc<Metastore>, Context)> {
        let pid = std::process::id();
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.0 != pid {
            let fresh = block(
                "connect",
                Metastore::connect(self.url.as_deref(), &self.options),
            )?;
            let inherited = std::mem::replace(&mut *conn, (pid, Arc::new(fresh)));
            std::mem::forget(inherited);
        }
        Ok((conn.1.clone(), Context::new(self.principal.clone())))
    }
}

/// The table named by a namespace and a table name.
pub(crate) fn ident(namespace: &Robj, table: &Robj) -> RResult<TableIdent> {
    TableIdent::new(&req_str(namespace, "namespace")?, &req_str(table, "table")?).r()
}

/// The value, or the condition to signal.
pub(crate) fn answer(r: RResult<Robj>) -> Robj {
    r.unwrap_or_else(|c| c)
}

/// Connects: `url` `NULL` = the embedded default `.batchmeta/`.
#[extendr]
fn bm_connect(url: Robj, warehouse: Robj, token: Robj, principal: Robj, direct_data: Robj) -> Robj {
    answer((|| {
        let url = opt_str(&url, "url")?;
        let options = ConnectOptions {
            warehouse: opt_str(&warehouse, "warehouse")?,
            direct_data: values::opt_bool(&direct_data, "direct_data")?,
            storage_options: Default::default(),
            token: opt_str(&token, "token")?.map(batchmeta::model::Secret::new),
        };
        let principal = opt_str(&principal, "principal")?.unwrap_or_else(|| "r".to_owned());
        let ms = block("connect", Metastore::connect(url.as_deref(), &options))?;
        let c = Client {
            url,
            options,
            principal,
            conn: Mutex::new((std::process::id(), Arc::new(ms))),
        };
        Ok(ExternalPtr::new(c).into())
    })())
}

/// The warehouse URL.
#[extendr]
fn bm_warehouse(client: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let (ms, _) = c.handle()?;
        Ok(ms.warehouse_url().into())
    })())
}

extendr_module! {
    mod client;
    fn bm_connect;
    fn bm_warehouse;
}
