//! The pointer moves: publish and roll back, each a compare-and-swap of
//! partition pointers and their events in one durable transaction
//! (DESIGN §4).

use chrono::{DateTime, Utc};

use super::connect::Tx;
use super::rows::micros;
use super::statements as sql;
use crate::catalog::errors;
use crate::catalog::lineage;
use crate::catalog::row::{self, NewEvent, PartitionRow, TableRow, to_json};
use crate::catalog::rules::{self, Retried};
use crate::error::{Error, Result};
use crate::model::{
    Action, BatchId, Commit, Context, Event, PartitionValues, PublishPlan, RollbackRequest,
    TableIdent, WrittenFiles,
};

impl Tx<'_> {
    /// The publish: the files of `written` recorded first (a store's
    /// files, in the same transaction), the checks, the optional schema
    /// change, one compare-and-swap and event per partition.
    pub(super) fn publish(
        &self,
        now: DateTime<Utc>,
        ctx: &Context,
        ident: &TableIdent,
        written: &[WrittenFiles],
        plan: &PublishPlan,
    ) -> Result<Commit> {
        let t = self.live_table(ident)?;
        for f in written {
            self.record(&t, &f.batch, &f.files, &f.schema)?;
        }
        let mut batches = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let b = self.load_batch_row(&t, &item.batch)?;
            rules::in_its_partition(&t.table.ident, item, &b.batch)?;
            batches.push(b);
        }
        match rules::retried(plan, &batches) {
            Retried::No => {}
            Retried::Answer(commit_id) => {
                let events = self.all(sql::COMMIT_EVENTS, [commit_id], |e| row::event(e))?;
                return Ok(Commit {
                    commit_id: commit_id.to_owned(),
                    events,
                });
            }
            Retried::Conflict(item, expect) => {
                let current = self
                    .partition(t.id, &item.partition)?
                    .and_then(|p| p.current);
                return Err(errors::conflict(
                    &t.table.ident,
                    &item.partition,
                    expect,
                    current.as_ref(),
                ));
            }
        }
        rules::publishable(&t, plan, &batches)?;
        let inputs = lineage::plan_inputs(plan)?;
        let input_pks = self.input_pks(&inputs)?;
        if let Some(change) = &plan.schema_change {
            let changed = self.run(
                sql::CHANGE_SCHEMA,
                (
                    to_json(&change.schema)?,
                    micros(now),
                    t.id,
                    change.from_version,
                ),
            )?;
            if changed != 1 {
                return Err(Error::SchemaChanged);
            }
            let mut e = NewEvent::new(ctx, Action::UpdateSchema).on_table(&t);
            e.details = Some(rules::schema_change_details(change));
            self.insert_event(now, e)?;
        }
        let commit_id = uuid::Uuid::new_v4().to_string();
        let mut events = Vec::with_capacity(batches.len());
        for (item, b) in plan.items.iter().zip(&batches) {
            let p = self
                .partition(t.id, &item.partition)?
                .ok_or_else(|| Error::Internal("a staged batch without its partition".into()))?;
            rules::check_cas(&t.table.ident, item, p.current.as_ref())?;
            let mut e =
                NewEvent::pointer_move(ctx, Action::Publish, &t, &p, &item.partition, &b.batch);
            e.commit_id = Some(&commit_id);
            e.message = rules::publish_message(plan, &b.batch);
            e.details = lineage::publish_details(&inputs);
            let event = self.move_pointer(now, &t, &item.partition, &p, e)?;
            self.insert_inputs(b.pk, &input_pks)?;
            self.run(
                sql::COMMIT_BATCH,
                (
                    p.current.as_ref().map(BatchId::as_str),
                    micros(event.at),
                    &commit_id,
                    b.pk,
                ),
            )?;
            events.push(event);
        }
        Ok(Commit { commit_id, events })
    }

    /// Appends the event `e` (which moves partition `p`'s pointer to
    /// `e.to`) and compare-and-swaps the pointer: exactly one row must
    /// change, or another writer moved it first.
    fn move_pointer(
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
        let updated = self.run(
            sql::MOVE_POINTER,
            (to.as_str(), micros(event.at), p.id, p.version),
        )?;
        if updated != 1 {
            let current: Option<String> = self.value(sql::CURRENT_BATCH, [p.id])?.flatten();
            return Err(errors::lost_race(
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
        let (p, current) = self.published_partition(&t, partition)?;
        rules::rollback_expectation(&t.table.ident, partition, req, &current)?;
        let target_id = match &req.to {
            Some(to) => to.clone(),
            None => {
                let parent = self.load_batch(&t, &current)?.parent;
                rules::previous(&t.table.ident, partition, &current, parent)?
            }
        };
        let target = self.load_batch(&t, &target_id)?;
        rules::rollback_target(&t.table.ident, partition, &target, &current)?;
        let mut e = NewEvent::pointer_move(ctx, Action::Rollback, &t, &p, partition, &target);
        e.message = req.message.as_deref();
        self.move_pointer(now, &t, partition, &p, e)
    }
}
