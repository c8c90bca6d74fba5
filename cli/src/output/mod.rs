//! Everything the CLI prints: aligned tables and JSON to stdout, diagnostics
//! and errors to stderr, UTC times with their age, colour only on a terminal
//! and never with `NO_COLOR`.

pub(crate) mod table;
pub(crate) mod time;
pub(crate) mod views;

use std::io::{IsTerminal, Write};

use batchmeta::model::Edge;
use batchmeta::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::args::Output;

pub(crate) use table::Table;

/// Where and how results are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    format: Output,
    color: bool,
}

impl Printer {
    /// A printer for `format`; colour when stderr is a terminal and
    /// `NO_COLOR` is unset or empty.
    pub(crate) fn new(format: Output) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            format,
            color: !no_color && std::io::stderr().is_terminal(),
        }
    }

    /// Whether the user asked for JSON.
    pub(crate) fn json(&self) -> bool {
        self.format == Output::Json
    }

    /// Prints a value as pretty JSON on stdout.
    pub(crate) fn value<T: Serialize>(&self, v: &T) -> Result<()> {
        let text = serde_json::to_string_pretty(v)
            .map_err(|e| Error::Internal(format!("cannot encode the output: {e}")))?;
        stdout(&format!("{text}\n"))
    }

    /// Prints a value as one line of JSON on stdout (for streams such as `audit --follow`).
    pub(crate) fn json_line<T: Serialize>(&self, v: &T) -> Result<()> {
        let text = serde_json::to_string(v)
            .map_err(|e| Error::Internal(format!("cannot encode the output: {e}")))?;
        stdout(&format!("{text}\n"))
    }

    /// Prints text on stdout as it is.
    pub(crate) fn text(&self, s: &str) -> Result<()> {
        stdout(s)
    }

    /// Prints a table, or `empty` on stderr when it has no rows.
    pub(crate) fn table(&self, t: &Table, empty: &str) -> Result<()> {
        if t.is_empty() {
            self.note(empty);
            Ok(())
        } else {
            stdout(&t.render())
        }
    }

    /// A diagnostic line on stderr (never in the way of stdout).
    pub(crate) fn note(&self, s: &str) {
        eprintln!("{s}");
    }

    /// Prints an error (and its hint) on stderr and returns the exit status:
    /// 2 for internal or environment errors, 1 for everything the user can fix.
    pub(crate) fn error(&self, e: &Error) -> u8 {
        let (message, hint) = split_hint(e);
        if self.json() {
            let mut body = serde_json::json!({
                "error": { "code": e.code(), "message": message, "hint": hint }
            });
            if let Error::Conflict {
                current: Some(c), ..
            } = e
            {
                body["error"]["current_batch"] = serde_json::json!(c.to_string());
            }
            eprintln!("{body}");
        } else {
            eprintln!("{}: {message}", self.paint("error", "1;31"));
            if let Some(h) = hint {
                eprintln!("{}: {h}", self.paint("hint", "1;36"));
            }
        }
        // 2: not the command's fault (a bug, or a database or store that is
        // down); 1: the command or its input.
        match e.kind() {
            ErrorKind::Internal | ErrorKind::Unavailable | ErrorKind::InsufficientStorage => 2,
            _ => 1,
        }
    }

    fn paint(&self, s: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// The message and its hint, worded for the shell (the core words every
/// edge's hints, in `batchmeta::model::hint`).
pub(crate) fn split_hint(e: &Error) -> (String, Option<String>) {
    (e.message(), e.hint_for(Edge::Cli))
}

/// Writes to stdout; a closed pipe (`meta files ... | head -1`) ends the
/// process quietly, as it would for any Unix tool.
fn stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Error::Internal(format!("cannot write to stdout: {e}"))),
    }
}

/// Bytes for people: 512 B, 1.2 KiB, 3.4 MiB.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// An optional cell: the value or `-`.
pub(crate) fn cell(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use batchmeta::Code;

    #[test]
    fn hints_are_split_from_messages() {
        let e = Error::invalid(Code::InvalidName, "bad thing; hint: do this");
        assert_eq!(
            split_hint(&e),
            ("bad thing".to_owned(), Some("do this".to_owned()))
        );
        let e = Error::Internal("boom".into());
        assert!(split_hint(&e).1.is_some(), "internal errors say what to do");
        for bad in [
            batchmeta::model::TableIdent::parse("sales/sold_items").unwrap_err(),
            batchmeta::model::TableIdent::parse("Sales.sold_items").unwrap_err(),
            Error::invalid(Code::InvalidPartition, "invalid value"),
        ] {
            assert!(split_hint(&bad).1.is_some(), "{bad} has no hint");
        }
    }

    #[test]
    fn bytes_are_readable() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
    }
}
