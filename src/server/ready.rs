//! Readiness for load balancers: `/readyz` must answer within a second even
//! while the database or the object store hangs, and a burst of probes must
//! not become a burst of database queries. One probe runs at a time, each
//! dependency bounded by [`PROBE_TIMEOUT`], and its result is kept for
//! [`FRESH_FOR`].

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::Mutex;

use crate::Metastore;

/// How long one dependency may take to answer the probe.
const PROBE_TIMEOUT: Duration = Duration::from_millis(700);
/// How long a probe's result is served without probing again.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// The last probe's time and result (`Err` names what is not reachable).
#[derive(Debug, Default)]
pub(crate) struct Readiness {
    last: Mutex<Option<(Instant, Result<(), &'static str>)>>,
}

impl Readiness {
    /// Whether the catalog database and the warehouse answer; `Err` names
    /// the first one that does not.
    pub(crate) async fn check(&self, ms: &Metastore) -> Result<(), &'static str> {
        // Callers queue here while one probe runs, then read its result.
        let mut last = self.last.lock().await;
        if let Some((at, result)) = *last
            && at.elapsed() < FRESH_FOR
        {
            return result;
        }
        let result = probe(ms).await;
        *last = Some((Instant::now(), result));
        result
    }
}

async fn probe(ms: &Metastore) -> Result<(), &'static str> {
    let database = async {
        match tokio::time::timeout(PROBE_TIMEOUT, ms.namespaces()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: catalog database");
                Err("catalog database")
            }
            Err(_) => {
                tracing::warn!(timeout = ?PROBE_TIMEOUT, "readiness: catalog database did not answer");
                Err("catalog database")
            }
        }
    };
    let storage = async {
        let Ok(direct) = ms.direct() else {
            return Ok(());
        };
        let store = direct.store();
        let first = async { store.list(None).next().await };
        match tokio::time::timeout(PROBE_TIMEOUT, first).await {
            Ok(None | Some(Ok(_))) => Ok(()),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "readiness: warehouse");
                Err("warehouse")
            }
            Err(_) => {
                tracing::warn!(timeout = ?PROBE_TIMEOUT, "readiness: warehouse did not answer");
                Err("warehouse")
            }
        }
    };
    let (d, s) = tokio::join!(database, storage);
    d.and(s)
}
