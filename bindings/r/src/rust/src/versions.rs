//! Versions: rollback, a partition's history, pins, and the audit trail.

use batchmeta::metastore::{DEFAULT_LIST_LIMIT, EventFilter, PinRequest};
use batchmeta::model::{Action, PartitionSpec, PinName, RollbackRequest, Scope};
use extendr_api::prelude::*;

use crate::client::{answer, block, get_client, ident};
use crate::errors::{IntoR, RResult};
use crate::values::{self, opt_str, req_str};

/// A namespace and a table, each `NULL` or a name.
fn scope(namespace: &Robj, table: &Robj) -> RResult<Scope> {
    let namespace = opt_str(namespace, "namespace")?;
    let table = opt_str(table, "table")?;
    Scope::parse(namespace.as_deref(), table.as_deref()).r()
}

/// A partition spec, or `NULL`.
fn opt_spec(partition: &Robj) -> RResult<Option<PartitionSpec>> {
    if partition.is_null() {
        Ok(None)
    } else {
        Ok(Some(values::spec(partition)?.spec))
    }
}

/// Rolls one partition back to its previous batch (or to `to`).
#[extendr]
fn bm_rollback(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    to: Robj,
    expected_batch: Robj,
    message: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let req = RollbackRequest {
            to: opt_str(&to, "to")?
                .map(|b| values::batch_id(&b))
                .transpose()?,
            expect: opt_str(&expected_batch, "expected_batch")?
                .map(|b| values::batch_id(&b))
                .transpose()?,
            message: opt_str(&message, "message")?,
        };
        let (ms, ctx) = c.handle()?;
        let event = block("rollback", ms.rollback(&ctx, &ident, &spec, &req))?;
        Ok(values::event_columns(std::slice::from_ref(&event)))
    })())
}

/// The pointer moves of one partition, newest first.
#[extendr]
fn bm_history(client: Robj, namespace: Robj, table: Robj, partition: Robj, limit: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let spec = values::spec_or_unpartitioned(&partition)?;
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        let (ms, _) = c.handle()?;
        let events = block("history", ms.history_up_to(&ident, &spec, limit))?;
        Ok(values::event_columns(&events))
    })())
}

/// Pins a partition's batch (current or `batch_id`), or the table as of a time.
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_pin(
    client: Robj,
    namespace: Robj,
    table: Robj,
    name: Robj,
    partition: Robj,
    batch_id: Robj,
    as_of: Robj,
    owner: Robj,
    reason: Robj,
    expires_at: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let name = PinName::new(&req_str(&name, "name")?).r()?;
        let mut req = PinRequest {
            partition: opt_spec(&partition)?,
            batch: opt_str(&batch_id, "batch_id")?
                .map(|b| values::batch_id(&b))
                .transpose()?,
            as_of: values::past(&as_of, "as_of")?,
            owner: opt_str(&owner, "owner")?,
            reason: opt_str(&reason, "reason")?,
            expires_at: values::future(&expires_at, "expires_at")?,
        };
        // Neither a partition nor a time: the whole table as it is now.
        if req.partition.is_none() && req.batch.is_none() && req.as_of.is_none() {
            req.as_of = Some(chrono::Utc::now());
        }
        let (ms, ctx) = c.handle()?;
        let pin = block("pin", ms.pin_version(&ctx, &ident, name, &req))?;
        Ok(values::pin_columns(std::slice::from_ref(&pin)))
    })())
}

/// Deletes a pin.
#[extendr]
fn bm_unpin(client: Robj, namespace: Robj, table: Robj, name: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let ident = ident(&namespace, &table)?;
        let name = PinName::new(&req_str(&name, "name")?).r()?;
        let (ms, ctx) = c.handle()?;
        block("unpin", ms.delete_pin(&ctx, &ident, &name))?;
        Ok(().into())
    })())
}

/// The pins of a table, of a namespace, or of every table.
#[extendr]
fn bm_pins(client: Robj, namespace: Robj, table: Robj) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let scope = scope(&namespace, &table)?;
        let (ms, _) = c.handle()?;
        let pins = block("pins", ms.pins_in(&scope))?;
        Ok(values::pin_columns(&pins))
    })())
}

/// Queries the audit trail (newest first; with `after`, oldest first).
#[extendr]
#[expect(clippy::too_many_arguments, reason = "mirrors the R signature")]
fn bm_events(
    client: Robj,
    namespace: Robj,
    table: Robj,
    partition: Robj,
    action: Robj,
    principal: Robj,
    since: Robj,
    until: Robj,
    after: Robj,
    limit: Robj,
) -> Robj {
    answer((|| {
        let c = get_client(&client)?;
        let filter = EventFilter {
            scope: scope(&namespace, &table)?,
            partition: opt_spec(&partition)?,
            principal: opt_str(&principal, "principal")?,
            action: opt_str(&action, "action")?
                .map(|a| Action::parse(&a).r())
                .transpose()?,
            since: values::past(&since, "since")?,
            until: values::past(&until, "until")?,
            after: values::opt_u32(&after, "after")?.map(i64::from),
        };
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        let (ms, _) = c.handle()?;
        let events = block("events", ms.events_up_to(&filter, limit))?;
        Ok(values::event_columns(&events))
    })())
}

extendr_module! {
    mod versions;
    fn bm_rollback;
    fn bm_history;
    fn bm_pin;
    fn bm_unpin;
    fn bm_pins;
    fn bm_events;
}
