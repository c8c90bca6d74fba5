//! Progress on long work (`put`, `get`): a spinner with counts on stderr,
//! only when stderr is a terminal and only once the work has taken more than
//! a couple of seconds, so that quick commands and scripts see nothing.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its progress is shown.
const SHOW_AFTER: Duration = Duration::from_secs(2);

/// A progress line that may never be drawn.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Starts tracking; draws nothing until [`SHOW_AFTER`] has passed.
    pub(crate) fn start(message: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        if std::io::stderr().is_terminal() {
            let later = bar.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SHOW_AFTER).await;
                if !later.is_finished() {
                    later.set_draw_target(ProgressDrawTarget::stderr());
                    later.enable_steady_tick(Duration::from_millis(120));
                }
            });
        }
        Self { bar }
    }

    /// Replaces the message.
    pub(crate) fn set(&self, message: String) {
        self.bar.set_message(message);
    }

    /// Removes the line (if it was ever drawn).
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
