//! The command line, as clap definitions only; the commands live in
//! `commands/`.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// batchmeta: versioned tables where a bad overwrite never costs data.
///
/// Every write lands in a fresh batch; `meta rollback` puts the previous one back.
#[derive(Debug, Parser)]
#[command(name = "meta", version, propagate_version = true)]
#[command(after_help = "Example:\n  meta rollback sales.sold_items date=2016-10-31")]
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
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned tables for people
    Human,
    /// Stable JSON for scripts
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP service (example: meta serve --bind 127.0.0.1:8080)
    Serve(ServeArgs),
}

/// `meta serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; anything but loopback needs --insecure until tokens exist
    #[arg(long, env = "BATCHMETA_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: SocketAddr,
    /// Catalog database: sqlite:///path/catalog.db or postgres://...; unset = .batchmeta/catalog.db
    #[arg(long, env = "BATCHMETA_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Largest upload body in bytes (413 beyond it)
    #[arg(long, env = "BATCHMETA_MAX_UPLOAD_BYTES", default_value_t = batchmeta::server::DEFAULT_MAX_UPLOAD)]
    pub(crate) max_upload_bytes: u64,
    /// Allow binding a non-loopback address without authentication
    #[arg(long)]
    pub(crate) insecure: bool,
}
