//! The catalog's clock. Batch IDs and event times come from it, never from a
//! client; tests swap in a clock that steps back.

use chrono::{DateTime, Utc};

/// A source of server time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
