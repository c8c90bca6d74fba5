//! `meta lineage`, `meta stale` and the run options of `get` and `put`.

use clap::Args;

/// The run a `get` or `put` belongs to: a `put` records what `get`s of the
/// same run read since the run's last `put`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct RunArgs {
    /// The run this read or store belongs to (a scheduler's run id); a put records what gets of the same run read
    #[arg(long = "run", env = "BATCHMETA_RUN_ID", value_name = "ID")]
    pub(crate) run: Option<String>,
    /// The job name recorded with a put's batch
    #[arg(long, env = "BATCHMETA_JOB", value_name = "NAME")]
    pub(crate) job: Option<String>,
}

/// `meta lineage`.
#[derive(Debug, Args)]
pub(crate) struct LineageArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// Start from this batch (default: the partition's current batch)
    #[arg(long, value_name = "BATCH")]
    pub(crate) batch: Option<String>,
    /// What the batch was built from, transitively (the default)
    #[arg(long, conflicts_with = "down")]
    pub(crate) up: bool,
    /// What was built from the batch, transitively
    #[arg(long)]
    pub(crate) down: bool,
    /// At most this many steps away (1-100; default all)
    #[arg(long, value_name = "N")]
    pub(crate) depth: Option<u32>,
}

/// `meta stale`.
#[derive(Debug, Args)]
pub(crate) struct StaleArgs {
    /// Only this namespace, or NAMESPACE.TABLE (default: every table)
    pub(crate) scope: Option<String>,
}

/// `meta serve`'s OpenLineage delivery (docs/lineage.md). The receiver's
/// API key, if it needs one, comes from `BATCHMETA_OPENLINEAGE_API_KEY`
/// only (never a flag, so it stays out of process listings).
#[derive(Debug, Args, Clone)]
pub(crate) struct OpenLineageArgs {
    /// Send each publish as an OpenLineage RunEvent (COMPLETE) to this URL, at least once, from the event log (e.g. http://marquez:5000/api/v1/lineage)
    #[arg(long, env = "BATCHMETA_OPENLINEAGE_URL", value_name = "URL")]
    pub(crate) openlineage_url: Option<String>,
    /// The events' dataset namespace; give every replica the same (default: batchmeta://<this host's name>)
    #[arg(
        long,
        env = "BATCHMETA_OPENLINEAGE_DATASET_NAMESPACE",
        value_name = "NAMESPACE"
    )]
    pub(crate) openlineage_dataset_namespace: Option<String>,
    /// The events' job namespace (job names are the batches' job names)
    #[arg(
        long,
        env = "BATCHMETA_OPENLINEAGE_JOB_NAMESPACE",
        value_name = "NAMESPACE",
        default_value = "batchmeta"
    )]
    pub(crate) openlineage_job_namespace: String,
    /// Seconds a server's claim on the delivery lasts unrenewed; another replica takes over after it
    #[arg(
        long,
        env = "BATCHMETA_OPENLINEAGE_LEASE_SECS",
        value_name = "SECS",
        default_value_t = 30
    )]
    pub(crate) openlineage_lease_secs: u64,
    /// Longest pause, in seconds, between two attempts while the receiver is down
    #[arg(
        long,
        env = "BATCHMETA_OPENLINEAGE_MAX_BACKOFF_SECS",
        value_name = "SECS",
        default_value_t = 10
    )]
    pub(crate) openlineage_max_backoff_secs: u64,
}
