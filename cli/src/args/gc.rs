//! `meta gc`.

use clap::Args;

/// `meta gc [NS[.TABLE]]`.
#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    /// A namespace or NS.TABLE; unset = every table
    pub(crate) scope: Option<String>,
    /// Collect committed batches older than this (30d, 12h), beside the table's retention policy
    #[arg(long)]
    pub(crate) older_than: Option<String>,
    /// Keep the last N committed batches of each partition (and N of the current batch's parents)
    #[arg(long)]
    pub(crate) keep_last: Option<u32>,
    /// Never collect a batch younger than this (default 7d; under 1h needs --force-grace)
    #[arg(long)]
    pub(crate) grace: Option<String>,
    /// Accept a grace period under one hour (a writer may still be publishing)
    #[arg(long)]
    pub(crate) force_grace: bool,
    /// Delete what the dry run lists (without it, nothing is changed)
    #[arg(long)]
    pub(crate) apply: bool,
}
