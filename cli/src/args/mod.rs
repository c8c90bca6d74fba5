//! The command line, as clap definitions only; the commands live in
//! `commands/`. Values stay strings here: the core validates names,
//! partitions and batch IDs, so that a bad value gets the core's message, a
//! hint and exit status 1.

mod catalog;
mod data;
mod gc;
mod lineage;

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub(crate) use catalog::{
    HistoryArgs, NsArgs, NsCommand, PartitionsArgs, PinArgs, PinCommand, RollbackArgs, TableArgs,
    TableCommand,
};
pub(crate) use data::{AuditArgs, FilesArgs, GetArgs, PutArgs, VersionArgs, WaitArgs};
pub(crate) use gc::GcArgs;
pub(crate) use lineage::{LineageArgs, OpenLineageArgs, RunArgs, StaleArgs};

/// batchmeta: versioned tables where a bad overwrite never costs data
///
/// Every write lands in a fresh batch; `meta rollback` puts the previous one back.
#[derive(Debug, Parser)]
#[command(name = "meta", version, propagate_version = true)]
#[command(after_help = "Example:
  meta table create sales.sold_items --columns 'id:int64,price:float64' --partition-by date:date
  meta put sales.sold_items date=2016-10-31 sold.parquet
  meta rollback sales.sold_items date=2016-10-31

Exit status: 0 ok, 1 user error (bad input, not found, conflict), 2 internal or environment error")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The catalog: http(s)://host:port (a server), sqlite:///path/catalog.db,
    /// postgres://..., or a directory; unset = the embedded default .batchmeta/
    #[arg(long, env = "BATCHMETA_URL", global = true)]
    pub(crate) url: Option<String>,
    /// The warehouse for a catalog given by a database URL
    #[arg(long, env = "BATCHMETA_WAREHOUSE", global = true)]
    pub(crate) warehouse: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub(crate) output: Output,
    /// Bearer token for a server that asks for one (from `meta token create`)
    #[arg(long, env = "BATCHMETA_TOKEN", global = true, hide_env_values = true)]
    pub(crate) token: Option<batchmeta::model::Secret>,
}

/// `meta serve --auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuthArg {
    /// No authentication (loopback only, unless --insecure)
    Off,
    /// Bearer tokens from `meta token create`
    Tokens,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned tables for people
    Human,
    /// Stable JSON for scripts (fields documented in docs/cli.md)
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP service
    #[command(after_help = "Example:\n  meta serve --bind 127.0.0.1:8080")]
    Serve(ServeArgs),
    /// Create, list and show namespaces
    #[command(after_help = "Example:\n  meta ns create sales --description 'what we sold'")]
    Ns(NsArgs),
    /// Create, list, show and drop tables
    #[command(
        after_help = "Example:\n  meta table create sales.sold_items --columns 'id:int64,price:float64' --partition-by date:date"
    )]
    Table(TableArgs),
    /// List a table's published partitions and their current batches
    #[command(after_help = "Example:\n  meta partitions sales.sold_items --prefix date=2016-10")]
    Partitions(PartitionsArgs),
    /// Show how a partition's pointer moved, newest first
    #[command(after_help = "Example:\n  meta history sales.sold_items date=2016-10-31")]
    History(HistoryArgs),
    /// Point a partition back at its previous batch (or any earlier one)
    #[command(after_help = "Example:
  meta rollback sales.sold_items date=2016-10-31
  meta rollback sales.sold_items date=2016-10-31 --to 20161102234252000000 -m 'bad upstream data'")]
    Rollback(RollbackArgs),
    /// What built a partition's batch (--up) or what was built from it (--down)
    #[command(after_help = "Example:
  meta lineage sales.daily_summary date=2016-10-31
  meta lineage sales.sold_items date=2016-10-31 --down --depth 2")]
    Lineage(LineageArgs),
    /// List current batches built from inputs that are no longer current
    #[command(after_help = "Example:\n  meta stale sales")]
    Stale(StaleArgs),
    /// Create, list and remove pins that hold a batch for a consumer
    #[command(
        after_help = "Example:\n  meta pin create sales.sold_items weekly_report --partition date=2016-10-31 --reason 'Q4 numbers'"
    )]
    Pin(PinArgs),
    /// Query the audit trail, or follow it as it grows
    #[command(after_help = "Example:
  meta audit --table sales.sold_items --since 2d
  meta audit --follow")]
    Audit(AuditArgs),
    /// Print the file URIs of partitions, one per line (for Spark, DuckDB, aws s3 cp)
    #[command(
        after_help = "Example:\n  duckdb -c \"SELECT count(*) FROM read_parquet([$(meta files sales.sold_items date=2016-10-31 | sed \"s/.*/'&'/\" | paste -sd,)])\""
    )]
    Files(FilesArgs),
    /// Store local Parquet, CSV or Arrow files as one new batch of a partition
    #[command(
        after_help = "Example:\n  meta put sales.sold_items date=2016-10-31 part1.parquet part2.csv -m 'nightly load'"
    )]
    Put(PutArgs),
    /// Read a partition into a local Parquet, Arrow or CSV file
    #[command(after_help = "Example:\n  meta get sales.sold_items date=2016-10-31 -o sold.parquet")]
    Get(GetArgs),
    /// Block until a partition is published (after a given batch)
    #[command(
        after_help = "Example:\n  meta wait sales.sold_items date=2016-10-31 --after 20161102234252000000 --timeout 10m"
    )]
    Wait(WaitArgs),
    /// Check every invariant of the catalog and the warehouse
    #[command(after_help = "Example:\n  meta verify")]
    Verify,
    /// Retention: what no rule keeps, and why the rest stays (a dry run unless --apply)
    #[command(after_help = "Examples:
  meta gc sales.sold_items --older-than 30d
  meta gc sales --keep-last 5 --apply")]
    Gc(GcArgs),
    /// Create, list and revoke the API tokens of `meta serve --auth tokens`
    #[command(after_help = "Example:
  meta token create nightly-etl --role writer:sales --role reader:marketing --expires 90d
  meta token ls
  meta token revoke nightly-etl")]
    Token(TokenArgs),
}

/// `meta token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    pub(crate) command: TokenCommand,
}

/// `meta token ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print its secret (shown once)
    #[command(
        after_help = "Roles: reader (resolve, load, list, history, events), writer (+ stage, put,
publish, rollback, pins), admin (+ create/drop tables, tokens). ROLE:NAMESPACE
grants it on one namespace; ROLE alone on every namespace (admin alone is the
global admin).

Example:
  meta token create nightly-etl --role writer:sales --expires 90d
  meta token create ops --role admin"
    )]
    Create {
        /// The token's name (letters, digits, _ - . @); events record it as token:NAME
        name: String,
        /// A role, as ROLE:NAMESPACE or ROLE for every namespace; repeat for more
        #[arg(long = "role", required = true, value_name = "ROLE[:NAMESPACE]")]
        roles: Vec<String>,
        /// When it stops working: a duration (90d, 12h) or a time (2027-01-01T00:00:00Z)
        #[arg(long)]
        expires: Option<String>,
    },
    /// List tokens (never their secrets)
    #[command(after_help = "Example:\n  meta token ls --all")]
    Ls {
        /// Also list revoked tokens
        #[arg(long)]
        all: bool,
    },
    /// Revoke a token; it stops working at once
    #[command(after_help = "Example:\n  meta token revoke nightly-etl")]
    Revoke {
        /// The token's name
        name: String,
    },
}

/// `meta serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; anything but loopback needs --auth tokens (or --insecure)
    #[arg(long, env = "BATCHMETA_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: SocketAddr,
    /// off: no authentication, callers name themselves (loopback only);
    /// tokens: every request needs a bearer token (meta token create)
    #[arg(long, env = "BATCHMETA_AUTH", value_enum, default_value = "off")]
    pub(crate) auth: AuthArg,
    /// Requests per second per token, also the burst (429 beyond it); 0 = no limit
    #[arg(long, env = "BATCHMETA_RATE_LIMIT", default_value_t = batchmeta::server::auth::DEFAULT_RATE)]
    pub(crate) rate_limit: u32,
    /// Most snapshots of a table's history one Iceberg loadTable carries (the newest; older states stay readable as table@<time>)
    #[arg(long, env = "BATCHMETA_ICEBERG_MAX_SNAPSHOTS", default_value_t = batchmeta::iceberg::DEFAULT_MAX_SNAPSHOTS)]
    pub(crate) iceberg_max_snapshots: usize,
    /// Catalog database: sqlite:///path/catalog.db or postgres://...; unset = .batchmeta/catalog.db
    #[arg(long, env = "BATCHMETA_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Largest upload body in bytes (413 beyond it)
    #[arg(long, env = "BATCHMETA_MAX_UPLOAD_BYTES", default_value_t = batchmeta::server::DEFAULT_MAX_UPLOAD)]
    pub(crate) max_upload_bytes: u64,
    /// Largest JSON request body in bytes (413 payload_too_large beyond it)
    #[arg(long, env = "BATCHMETA_MAX_JSON_BYTES", default_value_t = batchmeta::server::limits::DEFAULT_MAX_JSON_BYTES)]
    pub(crate) max_json_bytes: usize,
    /// Deepest nesting of arrays and objects in a JSON body (400 json_too_deep)
    #[arg(long, env = "BATCHMETA_MAX_JSON_DEPTH", default_value_t = batchmeta::server::limits::DEFAULT_MAX_JSON_DEPTH)]
    pub(crate) max_json_depth: usize,
    /// Most partitions one stage, publish, resolve or read request may name (400 too_many_partitions)
    #[arg(long, env = "BATCHMETA_MAX_PARTITIONS_PER_REQUEST", default_value_t = batchmeta::server::limits::DEFAULT_MAX_PARTITIONS)]
    pub(crate) max_partitions_per_request: usize,
    /// Most bytes a Parquet upload may declare uncompressed (413 decompression_limit)
    #[arg(long, env = "BATCHMETA_MAX_UNCOMPRESSED_BYTES", default_value_t = batchmeta::server::limits::DEFAULT_MAX_UNCOMPRESSED)]
    pub(crate) max_uncompressed_bytes: u64,
    /// Highest uncompressed/compressed ratio a Parquet upload may declare (413 decompression_limit)
    #[arg(long, env = "BATCHMETA_MAX_COMPRESSION_RATIO", default_value_t = batchmeta::server::limits::DEFAULT_MAX_COMPRESSION_RATIO)]
    pub(crate) max_compression_ratio: u64,
    /// Seconds a client has to send a request's headers before it is disconnected
    #[arg(long, env = "BATCHMETA_HEADER_READ_TIMEOUT_SECS", default_value_t = batchmeta::server::limits::DEFAULT_HEADER_READ_TIMEOUT.as_secs())]
    pub(crate) header_read_timeout_secs: u64,
    /// Longest pause in seconds between two chunks of a request body (408 body_timeout)
    #[arg(long, env = "BATCHMETA_BODY_READ_TIMEOUT_SECS", default_value_t = batchmeta::server::limits::DEFAULT_BODY_READ_TIMEOUT.as_secs())]
    pub(crate) body_read_timeout_secs: u64,
    /// Slowest average rate in bytes a second a request body may arrive at once its first --body-read-timeout-secs are over (408 body_timeout; 0 = no minimum)
    #[arg(long, env = "BATCHMETA_MIN_BODY_RATE", default_value_t = batchmeta::server::limits::DEFAULT_MIN_BODY_RATE)]
    pub(crate) min_body_rate: u64,
    /// Allow binding a non-loopback address without authentication
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Most PostgreSQL connections this replica opens (its pool size)
    #[arg(long, env = "BATCHMETA_MAX_CONNECTIONS", default_value_t = 10)]
    pub(crate) max_connections: u32,
    /// Seconds opening one PostgreSQL connection may take before the database counts as unavailable
    #[arg(long, env = "BATCHMETA_DB_CONNECT_TIMEOUT_SECS", default_value_t = 5)]
    pub(crate) db_connect_timeout_secs: u64,
    /// Seconds a request waits for a PostgreSQL connection before it fails with 503 database_unavailable
    #[arg(long, env = "BATCHMETA_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub(crate) db_acquire_timeout_secs: u64,
    /// Start even if PostgreSQL has fsync, full_page_writes or synchronous_commit off (throwaway servers only)
    #[arg(long)]
    pub(crate) unsafe_durability: bool,
    /// Also serve the Hive Metastore Thrift API (read-only, no authentication) on this address, e.g. 127.0.0.1:9083; anything but loopback needs --insecure
    #[arg(long, env = "BATCHMETA_HMS_BIND")]
    pub(crate) hms_bind: Option<SocketAddr>,
    /// Largest Thrift message in bytes; a bigger one closes the connection
    #[arg(long, env = "BATCHMETA_HMS_MAX_FRAME_BYTES", default_value_t = batchmeta::hms::DEFAULT_MAX_FRAME_BYTES)]
    pub(crate) hms_max_frame_bytes: usize,
    /// Most open Thrift connections; more are closed at once
    #[arg(long, env = "BATCHMETA_HMS_MAX_CONNECTIONS", default_value_t = batchmeta::hms::DEFAULT_MAX_CONNECTIONS)]
    pub(crate) hms_max_connections: usize,
    /// Seconds a Thrift connection may stay silent (also inside a message) before it is closed
    #[arg(long, env = "BATCHMETA_HMS_IDLE_TIMEOUT_SECS", default_value_t = batchmeta::hms::DEFAULT_IDLE_TIMEOUT.as_secs())]
    pub(crate) hms_idle_timeout_secs: u64,
    #[command(flatten)]
    pub(crate) openlineage: OpenLineageArgs,
}
