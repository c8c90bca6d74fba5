//! The errors every backend reports alike, with their codes and the hint
//! each edge words for itself: written once here, raised by the rules
//! (`rules`) and by the backends' lookups.

use chrono::{DateTime, Utc};

use crate::error::{Code, Error, Object};
use crate::model::{BatchId, BatchState, Expect, Hint, PartitionValues, PinName, TableIdent};

/// `table_not_found` in an existing namespace.
pub(crate) fn table_not_found(ident: &TableIdent) -> Error {
    Error::not_found_hint(
        Object::Table,
        ident.to_string(),
        Hint::ListTables {
            namespace: ident.namespace.to_string(),
        },
    )
}

/// `partition_not_found` for a partition that was never published.
pub(crate) fn never_published(ident: &TableIdent, values: &PartitionValues) -> Error {
    Error::not_found_hint(
        Object::Partition,
        format!("{ident} {values}"),
        Hint::ListPartitions {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
        },
    )
}

/// `partition_not_found` for a partition not yet published at `at`.
pub(crate) fn not_published_at(
    ident: &TableIdent,
    values: &PartitionValues,
    at: DateTime<Utc>,
) -> Error {
    Error::NotFound {
        object: Object::Partition,
        name: format!("{ident} {values} at {at}"),
        hint: Some(Box::new(Hint::History {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
            partition: Some(values.path()),
        })),
    }
}

/// `batch_not_found` for a batch that is not one of the table's.
pub(crate) fn batch_not_found(ident: &TableIdent, id: &BatchId) -> Error {
    Error::not_found_hint(
        Object::Batch,
        format!("{id} of {ident}"),
        Hint::History {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
            partition: None,
        },
    )
}

/// `batch_not_found` for a batch abandoned before it was published.
pub(crate) fn batch_abandoned(id: &BatchId) -> Error {
    Error::not_found(
        Object::Batch,
        format!("{id} (abandoned before being published)"),
    )
}

/// `pin_not_found`.
pub(crate) fn pin_not_found(ident: &TableIdent, name: &PinName) -> Error {
    Error::not_found_hint(
        Object::Pin,
        format!("{name} on {ident}"),
        Hint::ListPins {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
        },
    )
}

/// `token_not_found`.
pub(crate) fn token_not_found(name: &str) -> Error {
    Error::not_found_hint(Object::Token, name, Hint::ListTokens)
}

/// `batch_partition_mismatch`: batch `id` belongs to partition `has`, not
/// to `wanted`.
pub(crate) fn wrong_partition(
    ident: &TableIdent,
    id: &BatchId,
    has: &PartitionValues,
    wanted: &PartitionValues,
) -> Error {
    Error::invalid_hint(
        Code::BatchPartitionMismatch,
        format!("batch {id} belongs to partition {has}, not {wanted}"),
        Hint::History {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
            partition: Some(wanted.path()),
        },
    )
}

/// The conflict of a compare-and-swap that expected `expect` and found
/// `current`.
pub(crate) fn conflict(
    ident: &TableIdent,
    values: &PartitionValues,
    expect: &Expect,
    current: Option<&BatchId>,
) -> Error {
    let wanted = match expect {
        Expect::Empty => "no batch (a first publish)".to_owned(),
        Expect::Batch(b) => format!("batch {b}"),
    };
    let now = match current {
        Some(c) => format!("its current batch is {c}"),
        None => "it has never been published".to_owned(),
    };
    moved(
        format!("conflict on {ident} {values}: expected {wanted}, but {now}"),
        current.cloned(),
    )
}

/// The conflict of a compare-and-swap that lost the race to another writer
/// after its checks passed.
pub(crate) fn lost_race(
    ident: &TableIdent,
    values: &PartitionValues,
    current: Option<BatchId>,
) -> Error {
    moved(
        format!("conflict on {ident} {values}: another writer moved the pointer first"),
        current,
    )
}

fn moved(message: String, current: Option<BatchId>) -> Error {
    let hint = Hint::ExpectCurrent {
        current_batch: current.as_ref().map(ToString::to_string),
    };
    Error::Conflict {
        message,
        current,
        hint: Some(Box::new(hint)),
    }
}

/// `no_parent`: a rollback without `to` of a partition whose current batch
/// was its first publish.
pub(crate) fn no_earlier_batch(
    ident: &TableIdent,
    values: &PartitionValues,
    current: &BatchId,
) -> Error {
    Error::invalid_hint(
        Code::NoParent,
        format!(
            "{ident} {values} has no earlier batch to roll back to: its current batch {current} was its first publish"
        ),
        Hint::RollbackTo {
            namespace: ident.namespace.to_string(),
            table: ident.name.to_string(),
            partition: values.path(),
        },
    )
}

/// `already_exists` for a namespace, a table, a pin or a token.
pub(crate) fn already_exists(object: Object, name: impl Into<String>) -> Error {
    Error::AlreadyExists {
        object,
        name: name.into(),
    }
}

/// `batch_not_staged`: the files of a batch no longer in `state` can't change.
pub(crate) fn not_staged(id: &BatchId, state: BatchState) -> Error {
    Error::invalid(
        Code::BatchNotStaged,
        format!(
            "batch {id} is {}: its files can no longer change; stage a new batch",
            state.as_str()
        ),
    )
}

/// `batch_not_staged` for a discard of a published batch.
pub(crate) fn never_discarded(id: &BatchId) -> Error {
    Error::invalid(
        Code::BatchNotStaged,
        format!("batch {id} was published; published batches are never discarded"),
    )
}

/// `batch_not_committed` for a pin of a batch never published.
pub(crate) fn not_pinnable(id: &BatchId) -> Error {
    Error::invalid(
        Code::BatchNotCommitted,
        format!("batch {id} was never published; only published batches can be pinned"),
    )
}

/// `batch_not_committed` for a rollback to a batch never published.
pub(crate) fn not_a_rollback_target(id: &BatchId, state: BatchState) -> Error {
    Error::invalid(
        Code::BatchNotCommitted,
        format!(
            "batch {id} was never published ({}); only published batches can be rolled back to",
            state.as_str()
        ),
    )
}

/// `not_supported_remotely`: a catalog without the token hashes (a remote
/// one) cannot store or look them up.
pub(crate) fn tokens_stay_on_the_server() -> Error {
    Error::invalid(
        Code::NotSupportedRemotely,
        "token hashes stay on the server: create tokens with `meta token create` (it asks the server to mint one)",
    )
}

/// `not_supported_remotely`: retention marks are made by the server's own
/// gc (it deletes the files too), never by a remote catalog.
pub(crate) fn gc_runs_on_the_server() -> Error {
    Error::invalid(
        Code::NotSupportedRemotely,
        "retention runs where the warehouse is: run `meta gc` against the database directly, or on the server",
    )
}

/// `not_supported_remotely`: a delivery feed (OpenLineage) is read and
/// advanced by a server next to its catalog, never through another server.
pub(crate) fn feeds_run_on_the_server() -> Error {
    Error::invalid(
        Code::NotSupportedRemotely,
        "OpenLineage delivery runs in a server connected to the catalog database: give `meta serve` a sqlite:// or postgres:// --database-url",
    )
}
