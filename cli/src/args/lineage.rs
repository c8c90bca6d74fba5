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
