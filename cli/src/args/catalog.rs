//! Definitions of the catalog commands: namespaces, tables, partitions,
//! history, rollback and pins.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `meta ns`.
#[derive(Debug, Args)]
pub(crate) struct NsArgs {
    #[command(subcommand)]
    pub(crate) command: NsCommand,
}

/// `meta ns ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum NsCommand {
    /// Create a namespace
    #[command(
        after_help = "Example:\n  meta ns create sales --description 'what we sold' --owner data-eng"
    )]
    Create {
        /// The namespace: lowercase letters, digits and _
        name: String,
        /// What it holds
        #[arg(long)]
        description: Option<String>,
        /// Who to ask about it
        #[arg(long)]
        owner: Option<String>,
    },
    /// List namespaces
    #[command(after_help = "Example:\n  meta ns ls")]
    Ls,
    /// Show a namespace and its tables
    #[command(after_help = "Example:\n  meta ns show sales")]
    Show {
        /// The namespace
        name: String,
    },
    /// Set a namespace's retention policy (the default of its tables)
    #[command(after_help = "Example:\n  meta ns set sales --retention keep_last=3,max_age=30d")]
    Set {
        /// The namespace
        name: String,
        /// Retention settings: keep_last=N, max_age=30d, keep_inputs_of_pinned=true; NAME=none removes one
        #[arg(long, value_name = "SETTINGS")]
        retention: String,
    },
}

/// `meta table`.
#[derive(Debug, Args)]
pub(crate) struct TableArgs {
    #[command(subcommand)]
    pub(crate) command: TableCommand,
}

/// `meta table ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TableCommand {
    /// Create a table from inline columns, a Parquet file's schema or an Arrow schema JSON
    #[command(after_help = "Example:
  meta table create sales.sold_items --columns 'id:int64,price:float64' --partition-by date:date
  meta table create sales.sold_items --schema-from sold.parquet --partition-by date:date,region:string")]
    Create {
        /// The table, as NAMESPACE.TABLE
        table: String,
        /// Columns as name:type pairs (int64, float64, string, bool, date, timestamp, ...)
        #[arg(long, group = "schema")]
        columns: Option<String>,
        /// Take the columns from a Parquet file's footer
        #[arg(long, group = "schema", value_name = "FILE")]
        schema_from: Option<PathBuf>,
        /// Take the columns from an Arrow schema JSON file (arrow-rs serde form)
        #[arg(long, group = "schema", value_name = "FILE")]
        schema_json: Option<PathBuf>,
        /// Partition keys in order, as name:type (string, int or date)
        #[arg(long, value_name = "KEYS")]
        partition_by: Option<String>,
        /// What it holds
        #[arg(long)]
        description: Option<String>,
        /// Who to ask about it
        #[arg(long)]
        owner: Option<String>,
    },
    /// List the tables of a namespace (or of every namespace)
    #[command(after_help = "Example:\n  meta table ls sales")]
    Ls {
        /// The namespace; unset = every namespace
        namespace: Option<String>,
    },
    /// Show a table: columns, partition keys, owner
    #[command(after_help = "Example:\n  meta table show sales.sold_items")]
    Show {
        /// The table, as NAMESPACE.TABLE
        table: String,
    },
    /// Set a table's retention policy (what `meta gc` may delete)
    #[command(after_help = "Example:
  meta table set sales.sold_items --retention keep_last=3,max_age=30d
  meta table set sales.sold_items --retention max_age=none")]
    Set {
        /// The table, as NAMESPACE.TABLE
        table: String,
        /// Retention settings: keep_last=N, max_age=30d, keep_inputs_of_pinned=true; NAME=none removes one
        #[arg(long, value_name = "SETTINGS")]
        retention: String,
    },
    /// Drop a table from listings; its data and history stay
    #[command(after_help = "Example:\n  meta table drop sales.sold_items")]
    Drop {
        /// The table, as NAMESPACE.TABLE
        table: String,
    },
}

/// `meta partitions`.
#[derive(Debug, Args)]
pub(crate) struct PartitionsArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// Only partitions starting with this (date=2016-10, or a bare value prefix of the first key)
    #[arg(long)]
    pub(crate) prefix: Option<String>,
    /// First key at least this value (inclusive)
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// First key at most this value (inclusive)
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// At most this many partitions
    #[arg(long, default_value_t = 1000)]
    pub(crate) limit: u32,
}

/// `meta history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// At most this many events
    #[arg(long, default_value_t = 100)]
    pub(crate) limit: u32,
}

/// `meta rollback`.
#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// The table, as NAMESPACE.TABLE
    pub(crate) table: String,
    /// The partition: date=2016-10-31, date=2016-10-31/region=us, or a bare value for one-key tables
    pub(crate) partition: String,
    /// Make this committed batch current (default: the current batch's parent)
    #[arg(long, value_name = "BATCH")]
    pub(crate) to: Option<String>,
    /// Only if the current batch is this one (compare-and-swap)
    #[arg(long, value_name = "BATCH")]
    pub(crate) expect: Option<String>,
    /// Why, for the audit trail
    #[arg(short, long)]
    pub(crate) message: Option<String>,
    /// Show what the rollback would retire and affect downstream, and move nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `meta pin`.
#[derive(Debug, Args)]
pub(crate) struct PinArgs {
    #[command(subcommand)]
    pub(crate) command: PinCommand,
}

/// `meta pin ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum PinCommand {
    /// Pin a partition's batch (or the table as of a time) for a consumer
    #[command(after_help = "Example:
  meta pin create sales.sold_items weekly_report --partition date=2016-10-31 --reason 'Q4 numbers'
  meta pin create sales.sold_items audit_2016 --as-of 2016-12-31T23:59:59Z --expires 90d")]
    Create {
        /// The table, as NAMESPACE.TABLE
        table: String,
        /// The consumer's name (lowercase letters, digits and _)
        name: String,
        /// Pin this partition (its current batch unless --batch)
        #[arg(long, conflicts_with = "as_of")]
        partition: Option<String>,
        /// Pin this batch of --partition
        #[arg(long, requires = "partition")]
        batch: Option<String>,
        /// Pin the whole table as it was at this time (ISO 8601, or an age like 2d)
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Who to ask about it (default: you)
        #[arg(long)]
        owner: Option<String>,
        /// Why it is pinned
        #[arg(long)]
        reason: Option<String>,
        /// When it stops holding anything: a duration from now (30d) or an ISO time
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
    },
    /// List the pins of a table (or of every table)
    #[command(after_help = "Example:\n  meta pin ls sales.sold_items")]
    Ls {
        /// The table, as NAMESPACE.TABLE; unset = every table
        table: Option<String>,
    },
    /// Remove a pin
    #[command(after_help = "Example:\n  meta pin rm sales.sold_items weekly_report")]
    Rm {
        /// The table, as NAMESPACE.TABLE
        table: String,
        /// The pin's name
        name: String,
    },
}
