//! What the language edges take whole, one call each: a partition's
//! history and the audit trail up to a number of events (every page
//! fetched here), the pins of a scope, and a pin named as people name it
//! (a partition's current batch, one of its batches, or the table as of a
//! time). Python's and R's `history()`, `events()`, `pins()` and `pin()`
//! are these calls and nothing more.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::{Metastore, ResolveRequest};
use crate::error::{Code, Error, Result};
use crate::model::{
    Action, BatchId, Context, Event, EventQuery, Hint, NewPin, Page, PartitionInfo, PartitionQuery,
    PartitionSpec, Pin, PinName, PinTarget, Scope, TableIdent, Version,
};

/// The page size of the listings here (the catalog's maximum).
const PAGE: u32 = 1000;

/// Most events a language edge's `history()` or `events()` returns when
/// no limit is given.
pub const DEFAULT_LIST_LIMIT: u32 = 10_000;

/// The first `limit` items of a paged listing, page by page.
pub async fn take_pages<T, F, Fut>(limit: u32, mut page: F) -> Result<Vec<T>>
where
    F: FnMut(Option<String>, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let next = page(cursor.take(), limit.clamp(1, PAGE)).await?;
        out.extend(next.items);
        match next.next_cursor {
            Some(c) if (out.len() as u32) < limit => cursor = Some(c),
            _ => break,
        }
    }
    out.truncate(limit as usize);
    Ok(out)
}

/// Which events to list ([`Metastore::events_up_to`]).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Everything, a namespace, or a table.
    pub scope: Scope,
    /// Only this partition (needs a table scope).
    pub partition: Option<PartitionSpec>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this action.
    pub action: Option<Action>,
    /// At or after this server time.
    pub since: Option<DateTime<Utc>>,
    /// Before this server time.
    pub until: Option<DateTime<Utc>>,
    /// Change feed: events after this id, oldest first (else newest first).
    pub after: Option<i64>,
}

/// What a pin holds, as an edge names it ([`Metastore::pin_version`]).
#[derive(Debug, Clone, Default)]
pub struct PinRequest {
    /// A partition: its current batch, or `batch`.
    pub partition: Option<PartitionSpec>,
    /// One batch of `partition`.
    pub batch: Option<BatchId>,
    /// The whole table as it was at this time.
    pub as_of: Option<DateTime<Utc>>,
    /// Who to ask.
    pub owner: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When it stops holding anything.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Metastore {
    /// Published partitions in key order (those starting with `prefix`
    /// when given), up to `limit`.
    pub async fn partitions_up_to(
        &self,
        ident: &TableIdent,
        prefix: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PartitionInfo>> {
        take_pages(limit, |cursor, size| {
            let query = PartitionQuery {
                prefix: prefix.map(str::to_owned),
                cursor,
                limit: Some(size),
                ..PartitionQuery::default()
            };
            async move { self.catalog.list_partitions(ident, &query).await }
        })
        .await
    }

    /// A partition's pointer moves, newest first, up to `limit` events.
    pub async fn history_up_to(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let p = self.partition(ident, partition).await?;
        take_pages(limit, |cursor, size| {
            let p = &p;
            async move {
                self.catalog
                    .history(ident, p, cursor.as_deref(), Some(size))
                    .await
            }
        })
        .await
    }

    /// The events `filter` selects, up to `limit`: newest first, or oldest
    /// first after an event id (a change feed).
    pub async fn events_up_to(&self, filter: &EventFilter, limit: u32) -> Result<Vec<Event>> {
        let partition = match (&filter.scope, &filter.partition) {
            (Scope::Table(t), Some(s)) => Some(self.partition(t, s).await?),
            (_, Some(_)) => {
                return Err(Error::invalid(
                    Code::InvalidQuery,
                    "a partition filter needs its table: give the namespace and the table too",
                ));
            }
            (_, None) => None,
        };
        let query = EventQuery {
            namespace: filter.scope.namespace().cloned(),
            table: filter.scope.table().cloned(),
            partition,
            principal: filter.principal.clone(),
            action: filter.action,
            since: filter.since,
            until: filter.until,
            after: filter.after,
            ..EventQuery::default()
        };
        take_pages(limit, |cursor, size| {
            let query = EventQuery {
                cursor,
                limit: Some(size),
                ..query.clone()
            };
            async move { self.catalog.events(&query).await }
        })
        .await
    }

    /// The pins of a table, of a namespace, or of every table.
    pub async fn pins_in(&self, scope: &Scope) -> Result<Vec<Pin>> {
        match scope {
            Scope::All => self.catalog.list_pins(None).await,
            Scope::Table(t) => self.catalog.list_pins(Some(t)).await,
            Scope::Namespace(ns) => {
                self.require_namespace(ns).await?;
                let mut pins = self.catalog.list_pins(None).await?;
                pins.retain(|p| p.table.namespace == *ns);
                Ok(pins)
            }
        }
    }

    /// Pins what `req` names: a partition's current batch, one of its
    /// committed batches, or the whole table as of a time.
    pub async fn pin_version(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        name: PinName,
        req: &PinRequest,
    ) -> Result<Pin> {
        let target = match (&req.partition, req.batch.as_ref(), req.as_of) {
            (Some(_), _, Some(_)) => {
                return Err(Error::invalid(
                    Code::InvalidPin,
                    "a pin holds a partition's batch or the whole table as of a time: give the partition (and a batch) or a time, not both",
                ));
            }
            (None, Some(_), _) => {
                return Err(Error::invalid(
                    Code::InvalidPin,
                    "a batch ID names one batch of a partition: give the partition too",
                ));
            }
            (None, None, None) => {
                return Err(Error::invalid_hint(
                    Code::MissingPinTarget,
                    "say what to pin",
                    Hint::PinTarget,
                ));
            }
            (None, None, Some(at)) => PinTarget::AsOf { at },
            (Some(spec), batch, None) => {
                let version = batch.cloned().map_or(Version::Current, Version::Batch);
                let req = ResolveRequest {
                    partitions: Some(vec![spec.clone()]),
                    version,
                };
                let Some(r) = self.resolve(ident, &req).await?.into_iter().next() else {
                    let p = self.partition(ident, spec).await?;
                    return Err(Error::invalid(
                        Code::PartitionNotPublished,
                        format!("{ident} {p} has no batch to pin: publish one first"),
                    ));
                };
                PinTarget::Batch {
                    partition: r.partition,
                    batch: r.batch.id,
                }
            }
        };
        let pin = NewPin {
            name,
            owner: req.owner.clone(),
            reason: req.reason.clone(),
            target,
            expires_at: req.expires_at,
        };
        self.catalog.create_pin(ctx, ident, &pin).await
    }
}
