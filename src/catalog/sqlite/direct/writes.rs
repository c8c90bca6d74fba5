//! Writes: stage, record files, publish, roll back.
//!
//! Each runs in one `BEGIN IMMEDIATE` transaction on a write connection of
//! its own, behind the catalog's writer lock, which the caller holds:
//! exactly the serialization of the sqlx writes. Staging and recording
//! files commit with `synchronous=NORMAL`, the publish and a rollback with
//! FULL.

use arrow_schema::Schema;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row};

use super::{Direct, Reader, opt_batch};
use crate::catalog::Clock;
use crate::catalog::rules::retry_expectation_holds;
use crate::catalog::sqlite::rows::{
    NewEvent, PartitionRow, TableRow, from_json, micros, never_published, time, to_json,
};
use crate::error::{Code, Error, Result};
use crate::model::{
    Action, Batch, BatchId, BatchState, Commit, Context, DataFile, Event, Expect, PartitionValues,
    Properties, PublishPlan, RollbackRequest, StageRequest, TableIdent, WrittenFiles, fingerprint,
    schemas_compatible,
};
use crate::storage;

impl Direct {
    pub(in crate::catalog::sqlite) fn stage(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        req: &StageRequest,
    ) -> Result<Vec<Batch>> {
        self.write(
            true,
            |w| {
                let t = w.live_table(ident)?;
                let now = clock.now();
                let mut ids = Vec::with_capacity(req.partitions.len());
                for values in &req.partitions {
                    let pid = w.ensure_partition(&t, values, micros(now))?;
                    if let Some(key) = &req.idempotency_key {
                        let existing: Option<String> = w
                            .tx
                            .prepare_cached(
                                "SELECT batch_id FROM batches WHERE partition_id = ?1 AND idempotency_key = ?2",
                            )?
                            .query_row((pid, key), |r| r.get(0))
                            .optional()?;
                        if let Some(id) = existing {
                            ids.push(BatchId::parse(&id)?);
                            continue;
                        }
                    }
                    let last: Option<String> = w
                        .tx
                        .prepare_cached("SELECT max(batch_id) FROM batches")?
                        .query_row([], |r| r.get(0))?;
                    let last = last.map(|s| BatchId::parse(&s)).transpose()?;
                    let id = BatchId::mint(now, last.as_ref());
                    w.tx.prepare_cached(
                        "INSERT INTO batches (batch_id, partition_id, location, state, principal, message, \
                         metadata, idempotency_key, created_at) VALUES (?1, ?2, ?3, 'staged', ?4, ?5, ?6, ?7, ?8)",
                    )?
                    .execute(rusqlite::params![
                        id.as_str(),
                        pid,
                        storage::batch_location(&t.table.location, values, &id),
                        &ctx.principal,
                        &req.message,
                        to_json(&req.metadata)?,
                        &req.idempotency_key,
                        micros(now),
                    ])?;
                    ids.push(id);
                }
                ids.iter().map(|id| w.load_batch(&t, id)).collect()
            },
            commit,
        )
    }

    pub(in crate::catalog::sqlite) fn record_files(
        &self,
        ident: &TableIdent,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<Batch> {
        self.write(
            true,
            |w| {
                let t = w.live_table(ident)?;
                w.record(&t, id, files, schema)?;
                w.load_batch(&t, id)
            },
            commit,
        )
    }

    /// The publish: the files of `written` recorded first (a store's
    /// files, in the same transaction), validation, the optional schema
    /// change, one compare-and-swap and event per partition, one durable
    /// commit. `None`: the `ack_before_commit` fault handed the commit to
    /// `early` before committing it (after a delay, still holding the
    /// writer lock).
    pub(in crate::catalog::sqlite) fn publish(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
        early: impl FnOnce(Commit),
    ) -> Result<Option<Commit>> {
        self.write(
            false,
            |w| {
                if !written.is_empty() {
                    let t = w.live_table(ident)?;
                    for f in written {
                        w.record(&t, &f.batch, &f.files, &f.schema)?;
                    }
                }
                w.publish(clock, ctx, ident, plan)
            },
            |tx, commit| {
                crate::faults::crash_point("crash_before_commit");
                commit_or_ack_early(tx, commit, early)
            },
        )
    }

    /// A rollback: one pointer move and its event, one durable commit.
    /// `None`: the `ack_before_commit` fault handed the event to `early`
    /// before committing it (as `publish` does).
    pub(in crate::catalog::sqlite) fn rollback(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
        early: impl FnOnce(Event),
    ) -> Result<Option<Event>> {
        self.write(
            false,
            |w| w.rollback(clock.now(), ctx, ident, partition, req),
            |tx, event| commit_or_ack_early(tx, event, early),
        )
    }
}

fn commit<T>(tx: rusqlite::Transaction<'_>, out: T) -> Result<T> {
    tx.commit()?;
    Ok(out)
}

/// Commits, or under the `ack_before_commit` fault (the crash loop's
/// negative control) hands `out` to `early`, waits, and commits late:
/// `None`.
fn commit_or_ack_early<T>(
    tx: rusqlite::Transaction<'_>,
    out: T,
    early: impl FnOnce(T),
) -> Result<Option<T>> {
    if crate::faults::active("ack_before_commit") {
        early(out);
        std::thread::sleep(crate::faults::ACK_BEFORE_COMMIT_DELAY);
        if let Err(e) = tx.commit() {
            tracing::error!(error = %e, "fault ack_before_commit: the late commit failed");
        }
        return Ok(None);
    }
    tx.commit()?;
    Ok(Some(out))
}

impl Reader<'_> {
    /// The partition row id for `values`, created (unpublished) if missing.
    pub(super) fn ensure_partition(
        &self,
        t: &TableRow,
        values: &PartitionValues,
        now: i64,
    ) -> Result<i64> {
        let path = values.path();
        self.tx
            .prepare_cached(
                "INSERT INTO partitions (table_id, path, sort_key, version, updated_at) \
                 VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (table_id, path) DO NOTHING",
            )?
            .execute((t.id, &path, values.sort_key(&t.table.partition_keys), now))?;
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM partitions WHERE table_id = ?1 AND path = ?2")?
            .query_row((t.id, &path), |r| r.get(0))?)
    }

    /// Records files of a staged batch (see `Catalog::record_files`).
    pub(super) fn record(
        &self,
        t: &TableRow,
        id: &BatchId,
        files: &[DataFile],
        schema: &Schema,
    ) -> Result<()> {
        let b = self.load_batch_row(t, id)?;
        if b.batch.state != BatchState::Staged {
            return Err(Error::invalid(
                Code::BatchNotStaged,
                format!(
                    "batch {id} is {}: its files can no longer change; stage a new batch",
                    b.batch.state.as_str()
                ),
            ));
        }
        if let Some(existing) = &b.batch.schema {
            schemas_compatible(existing, schema).map_err(|e| Error::SchemaMismatch {
                hint: None,
                message: format!("all files of a batch must share one schema: {e}"),
            })?;
        }
        for f in files {
            if !storage::is_inside(&b.batch.location, &f.path) {
                return Err(Error::invalid(
                    Code::FileOutsidePrefix,
                    format!(
                        "file {:?} is outside batch {id}'s prefix {}: write a batch's files under its own prefix only",
                        f.path, b.batch.location
                    ),
                ));
            }
            if let Some(old) = b.batch.files.iter().find(|o| o.path == f.path) {
                if old != f {
                    return Err(Error::invalid(
                        Code::FileChanged,
                        format!(
                            "file {:?} was already recorded with another size or row count",
                            f.path
                        ),
                    ));
                }
                continue;
            }
            self.tx
                .prepare_cached(
                    "INSERT INTO batch_files (batch_pk, path, size, rows) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute((b.pk, &f.path, f.size as i64, f.rows as i64))?;
        }
        self.tx.prepare_cached(
            "UPDATE batches SET rows = (SELECT coalesce(sum(rows), 0) FROM batch_files WHERE batch_pk = ?1), \
             bytes = (SELECT coalesce(sum(size), 0) FROM batch_files WHERE batch_pk = ?1), \
             file_count = (SELECT count(*) FROM batch_files WHERE batch_pk = ?1), \
             schema = ?2, schema_fingerprint = ?3 WHERE id = ?1",
        )?
        .execute((b.pk, to_json(schema)?, fingerprint(schema)))?;
        Ok(())
    }

    pub(super) fn partition_row(
        &self,
        table_id: i64,
        values: &PartitionValues,
    ) -> Result<Option<PartitionRow>> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, current_batch, version FROM partitions WHERE table_id = ?1 AND path = ?2",
        )?;
        let mut rows = st.query((table_id, values.path()))?;
        match rows.next()? {
            Some(r) => Ok(Some(PartitionRow {
                id: r.get(0)?,
                current: opt_batch(r.get_ref(1)?.as_str_or_null()?)?,
                version: r.get(2)?,
            })),
            None => Ok(None),
        }
    }

    pub(super) fn publish(
        &self,
        clock: &dyn Clock,
        ctx: &Context,
        ident: &TableIdent,
        plan: &PublishPlan,
    ) -> Result<Commit> {
        let t = self.live_table(ident)?;
        let mut batches = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let b = self.load_batch_row(&t, &item.batch)?;
            if b.batch.partition != item.partition {
                return Err(crate::catalog::rules::wrong_partition(
                    &t.table.ident,
                    &item.batch,
                    &b.batch.partition,
                    &item.partition,
                ));
            }
            batches.push(b);
        }
        // A retried publish: every batch is already committed by one commit.
        let committed = batches
            .iter()
            .filter(|b| b.batch.state == BatchState::Committed)
            .count();
        if committed == batches.len() {
            let commit_id = batches[0].commit_id.clone().unwrap_or_default();
            if batches
                .iter()
                .all(|b| b.commit_id.as_deref() == Some(commit_id.as_str()))
            {
                for (item, b) in plan.items.iter().zip(&batches) {
                    if let Some(expect) = &item.expect
                        && !retry_expectation_holds(expect, b.batch.parent.as_ref())
                    {
                        let current = self
                            .partition_row(t.id, &item.partition)?
                            .and_then(|p| p.current);
                        return Err(crate::catalog::rules::conflict(
                            &t.table.ident,
                            &item.partition,
                            expect,
                            current.as_ref(),
                        ));
                    }
                }
                let mut st = self.tx.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE commit_id = ?1 ORDER BY id"
                ))?;
                let mut rows = st.query([&commit_id])?;
                let mut events = Vec::new();
                while let Some(r) = rows.next()? {
                    events.push(event_from_row(r)?);
                }
                return Ok(Commit { commit_id, events });
            }
        }
        for b in &batches {
            match b.batch.state {
                BatchState::Staged => {}
                BatchState::Committed => {
                    return Err(Error::invalid(
                        Code::BatchAlreadyPublished,
                        format!(
                            "batch {} was already published; to make it current again use rollback --to {}",
                            b.batch.id, b.batch.id
                        ),
                    ));
                }
                BatchState::Abandoned => {
                    return Err(Error::invalid(
                        Code::BatchAbandoned,
                        format!(
                            "batch {} was abandoned; stage and write a new batch",
                            b.batch.id
                        ),
                    ));
                }
            }
            if b.batch.files.is_empty() {
                return Err(Error::invalid(
                    Code::EmptyBatch,
                    format!(
                        "batch {} has no files: write data to it before publishing",
                        b.batch.id
                    ),
                ));
            }
        }
        if t.table.schema_version != plan.schema_version {
            return Err(Error::SchemaChanged);
        }
        let now = clock.now();
        if let Some(change) = &plan.schema_change {
            let changed = self
                .tx
                .prepare_cached(
                    "UPDATE tables SET schema = ?1, schema_version = schema_version + 1, updated_at = ?2 \
                     WHERE id = ?3 AND schema_version = ?4",
                )?
                .execute((to_json(&change.schema)?, micros(now), t.id, change.from_version))?;
            if changed != 1 {
                return Err(Error::SchemaChanged);
            }
            let mut e = NewEvent::new(ctx, Action::UpdateSchema).on_table(&t);
            e.details = Some(serde_json::json!({
                "added_columns": change.added,
                "schema_version": change.from_version + 1,
                "schema_fingerprint": fingerprint(&change.schema),
            }));
            self.insert_event(now, e)?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let mut events = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = self
                .partition_row(t.id, &item.partition)?
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            if let Some(expect) = &item.expect {
                let ok = match expect {
                    Expect::Empty => p.current.is_none(),
                    Expect::Batch(e) => p.current.as_ref() == Some(e),
                };
                if !ok {
                    return Err(crate::catalog::rules::conflict(
                        &t.table.ident,
                        &item.partition,
                        expect,
                        p.current.as_ref(),
                    ));
                }
            }
            let mut e = NewEvent::new(ctx, Action::Publish).on_table(&t);
            e.partition_id = Some(p.id);
            e.partition = Some(item.partition.path());
            e.from = p.current.as_ref();
            e.to = Some(&b.batch.id);
            e.commit_id = Some(&commit_id);
            e.message = plan.message.as_deref().or(b.batch.message.as_deref());
            e.batch = Some(&b.batch);
            let event = self.move_pointer(now, &t, &item.partition, &p, e)?;
            self.tx
                .prepare_cached(
                    "UPDATE batches SET state = 'committed', parent_batch = ?1, committed_at = ?2, commit_id = ?3 \
                     WHERE id = ?4 AND state = 'staged'",
                )?
                .execute((
                    p.current.as_ref().map(BatchId::as_str),
                    micros(event.at),
                    &commit_id,
                    b.pk,
                ))?;
            events.push(event);
        }
        Ok(Commit { commit_id, events })
    }

    /// Appends the event `e` (which moves partition `p`'s pointer to
    /// `e.to`) and compare-and-swaps the pointer: exactly one row must
    /// change, or another writer moved it first.
    pub(super) fn move_pointer(
        &self,
        now: DateTime<Utc>,
        t: &TableRow,
        values: &PartitionValues,
        p: &PartitionRow,
        e: NewEvent<'_>,
    ) -> Result<Event> {
        let to =
            e.to.ok_or_else(|| Error::Internal("a pointer move without a target".into()))?
                .clone();
        let event = self.insert_event(now, e)?;
        let updated = self
            .tx
            .prepare_cached(
                "UPDATE partitions SET current_batch = ?1, version = version + 1, updated_at = ?2 \
                 WHERE id = ?3 AND version = ?4",
            )?
            .execute((to.as_str(), micros(event.at), p.id, p.version))?;
        if updated != 1 {
            let current: Option<String> = self
                .tx
                .prepare_cached("SELECT current_batch FROM partitions WHERE id = ?1")?
                .query_row([p.id], |r| r.get(0))?;
            return Err(crate::catalog::rules::lost_race(
                &t.table.ident,
                values,
                current.map(|c| BatchId::parse(&c)).transpose()?,
            ));
        }
        Ok(event)
    }

    /// Moves a published partition's pointer back to its current batch's
    /// parent, or to `req.to` (a committed batch of the same partition).
    pub(super) fn rollback(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        req: &RollbackRequest,
    ) -> Result<Event> {
        let t = self.live_table(ident)?;
        let p = self
            .partition_row(t.id, partition)?
            .ok_or_else(|| never_published(&t, partition))?;
        let current = p
            .current
            .clone()
            .ok_or_else(|| never_published(&t, partition))?;
        if let Some(expect) = req.expect.as_ref().filter(|e| **e != current) {
            return Err(crate::catalog::rules::conflict(
                &t.table.ident,
                partition,
                &Expect::Batch(expect.clone()),
                Some(&current),
            ));
        }
        let target_id = match &req.to {
            Some(to) => to.clone(),
            None => self.load_batch(&t, &current)?.parent.ok_or_else(|| {
                crate::catalog::rules::no_earlier_batch(&t.table.ident, partition, &current)
            })?,
        };
        let target = self.load_batch(&t, &target_id)?;
        if target.partition != *partition {
            return Err(crate::catalog::rules::wrong_partition(
                &t.table.ident,
                &target_id,
                &target.partition,
                partition,
            ));
        }
        if target.state != BatchState::Committed {
            return Err(Error::invalid(
                Code::BatchNotCommitted,
                format!(
                    "batch {target_id} was never published ({}); only published batches can be rolled back to",
                    target.state.as_str()
                ),
            ));
        }
        if target_id == current {
            return Err(Error::invalid(
                Code::AlreadyCurrent,
                format!(
                    "batch {target_id} is already the current batch of {} {partition}",
                    t.table.ident
                ),
            ));
        }
        let mut e = NewEvent::new(ctx, Action::Rollback).on_table(&t);
        e.partition_id = Some(p.id);
        e.partition = Some(partition.path());
        e.from = Some(&current);
        e.to = Some(&target.id);
        e.message = req.message.as_deref();
        e.batch = Some(&target);
        self.move_pointer(now, &t, partition, &p, e)
    }

    /// Appends an event. Its time is the clock's, but never earlier than the
    /// previous event's, so event time never decreases along ids (as-of relies on it).
    pub(super) fn insert_event(&self, now: DateTime<Utc>, e: NewEvent<'_>) -> Result<Event> {
        let last: Option<i64> = self
            .tx
            .prepare_cached("SELECT max(at) FROM events")?
            .query_row([], |r| r.get(0))?;
        let at = micros(now).max(last.unwrap_or(i64::MIN));
        let empty = Properties::new();
        let metadata = e.batch.map(|b| &b.metadata).unwrap_or(&empty);
        let mut st = self.tx.prepare_cached(
            &("INSERT INTO events (at, principal, action, namespace, table_name, table_id, partition_id, \
             partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
             metadata, request_id, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING "
                .to_owned()
                + EVENT_COLUMNS),
        )?;
        let mut rows = st.query(rusqlite::params![
            at,
            &e.ctx.principal,
            e.action.as_str(),
            e.namespace,
            e.table,
            e.table_id,
            e.partition_id,
            e.partition.as_deref(),
            e.from.map(BatchId::as_str),
            e.to.map(BatchId::as_str),
            e.commit_id,
            e.message,
            e.batch.map(|b| b.rows as i64),
            e.batch.map(|b| b.bytes as i64),
            e.batch.map(|b| b.files.len() as i64),
            e.batch.and_then(|b| b.schema_fingerprint.as_deref()),
            to_json(metadata)?,
            e.ctx.request_id.as_deref(),
            e.details.as_ref().map(to_json).transpose()?,
        ])?;
        let row = rows
            .next()?
            .ok_or_else(|| Error::Internal("INSERT ... RETURNING returned no row".into()))?;
        event_from_row(row)
    }
}

/// The columns [`event_from_row`] reads, in its order.
pub(super) const EVENT_COLUMNS: &str = "id, at, principal, action, namespace, table_name, partition, \
     from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, metadata, \
     request_id, details";

/// An event from a row of [`EVENT_COLUMNS`] (read by position: a page
/// reads thousands of rows, and a lookup by name scans the column names).
pub(super) fn event_from_row(row: &Row<'_>) -> Result<Event> {
    let action = row.get_ref(3)?.as_str()?;
    let details = row.get_ref(17)?.as_str_or_null()?;
    Ok(Event {
        id: row.get(0)?,
        at: time(row.get(1)?),
        principal: row.get(2)?,
        action: Action::parse(action)?,
        namespace: row.get(4)?,
        table: row.get(5)?,
        partition: row.get(6)?,
        from_batch: opt_batch(row.get_ref(7)?.as_str_or_null()?)?,
        to_batch: opt_batch(row.get_ref(8)?.as_str_or_null()?)?,
        commit_id: row.get(9)?,
        message: row.get(10)?,
        rows: row.get::<_, Option<i64>>(11)?.map(|v| v as u64),
        bytes: row.get::<_, Option<i64>>(12)?.map(|v| v as u64),
        files: row.get::<_, Option<i64>>(13)?.map(|v| v as u64),
        schema_fingerprint: row.get(14)?,
        metadata: metadata(row.get_ref(15)?.as_str()?)?,
        request_id: row.get(16)?,
        details: details.map(from_json).transpose()?,
    })
}

/// Stored event metadata; most events have none.
fn metadata(json: &str) -> Result<Properties> {
    if json == "{}" {
        Ok(Properties::new())
    } else {
        from_json(json)
    }
}
