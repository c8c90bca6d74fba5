//! `meta`: every batchmeta operation from the shell, embedded or against a server.
//!
//! Exit codes: 0 ok, 1 user error (bad input, not found, conflict), 2
//! internal or environment error. Data goes to stdout, diagnostics to stderr.

mod args;
mod commands;
mod local;
mod output;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use output::Printer;
use settings::Session;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; a bad command line is the
            // user's to fix (1), never an internal error (2).
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BATCHMETA_LOG").unwrap_or_else(|_| {
                // PostgreSQL's notices ("already exists, skipping") are
                // not news to an operator.
                let level = if matches!(cli.command, Command::Serve(_)) {
                    "info,sqlx::postgres::notice=warn"
                } else {
                    "warn"
                };
                tracing_subscriber::EnvFilter::new(level)
            }),
        )
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .init();
    let printer = Printer::new(cli.global.output);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return ExitCode::from(printer.error(&batchmeta::Error::Internal(format!(
                "cannot start the async runtime: {e}"
            ))));
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(printer.error(&e)),
    }
}

async fn run(cli: &Cli) -> batchmeta::Result<()> {
    if let Command::Serve(a) = &cli.command {
        return commands::serve::run(&cli.global, a).await;
    }
    let s = Session::connect(&cli.global).await?;
    match &cli.command {
        Command::Serve(_) => Ok(()),
        Command::Ns(a) => commands::ns::run(&s, &a.command).await,
        Command::Table(a) => commands::table::run(&s, &a.command).await,
        Command::Partitions(a) => commands::partition::list(&s, a).await,
        Command::History(a) => commands::partition::history(&s, a).await,
        Command::Rollback(a) => commands::partition::rollback(&s, a).await,
        Command::Lineage(a) => commands::lineage::lineage(&s, a).await,
        Command::Stale(a) => commands::lineage::stale(&s, a).await,
        Command::Pin(a) => commands::pin::run(&s, &a.command).await,
        Command::Audit(a) => commands::audit::run(&s, a).await,
        Command::Files(a) => commands::files::run(&s, a).await,
        Command::Put(a) => commands::put::run(&s, a).await,
        Command::Get(a) => commands::get::run(&s, a).await,
        Command::Wait(a) => commands::wait::run(&s, a).await,
        Command::Verify => commands::verify::run(&s).await,
        Command::Gc(a) => commands::gc::run(&s, a).await,
        Command::Token(a) => commands::token::run(&s, &a.command).await,
    }
}
