//! The delivery loop: claim the feed, read the publish events after its
//! cursor, POST each commit's RunEvent until a 2xx, advance the cursor.
//! A crash between a POST and the advance sends that event again on
//! restart (at least once); nothing is sent before its publish committed,
//! since only committed events are in the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Metastore;
use crate::error::Result;
use crate::model::{Action, BatchId, BatchRef, Direction, Event, EventQuery, MAX_PAGE, Secret};
use crate::server::Metrics;

use super::event::{Naming, commits, run_event};

/// The catalog's delivery feed of OpenLineage events.
pub const FEED: &str = "openlineage";

/// The most publish events one commit may have before its RunEvent is sent
/// in parts (one per page of the log).
const MAX_COMMIT_EVENTS: usize = 100 * MAX_PAGE as usize;

/// Where and how to deliver.
#[derive(Clone)]
pub struct OpenLineageConfig {
    /// The receiver: every event is POSTed here (e.g. Marquez's
    /// `http://host:5000/api/v1/lineage`).
    pub url: String,
    /// Sent as `Authorization: Bearer <key>`, never logged.
    pub api_key: Option<Secret>,
    /// Dataset and job namespaces.
    pub naming: Naming,
    /// How long a claim of the feed lasts without renewal.
    pub lease: Duration,
    /// The pause between two reads of the log when nothing is new.
    pub poll: Duration,
    /// The longest pause between two attempts while the receiver is down.
    pub max_backoff: Duration,
    /// One POST's timeout.
    pub timeout: Duration,
    /// Who this server is to the feed (unique among live servers).
    pub holder: String,
}

impl std::fmt::Debug for OpenLineageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLineageConfig")
            .field("url", &crate::redact::url(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("naming", &self.naming)
            .field("lease", &self.lease)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

impl OpenLineageConfig {
    /// Checks the receiver's URL: http or https, with a host.
    pub fn check(&self) -> Result<()> {
        let bad = |why: &str| {
            crate::Error::invalid(
                crate::Code::InvalidUrl,
                format!(
                    "--openlineage-url {}: {why}; hint: give the receiver's full endpoint, e.g. http://marquez:5000/api/v1/lineage",
                    crate::redact::url(&self.url)
                ),
            )
        };
        let u = url::Url::parse(&self.url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(bad("not an http:// or https:// URL with a host"));
        }
        if self.naming.datasets.is_empty() || self.naming.jobs.is_empty() {
            return Err(bad("the dataset and job namespaces must not be empty"));
        }
        Ok(())
    }
}

/// Creates the feed (at the end of the log) before the server accepts
/// publishes, so that every publish it accepts is delivered. Returns the
/// cursor when this server holds the feed, `None` when another does.
pub async fn prepare(ms: &Metastore, config: &OpenLineageConfig) -> Result<Option<i64>> {
    ms.claim_feed(FEED, &config.holder, config.lease).await
}

/// Why one delivery attempt failed (no secret, no URL credentials).
type Failure = String;

/// Delivers forever (run it as a task; it stops with the process).
pub async fn deliver(ms: Metastore, config: OpenLineageConfig, metrics: Arc<Metrics>) {
    let client = match reqwest::Client::builder().timeout(config.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e.without_url(), "OpenLineage delivery is off: no HTTP client");
            return;
        }
    };
    let shown = crate::redact::url(&config.url);
    tracing::info!(receiver = %shown, holder = %config.holder, "OpenLineage delivery started");
    let mut pause = config.poll;
    let mut held = None;
    loop {
        match round(&ms, &config, &client, &metrics, &mut held).await {
            Ok(Round::Idle) => pause = config.poll,
            Ok(Round::Delivered) => continue,
            Ok(Round::NotHolder) => pause = config.lease / 2,
            Err(e) => {
                tracing::warn!(error = %e, "OpenLineage delivery: catalog unavailable, retrying");
                pause = (pause * 2).clamp(config.poll, config.max_backoff);
            }
        }
        tokio::time::sleep(pause).await;
    }
}

enum Round {
    /// Nothing new.
    Idle,
    /// Some events went out.
    Delivered,
    /// Another server holds the feed (or took it over meanwhile).
    NotHolder,
}

/// The feed as this server last claimed or advanced it: its cursor, and
/// when the lease was last renewed.
#[derive(Debug, Clone, Copy)]
struct Held {
    cursor: i64,
    renewed: Instant,
}

/// One claim (unless the lease was renewed less than a third of it ago:
/// an idle server writes to the catalog a few times a lease, not every
/// poll), one read of the log, its commits delivered in order.
async fn round(
    ms: &Metastore,
    config: &OpenLineageConfig,
    client: &reqwest::Client,
    metrics: &Metrics,
    held: &mut Option<Held>,
) -> Result<Round> {
    let cursor = match *held {
        Some(h) if h.renewed.elapsed() < config.lease / 3 => h.cursor,
        _ => {
            let renewed = Instant::now();
            let Some(cursor) = ms.claim_feed(FEED, &config.holder, config.lease).await? else {
                *held = None;
                return Ok(Round::NotHolder);
            };
            *held = Some(Held { cursor, renewed });
            cursor
        }
    };
    let events = pending(ms, cursor).await?;
    metrics.openlineage_backlog(events.len());
    if events.is_empty() {
        return Ok(Round::Idle);
    }
    let mut left = events.len();
    for commit in commits(&events) {
        let inputs = inputs_of(ms, commit).await?;
        let body = run_event(&config.naming, commit, &inputs);
        if !post_until_accepted(ms, config, client, metrics, &body).await? {
            *held = None;
            return Ok(Round::NotHolder);
        }
        metrics.openlineage_delivered();
        let last = commit.last().map_or(cursor, |e| e.id);
        let renewed = Instant::now();
        if !ms
            .advance_feed(FEED, &config.holder, last, config.lease)
            .await?
        {
            *held = None;
            tracing::warn!("OpenLineage delivery: another server took over the feed");
            return Ok(Round::NotHolder);
        }
        *held = Some(Held {
            cursor: last,
            renewed,
        });
        left -= commit.len();
        metrics.openlineage_backlog(left);
    }
    Ok(Round::Delivered)
}

/// The publish events after `cursor`, in id order, ending at a commit's
/// end: a page that ends inside a commit is cut before it, unless the
/// commit is all there is (then more pages, up to [`MAX_COMMIT_EVENTS`]).
async fn pending(ms: &Metastore, cursor: i64) -> Result<Vec<Event>> {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map_or(cursor, |e| e.id);
        let page = ms
            .events(&EventQuery {
                action: Some(Action::Publish),
                after: Some(after),
                limit: Some(MAX_PAGE),
                ..Default::default()
            })
            .await?
            .items;
        let full = page.len() == MAX_PAGE as usize;
        events.extend(page);
        if !full {
            return Ok(events);
        }
        let groups = commits(&events);
        if groups.len() > 1 {
            let keep = events.len() - groups.last().map_or(0, |c| c.len());
            events.truncate(keep);
            return Ok(events);
        }
        if events.len() >= MAX_COMMIT_EVENTS {
            return Ok(events);
        }
    }
}

/// The batches a commit's batches were built from, each once, in order.
async fn inputs_of(ms: &Metastore, commit: &[Event]) -> Result<Vec<BatchRef>> {
    let batches: Vec<BatchId> = commit.iter().filter_map(|e| e.to_batch.clone()).collect();
    let mut inputs: Vec<BatchRef> = ms
        .lineage_edges(&batches, Direction::Up)
        .await?
        .into_iter()
        .map(|e| e.input)
        .collect();
    inputs.sort();
    inputs.dedup();
    Ok(inputs)
}

/// POSTs `body` until the receiver answers 2xx, backing off while it does
/// not; renews the feed's claim between attempts. `false` when another
/// server took the feed over meanwhile.
async fn post_until_accepted(
    ms: &Metastore,
    config: &OpenLineageConfig,
    client: &reqwest::Client,
    metrics: &Metrics,
    body: &serde_json::Value,
) -> Result<bool> {
    let mut pause = config.poll.max(Duration::from_millis(100));
    loop {
        match post(config, client, body).await {
            Ok(()) => return Ok(true),
            // The negative control of the delivery tests: a failed POST
            // counts as sent, as a fire-and-forget sender would have it.
            Err(_) if crate::faults::active("openlineage_fire_and_forget") => return Ok(true),
            Err(why) => {
                metrics.openlineage_failed();
                tracing::warn!(
                    receiver = %crate::redact::url(&config.url),
                    error = %why,
                    retry_in_ms = pause.as_millis() as u64,
                    "OpenLineage delivery failed, retrying"
                );
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(config.max_backoff);
        if ms
            .claim_feed(FEED, &config.holder, config.lease)
            .await?
            .is_none()
        {
            return Ok(false);
        }
    }
}

async fn post(
    config: &OpenLineageConfig,
    client: &reqwest::Client,
    body: &serde_json::Value,
) -> std::result::Result<(), Failure> {
    let mut req = client.post(&config.url).json(body);
    if let Some(key) = &config.api_key {
        req = req.bearer_auth(key.expose());
    }
    let res = req.send().await.map_err(|e| e.without_url().to_string())?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}
