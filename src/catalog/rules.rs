//! The rules of the write and read protocols (DESIGN §4, §6), written once:
//! each backend loads the rows, asks these functions what is admissible and
//! what to do, and runs its own SQL. In the spirit of iceberg-rust's
//! `TableRequirement::check` + `TableCommit::apply`.

use std::collections::HashSet;

use arrow_schema::Schema;
use chrono::{DateTime, Utc};

use super::errors;
use super::retention;
use super::row::{BatchRow, TableRow};
use crate::error::{Code, Error, Result};
use crate::model::{
    Batch, BatchId, BatchState, DataFile, EventQuery, Expect, MetadataUpdate, NewPin,
    PartitionValues, Pin, PinName, PinTarget, Properties, PublishItem, PublishPlan,
    RollbackRequest, SchemaChange, TableIdent, Version, fingerprint, schemas_compatible,
};
use crate::storage;

/// The facade checks a batch's partition with the catalog's words.
pub(crate) use super::errors::wrong_partition;

// Publish.

/// The checks of a publish plan that need no database: at least one
/// partition, none twice.
pub(crate) fn plan_is_well_formed(plan: &PublishPlan) -> Result<()> {
    if plan.items.is_empty() {
        return Err(Error::invalid(
            Code::EmptyPublish,
            "a publish needs at least one partition",
        ));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = plan.items.iter().find(|i| !seen.insert(i.partition.path())) {
        return Err(Error::invalid(
            Code::DuplicatePartition,
            format!("partition {} appears twice in one publish", dup.partition),
        ));
    }
    Ok(())
}

/// A publish item's batch must belong to the item's partition.
pub(crate) fn in_its_partition(ident: &TableIdent, item: &PublishItem, b: &Batch) -> Result<()> {
    if b.partition != item.partition {
        return Err(errors::wrong_partition(
            ident,
            &item.batch,
            &b.partition,
            &item.partition,
        ));
    }
    Ok(())
}

/// What a publish whose batches are all committed already is.
#[derive(Debug)]
pub(crate) enum Retried<'a> {
    /// Not a retry: publish.
    No,
    /// A retry of commit `0`: answer its events, append nothing.
    Answer(&'a str),
    /// A retry whose compare-and-swap condition is not what the commit
    /// found: a conflict on this item (the caller reads its current batch).
    Conflict(&'a PublishItem, &'a Expect),
}

/// Whether a publish is a retry of one that committed: every batch
/// committed by one commit. Such a retry answers that commit, but an item
/// with a compare-and-swap condition only when the condition is what the
/// commit found, i.e. the batch's parent; a retry with another
/// `expected_batch` would not have succeeded the first time either, so it
/// is a conflict, never a 200 (DESIGN §6, invariant 4).
pub(crate) fn retried<'a>(plan: &'a PublishPlan, batches: &'a [BatchRow]) -> Retried<'a> {
    let Some(commit_id) = batches.first().and_then(|b| b.commit_id.as_deref()) else {
        return Retried::No;
    };
    let one_commit = batches.iter().all(|b| {
        b.batch.state == BatchState::Committed && b.commit_id.as_deref() == Some(commit_id)
    });
    if !one_commit {
        return Retried::No;
    }
    for (item, b) in plan.items.iter().zip(batches) {
        if let Some(expect) = &item.expect
            && !retry_expectation_holds(expect, b.batch.parent.as_ref())
        {
            return Retried::Conflict(item, expect);
        }
    }
    Retried::Answer(commit_id)
}

/// Whether a retry's condition is what its commit found (see [`retried`]).
pub(crate) fn retry_expectation_holds(expect: &Expect, parent: Option<&BatchId>) -> bool {
    cas_holds(expect, parent)
}

/// Whether a compare-and-swap condition holds for the pointer `current`.
pub(crate) fn cas_holds(expect: &Expect, current: Option<&BatchId>) -> bool {
    match expect {
        Expect::Empty => current.is_none(),
        Expect::Batch(b) => current == Some(b),
    }
}

/// The compare-and-swap of one publish item against the (locked) pointer
/// `current`: none, or one that holds, or the conflict error.
pub(crate) fn check_cas(
    ident: &TableIdent,
    item: &PublishItem,
    current: Option<&BatchId>,
) -> Result<()> {
    match &item.expect {
        Some(expect) if !cas_holds(expect, current) => {
            Err(errors::conflict(ident, &item.partition, expect, current))
        }
        _ => Ok(()),
    }
}

/// Whether the batches of a publish that is not a retry may be published:
/// each staged and with files, and the table still at the schema version
/// the facade checked them against.
pub(crate) fn publishable(t: &TableRow, plan: &PublishPlan, batches: &[BatchRow]) -> Result<()> {
    for b in batches {
        let id = &b.batch.id;
        match b.batch.state {
            BatchState::Staged => {}
            BatchState::Committed => {
                return Err(Error::invalid(
                    Code::BatchAlreadyPublished,
                    format!(
                        "batch {id} was already published; to make it current again use rollback --to {id}"
                    ),
                ));
            }
            BatchState::Abandoned => {
                return Err(Error::invalid(
                    Code::BatchAbandoned,
                    format!("batch {id} was abandoned; stage and write a new batch"),
                ));
            }
            BatchState::Expiring | BatchState::Expired => {
                return Err(retention::expired(&b.batch));
            }
        }
        if b.batch.files.is_empty() {
            return Err(Error::invalid(
                Code::EmptyBatch,
                format!("batch {id} has no files: write data to it before publishing"),
            ));
        }
    }
    if t.table.schema_version != plan.schema_version {
        return Err(Error::SchemaChanged);
    }
    Ok(())
}

/// The details of the event a schema change appends.
pub(crate) fn schema_change_details(change: &SchemaChange) -> serde_json::Value {
    serde_json::json!({
        "added_columns": change.added,
        "schema_version": change.from_version + 1,
        "schema_fingerprint": fingerprint(&change.schema),
    })
}

/// The details of a table's creation event.
pub(crate) fn table_created_details(t: &TableRow) -> serde_json::Value {
    serde_json::json!({
        "schema_fingerprint": fingerprint(&t.table.schema),
        "schema_version": t.table.schema_version,
        "partition_keys": t.table.partition_keys,
    })
}

/// The message of a publish's event for one batch.
pub(crate) fn publish_message<'a>(plan: &'a PublishPlan, b: &'a Batch) -> Option<&'a str> {
    plan.message.as_deref().or(b.message.as_deref())
}

// Record files and discard.

/// The files of `files` to add to batch `b` (see `Catalog::record_files`):
/// the batch must be staged, the schema match the one recorded, each file
/// lie inside the batch's prefix, and a file recorded again be unchanged.
pub(crate) fn files_to_record<'f>(
    b: &Batch,
    files: &'f [DataFile],
    schema: &Schema,
) -> Result<Vec<&'f DataFile>> {
    if b.state != BatchState::Staged {
        return Err(errors::not_staged(&b.id, b.state));
    }
    if let Some(existing) = &b.schema {
        schemas_compatible(existing, schema).map_err(|e| Error::SchemaMismatch {
            hint: None,
            message: format!("all files of a batch must share one schema: {e}"),
        })?;
    }
    let mut new = Vec::with_capacity(files.len());
    for f in files {
        if !storage::is_inside(&b.location, &f.path) {
            return Err(Error::invalid(
                Code::FileOutsidePrefix,
                format!(
                    "file {:?} is outside batch {}'s prefix {}: write a batch's files under its own prefix only",
                    f.path, b.id, b.location
                ),
            ));
        }
        match b.files.iter().find(|o| o.path == f.path) {
            Some(old) if old != f => {
                return Err(Error::invalid(
                    Code::FileChanged,
                    format!(
                        "file {:?} was already recorded with another size or row count",
                        f.path
                    ),
                ));
            }
            Some(_) => {}
            None => new.push(f),
        }
    }
    Ok(new)
}

/// Only a staged batch is discarded.
pub(crate) fn discardable(b: &Batch) -> Result<()> {
    if b.state != BatchState::Staged {
        return Err(errors::never_discarded(&b.id));
    }
    Ok(())
}

// Rollback.

/// A rollback's compare-and-swap condition against the current batch.
pub(crate) fn rollback_expectation(
    ident: &TableIdent,
    partition: &PartitionValues,
    req: &RollbackRequest,
    current: &BatchId,
) -> Result<()> {
    match req.expect.as_ref().filter(|e| *e != current) {
        Some(expect) => Err(errors::conflict(
            ident,
            partition,
            &Expect::Batch(expect.clone()),
            Some(current),
        )),
        None => Ok(()),
    }
}

/// The batch a rollback without `to` moves to: the current batch's parent.
pub(crate) fn previous(
    ident: &TableIdent,
    partition: &PartitionValues,
    current: &BatchId,
    parent: Option<BatchId>,
) -> Result<BatchId> {
    parent.ok_or_else(|| errors::no_earlier_batch(ident, partition, current))
}

/// A rollback target must be a committed batch of the partition, other
/// than the current one.
pub(crate) fn rollback_target(
    ident: &TableIdent,
    partition: &PartitionValues,
    target: &Batch,
    current: &BatchId,
) -> Result<()> {
    if target.partition != *partition {
        return Err(errors::wrong_partition(
            ident,
            &target.id,
            &target.partition,
            partition,
        ));
    }
    if retention::is_expired(target) {
        return Err(retention::expired(target));
    }
    if target.state != BatchState::Committed {
        return Err(errors::not_a_rollback_target(&target.id, target.state));
    }
    if target.id == *current {
        return Err(Error::invalid(
            Code::AlreadyCurrent,
            format!(
                "batch {} is already the current batch of {ident} {partition}",
                target.id
            ),
        ));
    }
    Ok(())
}

// Reads.

/// What a resolve reads, once a pin is replaced by what it holds.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// Every partition that had a batch at the time (now if `None`).
    All(Option<DateTime<Utc>>),
    /// The listed partitions' batches at the time (now if `None`).
    Each(&'a [PartitionValues], Option<DateTime<Utc>>),
    /// One batch by ID.
    Batch(&'a BatchId),
}

/// The lookup of a resolve of `version` (not a pin: see [`pinned`]).
pub(crate) fn lookup<'a>(
    version: &'a Version,
    partitions: Option<&'a [PartitionValues]>,
) -> Result<Lookup<'a>> {
    Ok(match (version, partitions) {
        (Version::Batch(id), _) => Lookup::Batch(id),
        (Version::Current, None) => Lookup::All(None),
        (Version::AsOf(at), None) => Lookup::All(Some(*at)),
        (Version::Current, Some(ps)) => Lookup::Each(ps, None),
        (Version::AsOf(at), Some(ps)) => Lookup::Each(ps, Some(*at)),
        (Version::Pin(_), _) => return Err(Error::Internal("pin not resolved".into())),
    })
}

/// A batch read by ID must not be abandoned, and must be of the partitions
/// asked for, if any.
pub(crate) fn readable_batch(
    ident: &TableIdent,
    b: &Batch,
    partitions: Option<&[PartitionValues]>,
) -> Result<()> {
    if b.state == BatchState::Abandoned {
        return Err(errors::batch_abandoned(&b.id));
    }
    if retention::is_expired(b) {
        return Err(retention::expired(b));
    }
    if let Some(p) = partitions.and_then(|ps| ps.iter().find(|p| **p != b.partition)) {
        return Err(errors::wrong_partition(ident, &b.id, &b.partition, p));
    }
    Ok(())
}

/// What a read by pin stands for.
#[derive(Debug)]
pub(crate) enum Pinned {
    /// One batch of one partition.
    Batch(PartitionValues, BatchId),
    /// The table as of a time.
    AsOf(Version),
}

/// What pin `pin` (named `name`) stands for in a resolve of `partitions`
/// at `now`: not when it has expired, and a batch pin only for its own
/// partition.
pub(crate) fn pinned(
    ident: &TableIdent,
    name: &PinName,
    pin: Pin,
    partitions: Option<&[PartitionValues]>,
    now: DateTime<Utc>,
) -> Result<Pinned> {
    if let Some(exp) = pin.expires_at.filter(|e| *e <= now) {
        return Err(Error::invalid(
            Code::PinExpired,
            format!(
                "pin {name} on {ident} expired at {exp}; create a new pin or read a batch by id"
            ),
        ));
    }
    match pin.target {
        PinTarget::Batch { partition, batch } => {
            if let Some(other) = partitions.and_then(|ps| ps.iter().find(|p| **p != partition)) {
                return Err(Error::invalid(
                    Code::PinPartitionMismatch,
                    format!("pin {name} holds partition {partition} only, not {other}"),
                ));
            }
            Ok(Pinned::Batch(partition, batch))
        }
        PinTarget::AsOf { at } => Ok(Pinned::AsOf(Version::AsOf(at))),
    }
}

/// An events query's filters must make sense together.
pub(crate) fn events_query_is_valid(q: &EventQuery) -> Result<()> {
    if q.partition.is_some() && q.table.is_none() {
        return Err(Error::invalid(
            Code::InvalidQuery,
            "a partition filter needs a table filter too",
        ));
    }
    Ok(())
}

// Pins and metadata.

/// A new pin's times, at `now`: an expiry in the future, an as-of time not.
pub(crate) fn pin_times(pin: &NewPin, now: DateTime<Utc>) -> Result<()> {
    if pin.expires_at.is_some_and(|e| e <= now) {
        return Err(Error::invalid(
            Code::InvalidExpiry,
            "a pin's expiry must be in the future",
        ));
    }
    if let PinTarget::AsOf { at } = &pin.target
        && *at > now
    {
        return Err(Error::invalid(
            Code::InvalidAsOf,
            "a pin's as-of time must not be in the future",
        ));
    }
    Ok(())
}

/// A batch pin must name a committed batch of its partition.
pub(crate) fn pinnable(ident: &TableIdent, partition: &PartitionValues, b: &Batch) -> Result<()> {
    if b.partition != *partition {
        return Err(errors::wrong_partition(
            ident,
            &b.id,
            &b.partition,
            partition,
        ));
    }
    if retention::is_expired(b) {
        return Err(retention::expired(b));
    }
    if b.state != BatchState::Committed {
        return Err(errors::not_pinnable(&b.id));
    }
    Ok(())
}

/// Applies an update to description, owner and properties.
pub(crate) fn apply_update(
    update: &MetadataUpdate,
    description: &mut Option<String>,
    owner: &mut Option<String>,
    properties: &mut Properties,
) {
    if let Some(d) = &update.description {
        *description = Some(d.clone());
    }
    if let Some(o) = &update.owner {
        *owner = Some(o.clone());
    }
    for k in &update.remove_properties {
        properties.remove(k);
    }
    properties.extend(update.set_properties.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_answers_its_commit_only_with_the_expectation_it_had() {
        let a = BatchId::parse("20161102234252000000").unwrap();
        let b = BatchId::parse("20161102234252000001").unwrap();
        assert!(retry_expectation_holds(&Expect::Batch(a.clone()), Some(&a)));
        assert!(!retry_expectation_holds(&Expect::Batch(b), Some(&a)));
        assert!(!retry_expectation_holds(&Expect::Empty, Some(&a)));
        assert!(retry_expectation_holds(&Expect::Empty, None));
        assert!(!retry_expectation_holds(&Expect::Batch(a), None));
    }
}
