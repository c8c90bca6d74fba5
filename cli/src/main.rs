//! `meta`: every batchmeta operation from the shell, embedded or against a server.
//!
//! Exit codes: 0 ok, 1 user error (bad input, not found, conflict), 2
//! internal or environment error. Data goes to stdout, diagnostics to stderr.

mod args;
mod commands;

use std::process::ExitCode;

use batchmeta::ErrorKind;
use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BATCHMETA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Serve(args) => commands::serve::run(&cli.global, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            match e.kind() {
                ErrorKind::Internal => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
