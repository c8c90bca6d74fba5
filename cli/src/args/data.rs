//! Definitions of the data commands (put, get, files, wait) and of audit.

use std::path::PathBuf;

use clap::Args;

/// Which version of a partition to read: current unless one of these.
#[derive(Debug, Clone, Default, Args)]
#[group(multiple = false)]
pub(crate) struct VersionArgs {
    /// Read this committed batch
    #[arg(long, value_name = "BATCH")]
    pub(crate) batch: Option<String>,
    /// Read what was current at this time (ISO 8601, or an age like 2d)
    #[arg(long, value_name = "TIME")]
    pub(crate) as_of: Option<String>,
    /// Read what this pin holds
    #[arg(long, value_name = "NAME")]
    pub(crate) pin: Option<String>,
}

/// `meta files`.
#[derive(Debug, Args)]
pub(crate) struct FilesArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// Partitions (date=2016-10-31 ...); none = every published partition
    pub(crate) partitions: Vec<String>,
    #[command(flatten)]
    pub(crate) version: VersionArgs,
}

/// `meta put`.
#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// Local files: .parquet, .csv, or .arrow/.ipc/.feather (Arrow IPC); all go into one batch
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Publish only if the current batch is this one ("none" = never published)
    #[arg(long, value_name = "BATCH")]
    pub(crate) expect: Option<String>,
    /// Why, for the audit trail
    #[arg(short, long)]
    pub(crate) message: Option<String>,
    /// strict refuses any schema difference; merge adds new columns to the table
    #[arg(long, default_value = "strict", value_name = "MODE")]
    pub(crate) schema_mode: String,
    /// A batch the data was built from (lineage), besides what gets of the same --run read; repeat for more
    #[arg(long = "input", value_name = "BATCH")]
    pub(crate) inputs: Vec<String>,
    /// Record only the --input batches, not what the run read
    #[arg(long)]
    pub(crate) only_inputs: bool,
    #[command(flatten)]
    pub(crate) run: super::RunArgs,
}

/// `meta get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// Output file; .parquet, .arrow/.ipc/.feather or .csv by extension; - = Parquet to stdout
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output_file: PathBuf,
    /// Only these columns (comma-separated; partition keys allowed)
    #[arg(long, value_delimiter = ',')]
    pub(crate) columns: Option<Vec<String>>,
    #[command(flatten)]
    pub(crate) version: VersionArgs,
    #[command(flatten)]
    pub(crate) run: super::RunArgs,
}

/// `meta wait`.
#[derive(Debug, Args)]
pub(crate) struct WaitArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// Wait for a batch other than this one (default: any published batch)
    #[arg(long, value_name = "BATCH")]
    pub(crate) after: Option<String>,
    /// Give up after this long (30s, 10m, 2h)
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub(crate) timeout: String,
}

/// `meta audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Only this namespace
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    /// Only this table, as NAMESPACE.TABLE
    #[arg(long)]
    pub(crate) table: Option<String>,
    /// Only this partition (needs --table)
    #[arg(long, requires = "table")]
    pub(crate) partition: Option<String>,
    /// Only this principal
    #[arg(long)]
    pub(crate) principal: Option<String>,
    /// Only this action (publish, rollback, create_table, create_pin, ...)
    #[arg(long)]
    pub(crate) action: Option<String>,
    /// At or after this time: an age (30m, 2d, 1w) or ISO 8601
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// Before this time: an age (30m, 2d, 1w) or ISO 8601
    #[arg(long, value_name = "TIME")]
    pub(crate) until: Option<String>,
    /// Only events with an id greater than this, oldest first (the change feed)
    #[arg(long, value_name = "ID")]
    pub(crate) after: Option<i64>,
    /// Keep printing new events (polls every second) until interrupted
    #[arg(long, short)]
    pub(crate) follow: bool,
    /// At most this many events (before --follow starts)
    #[arg(long, default_value_t = 100)]
    pub(crate) limit: u32,
}
