//! Delivery feeds in PostgreSQL; the rule is in `catalog::feeds`. The
//! feed's row is read `FOR UPDATE`, so two servers claiming at once are
//! decided one after the other.

use std::time::Duration;

use sqlx::{PgConnection, Row};

use super::PostgresCatalog;
use super::statements as sql;
use crate::catalog::feeds::{self, FeedRow};
use crate::error::{Error, Result};

async fn locked_feed(conn: &mut PgConnection, feed: &str) -> Result<FeedRow> {
    let r = sqlx::query(sql::FEED_FOR_UPDATE)
        .bind(feed)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::Internal(format!("delivery feed {feed} vanished")))?;
    Ok(FeedRow {
        cursor: r.try_get(0)?,
        holder: r.try_get(1)?,
        lease_until: r.try_get(2)?,
    })
}

impl PostgresCatalog {
    pub(super) async fn claim_feed_impl(
        &self,
        feed: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<i64>> {
        feeds::check_names(feed, holder)?;
        let now = self.now();
        let mut tx = self.write().await?;
        sqlx::query(sql::CREATE_FEED)
            .bind(feed)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let row = locked_feed(&mut tx, feed).await?;
        if !feeds::claimable(&row, holder, now) {
            return Ok(None);
        }
        sqlx::query(sql::HOLD_FEED)
            .bind(feed)
            .bind(holder)
            .bind(feeds::lease_end(now, lease))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(row.cursor))
    }

    pub(super) async fn advance_feed_impl(
        &self,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: Duration,
    ) -> Result<bool> {
        feeds::check_names(feed, holder)?;
        let now = self.now();
        let mut tx = self.write().await?;
        let row = locked_feed(&mut tx, feed).await?;
        if !feeds::holds(&row, holder) {
            return Ok(false);
        }
        sqlx::query(sql::ADVANCE_FEED)
            .bind(feed)
            .bind(feeds::advanced(&row, cursor))
            .bind(feeds::lease_end(now, lease))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
