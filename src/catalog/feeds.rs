//! Delivery feeds: a durable cursor over the event log and a lease on it,
//! for deliveries that must survive restarts (OpenLineage,
//! docs/lineage.md). The rule of who may deliver is written once here;
//! the backends read the feed's row under their write lock, ask
//! [`claimable`], and write.
//!
//! A feed is created at the end of the log when it is first claimed, so it
//! delivers what is published from then on. Its holder renews the lease with
//! every claim and every advance; another server may take the feed over
//! once the lease has run out (its holder stopped or lost the catalog). A
//! holder that lost the feed is told so when it next advances it, and at
//! most the events it was delivering are sent twice.

use chrono::{DateTime, Utc};

use crate::error::{Code, Error, Result};

/// The longest feed name or holder name.
const MAX_NAME: usize = 200;

/// A feed's row as a backend read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeedRow {
    /// The id of the last event delivered.
    pub(crate) cursor: i64,
    /// Who holds the feed, if anyone does.
    pub(crate) holder: Option<String>,
    /// Until when.
    pub(crate) lease_until: Option<DateTime<Utc>>,
}

/// Whether `holder` may take or keep the feed at `now`: nobody holds it,
/// `holder` does, or its holder's lease has run out.
pub(crate) fn claimable(row: &FeedRow, holder: &str, now: DateTime<Utc>) -> bool {
    match (&row.holder, row.lease_until) {
        (None, _) => true,
        (Some(h), _) if h == holder => true,
        (Some(_), Some(until)) => until <= now,
        (Some(_), None) => true,
    }
}

/// Whether `holder` still holds the feed (to advance its cursor): a lease
/// that ran out still counts until another server claims the feed.
pub(crate) fn holds(row: &FeedRow, holder: &str) -> bool {
    row.holder.as_deref() == Some(holder)
}

/// The cursor after an advance to `to`: never backwards.
pub(crate) fn advanced(row: &FeedRow, to: i64) -> i64 {
    row.cursor.max(to)
}

/// Checks a feed's and a holder's names (any text a server chose, bounded).
pub(crate) fn check_names(feed: &str, holder: &str) -> Result<()> {
    for (what, s) in [("feed", feed), ("feed holder", holder)] {
        if s.is_empty() || s.len() > MAX_NAME || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                Code::InvalidText,
                format!(
                    "the {what} name must be 1 to {MAX_NAME} characters without control characters"
                ),
            ));
        }
    }
    Ok(())
}

/// The lease's end: `now` plus `lease`.
pub(crate) fn lease_end(now: DateTime<Utc>, lease: std::time::Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    #[test]
    fn only_the_holder_until_its_lease_runs_out() {
        let free = FeedRow {
            cursor: 0,
            holder: None,
            lease_until: None,
        };
        assert!(claimable(&free, "a", at(10)));
        let held = FeedRow {
            holder: Some("a".into()),
            lease_until: Some(at(20)),
            ..free
        };
        assert!(claimable(&held, "a", at(10)));
        assert!(!claimable(&held, "b", at(10)));
        assert!(!claimable(&held, "b", at(19)));
        assert!(claimable(&held, "b", at(20)));
    }
}
