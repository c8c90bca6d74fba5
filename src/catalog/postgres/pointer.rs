//! The compare-and-swap of one partition pointer, and the conflict it reports.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use super::rows::{self, NewEvent, TableRow};
use crate::error::Result;
use crate::model::{Action, Batch, BatchId, Context, Event, PartitionValues};

/// One pointer move: from the locked partition row to `to`.
pub(super) struct PointerMove<'a> {
    pub(super) ctx: &'a Context,
    pub(super) t: &'a TableRow,
    pub(super) partition_id: i64,
    pub(super) partition: &'a PartitionValues,
    pub(super) version: i64,
    pub(super) from: Option<&'a BatchId>,
    pub(super) to: &'a Batch,
    pub(super) action: Action,
    pub(super) commit_id: Option<&'a str>,
    pub(super) message: Option<&'a str>,
}

/// The compare-and-swap of one pointer and its event, in the caller's
/// transaction: exactly one row must change, or it is a conflict.
pub(super) async fn move_pointer(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    m: PointerMove<'_>,
) -> Result<Event> {
    let mut e = NewEvent::new(m.ctx, m.action).on_table(m.t);
    e.partition_id = Some(m.partition_id);
    e.partition = Some(m.partition.path());
    e.from = m.from;
    e.to = Some(&m.to.id);
    e.commit_id = m.commit_id;
    e.message = m.message;
    e.batch = Some(m.to);
    let event = rows::insert_event(conn, now, e).await?;
    let sql = if crate::faults::active("read_then_update_publish") {
        // The negative control: the pointer moves whatever it is now.
        "UPDATE partitions SET current_batch = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND $4::bigint IS NOT NULL"
    } else {
        "UPDATE partitions SET current_batch = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND version = $4"
    };
    let updated = sqlx::query(sql)
        .bind(m.to.id.as_str())
        .bind(event.at)
        .bind(m.partition_id)
        .bind(m.version)
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() != 1 {
        let current: Option<String> =
            sqlx::query("SELECT current_batch FROM partitions WHERE id = $1")
                .bind(m.partition_id)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
        return Err(crate::catalog::rules::lost_race(
            &m.t.table.ident,
            m.partition,
            current.map(|c| BatchId::parse(&c)).transpose()?,
        ));
    }
    Ok(event)
}
