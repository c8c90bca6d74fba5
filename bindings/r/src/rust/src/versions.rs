//! Versions: rollback, a partition's history, pins, and the audit trail.

use batchmeta::ResolveRequest;
use batchmeta::model::{
    Action, EventQuery, NamespaceName, NewPin, Order, PinName, PinTarget, RollbackRequest,
    TableIdent, Version,
};
use extendr_api::prelude::*;

use crate::client::{DEFAULT_LIST_LIMIT, all_pages, answer, block, get_client, ident};
use crate::errors::{IntoR, invalid};
use crate::values::{self, opt_str, req_str};

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
        let events = block(
            "history",
            all_pages(limit, |cursor, size| {
                let (ms, ident, spec) = (&ms, &ident, &spec);
                async move { ms.history(ident, spec, cursor.as_deref(), Some(size)).await }
            }),
        )?;
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
        let spec = if partition.is_null() {
            None
        } else {
            Some(values::spec(&partition)?.spec)
        };
        let as_of = values::past(&as_of, "as_of")?;
        let batch = opt_str(&batch_id, "batch_id")?
            .map(|b| values::batch_id(&b))
            .transpose()?;
        let expires_at = values::future(&expires_at, "expires_at")?;
        if spec.is_some() && as_of.is_some() {
            return Err(invalid(
                "invalid_pin",
                "a pin holds a partition's batch or the whole table as of a time: give partition (and batch_id) or as_of, not both",
            ));
        }
        if spec.is_none() && batch.is_some() {
            return Err(invalid(
                "invalid_pin",
                "batch_id names a partition's batch: give the partition too",
            ));
        }
        let owner = opt_str(&owner, "owner")?;
        let reason = opt_str(&reason, "reason")?;
        let (ms, ctx) = c.handle()?;
        let pin = block("pin", async {
            let target = match spec {
                Some(spec) => {
                    let partition = ms.partition(&ident, &spec).await?;
                    let batch =
                        match batch {
                            Some(b) => b,
                            None => {
                                let req = ResolveRequest {
                                    partitions: Some(vec![spec.clone()]),
                                    version: Version::Current,
                                };
                                let resolved = ms.resolve(&ident, &req).await?;
                                resolved.into_iter().next().map(|r| r.batch.id).ok_or_else(
                                    || {
                                        batchmeta::Error::not_found(
                                            batchmeta::error::Object::Partition,
                                            partition.path(),
                                        )
                                    },
                                )?
                            }
                        };
                    PinTarget::Batch { partition, batch }
                }
                None => PinTarget::AsOf {
                    at: as_of.unwrap_or_else(chrono::Utc::now),
                },
            };
            let new = NewPin {
                name,
                owner,
                reason,
                target,
                expires_at,
            };
            ms.create_pin(&ctx, &ident, &new).await
        })?;
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
        let namespace = opt_str(&namespace, "namespace")?;
        let table = opt_str(&table, "table")?;
        let (ident, only) = match (namespace, table) {
            (Some(n), Some(t)) => (Some(TableIdent::new(&n, &t).r()?), None),
            (Some(n), None) => (None, Some(NamespaceName::new(&n).r()?)),
            (None, None) => (None, None),
            (None, Some(_)) => {
                return Err(invalid(
                    "invalid_input",
                    "a table needs its namespace: pins(namespace, table), pins(namespace) or pins() for every pin",
                ));
            }
        };
        let (ms, _) = c.handle()?;
        let mut pins = block("pins", async {
            if let Some(ns) = &only {
                ms.require_namespace(ns).await?;
            }
            ms.pins(ident.as_ref()).await
        })?;
        if let Some(ns) = &only {
            pins.retain(|p| p.table.namespace == *ns);
        }
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
        let namespace = opt_str(&namespace, "namespace")?;
        let table = opt_str(&table, "table")?;
        let table_ident = match (&namespace, &table) {
            (Some(n), Some(t)) => Some(TableIdent::new(n, t).r()?),
            (_, None) => None,
            (None, Some(_)) => return Err(invalid("invalid_input", "a table needs its namespace")),
        };
        let ns = match (&namespace, &table_ident) {
            (Some(n), None) => Some(NamespaceName::new(n).r()?),
            _ => None,
        };
        let spec = if partition.is_null() {
            None
        } else {
            Some(values::spec(&partition)?.spec)
        };
        if spec.is_some() && table_ident.is_none() {
            return Err(invalid("invalid_input", "a partition needs its table"));
        }
        let action = opt_str(&action, "action")?
            .map(|a| Action::parse(&a).r())
            .transpose()?;
        let principal = opt_str(&principal, "principal")?;
        let since = values::past(&since, "since")?;
        let until = values::past(&until, "until")?;
        let after = values::opt_u32(&after, "after")?.map(i64::from);
        let limit = values::opt_u32(&limit, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        let (ms, _) = c.handle()?;
        let events = block("events", async {
            let partition = match (&table_ident, &spec) {
                (Some(t), Some(s)) => Some(ms.partition(t, s).await?),
                _ => None,
            };
            let query = EventQuery {
                namespace: ns,
                table: table_ident.clone(),
                partition,
                principal,
                action,
                since,
                until,
                after,
                order: if after.is_some() {
                    Order::OldestFirst
                } else {
                    Order::NewestFirst
                },
                cursor: None,
                limit: None,
            };
            all_pages(limit, |cursor, size| {
                let (ms, query) = (
                    &ms,
                    EventQuery {
                        cursor,
                        limit: Some(size),
                        ..query.clone()
                    },
                );
                async move { ms.events(&query).await }
            })
            .await
        })?;
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
