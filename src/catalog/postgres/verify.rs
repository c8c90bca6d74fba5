//! Metadata invariants (DESIGN §6) checked over the whole catalog, in one snapshot.

use std::collections::HashMap;

use sqlx::Row;

use super::PostgresCatalog;
use crate::error::Result;
use crate::model::Violation;
use crate::storage;

fn v(invariant: u8, code: &str, subject: String, message: String) -> Violation {
    Violation {
        invariant,
        code: code.to_owned(),
        subject,
        message,
    }
}

impl PostgresCatalog {
    pub(super) async fn check_invariants_impl(&self) -> Result<Vec<Violation>> {
        let mut tx = self.read().await?;
        let mut out = Vec::new();

        // 2: every pointer names a committed batch of its own partition.
        let rs = sqlx::query(
            "SELECT p.id, p.path, p.current_batch, p.version, n.name || '.' || t.name AS tname, \
             b.state, b.partition_id FROM partitions p JOIN tables t ON t.id = p.table_id \
             JOIN namespaces n ON n.id = t.namespace_id \
             LEFT JOIN batches b ON b.batch_id = p.current_batch ORDER BY p.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        struct P {
            subject: String,
            current: Option<String>,
            version: i64,
        }
        let mut parts: HashMap<i64, P> = HashMap::with_capacity(rs.len());
        for r in &rs {
            let id: i64 = r.try_get("id")?;
            let subject = format!(
                "{} {}",
                r.try_get::<String, _>("tname")?,
                r.try_get::<String, _>("path")?
            );
            let current: Option<String> = r.try_get("current_batch")?;
            if let Some(c) = &current {
                let state: Option<String> = r.try_get("state")?;
                let owner: Option<i64> = r.try_get("partition_id")?;
                if state.as_deref() != Some("committed") || owner != Some(id) {
                    out.push(v(2, "pointer_not_committed", subject.clone(), format!(
                        "the pointer names batch {c}, which is not a committed batch of this partition"
                    )));
                }
            }
            parts.insert(
                id,
                P {
                    subject,
                    current,
                    version: r.try_get("version")?,
                },
            );
        }

        // 3: replaying each partition's events reproduces its pointer.
        let rs = sqlx::query(
            "SELECT id, partition_id, from_batch, to_batch FROM events \
             WHERE partition_id IS NOT NULL ORDER BY partition_id, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut replay: HashMap<i64, (Option<String>, i64)> = HashMap::new();
        for r in &rs {
            let pid: i64 = r.try_get("partition_id")?;
            let from: Option<String> = r.try_get("from_batch")?;
            let to: Option<String> = r.try_get("to_batch")?;
            let entry = replay.entry(pid).or_insert((None, 0));
            if entry.0 != from {
                let subject = parts
                    .get(&pid)
                    .map(|p| p.subject.clone())
                    .unwrap_or_default();
                out.push(v(3, "event_chain_broken", subject, format!(
                    "event {} moves the pointer from {from:?}, but the previous event left it at {:?}",
                    r.try_get::<i64, _>("id")?, entry.0
                )));
            }
            *entry = (to, entry.1 + 1);
        }
        for (pid, p) in &parts {
            let (last, count) = replay.get(pid).cloned().unwrap_or((None, 0));
            if last != p.current || count != p.version {
                out.push(v(3, "pointer_not_replayable", p.subject.clone(), format!(
                    "replaying {count} events gives {last:?}, but the pointer is {:?} at version {}",
                    p.current, p.version
                )));
            }
        }

        // Batches: committed ones have files inside their own prefix and
        // totals that match them.
        let rs = sqlx::query(
            "SELECT b.id, b.batch_id, b.state, b.location, b.rows, b.bytes, b.file_count, b.committed_at, \
             (SELECT count(*) FROM batch_files f WHERE f.batch_pk = b.id) AS n, \
             (SELECT coalesce(sum(rows), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id) AS r, \
             (SELECT coalesce(sum(size), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id) AS s \
             FROM batches b WHERE b.state = 'committed' ORDER BY b.id",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &rs {
            let id: String = r.try_get("batch_id")?;
            let n: i64 = r.try_get("n")?;
            if n == 0
                || r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>("committed_at")?
                    .is_none()
            {
                out.push(v(
                    2,
                    "committed_batch_incomplete",
                    id.clone(),
                    "a committed batch without files or commit time".into(),
                ));
            }
            if n != r.try_get::<i64, _>("file_count")?
                || r.try_get::<i64, _>("r")? != r.try_get::<i64, _>("rows")?
                || r.try_get::<i64, _>("s")? != r.try_get::<i64, _>("bytes")?
            {
                out.push(v(
                    2,
                    "batch_totals_mismatch",
                    id.clone(),
                    "the batch's file count, rows or bytes differ from its files".into(),
                ));
            }
        }
        let rs = sqlx::query(
            "SELECT b.batch_id, b.location, f.path FROM batch_files f JOIN batches b ON b.id = f.batch_pk \
             ORDER BY b.id, f.path",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &rs {
            let loc: String = r.try_get("location")?;
            let path: String = r.try_get("path")?;
            if !storage::is_inside(&loc, &path) {
                out.push(v(
                    1,
                    "file_outside_prefix",
                    r.try_get("batch_id")?,
                    format!("file {path:?} lies outside the batch prefix {loc}"),
                ));
            }
        }
        Ok(out)
    }
}
