//! Delivery feeds in SQLite; the rule is in `catalog::feeds`. Both calls
//! run under the writer lock, so reading the row and writing it is atomic.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::feeds::{self, FeedRow};
use crate::catalog::row::Columns;
use crate::error::{Error, Result};

impl Tx<'_> {
    fn feed(&self, feed: &str) -> Result<FeedRow> {
        self.first(sql::FEED, [feed], |r| {
            Ok(FeedRow {
                cursor: r.int(0)?,
                holder: r.opt_string(1)?,
                lease_until: r.opt_time(2)?,
            })
        })?
        .ok_or_else(|| Error::Internal(format!("delivery feed {feed} vanished")))
    }

    pub(super) fn claim_feed(
        &self,
        now: DateTime<Utc>,
        feed: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<i64>> {
        feeds::check_names(feed, holder)?;
        self.run(sql::CREATE_FEED, (feed, micros(now)))?;
        let row = self.feed(feed)?;
        if !feeds::claimable(&row, holder, now) {
            return Ok(None);
        }
        let until = micros(feeds::lease_end(now, lease));
        self.run(sql::HOLD_FEED, (feed, holder, until, micros(now)))?;
        Ok(Some(row.cursor))
    }

    pub(super) fn advance_feed(
        &self,
        now: DateTime<Utc>,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: Duration,
    ) -> Result<bool> {
        feeds::check_names(feed, holder)?;
        let row = self.feed(feed)?;
        if !feeds::holds(&row, holder) {
            return Ok(false);
        }
        let until = micros(feeds::lease_end(now, lease));
        self.run(
            sql::ADVANCE_FEED,
            (feed, feeds::advanced(&row, cursor), until, micros(now)),
        )?;
        Ok(true)
    }
}
