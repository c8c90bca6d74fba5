//! Shared by the test crates that start `meta serve` processes.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStderr};

/// Reads `meta serve`'s log (its stderr, piped) until it says it is serving;
/// returns the base URL it serves on and the rest of the log, which the
/// caller must keep draining so that the server never blocks on a full pipe.
pub(crate) fn wait_serving(child: &mut Child) -> (String, Lines<BufReader<ChildStderr>>) {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("meta serve exited before serving: {seen:#?}"))
            .unwrap();
        if let Some(at) = line.find("serving on ") {
            return (line[at + "serving on ".len()..].trim().to_owned(), lines);
        }
        seen.push(line);
    }
}
