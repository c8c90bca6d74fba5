//! `gc`: retention (docs/retention.md). A dry run by default: what would go
//! (batches, files, bytes) and why every other batch survives. Applied, each
//! batch is marked `expiring` by the catalog in a transaction that re-checks
//! every rule, its files are deleted, then it is marked `expired` with its
//! audit event. A rerun after a crash finishes batches left `expiring`.

use chrono::{DateTime, TimeDelta, Utc};
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use super::Metastore;
pub use super::orphans::GcOrphan;
use crate::catalog::retention::{
    self, Collect, GcRules, PartitionFacts, Policy, Survival, Verdict,
};
use crate::error::Result;
use crate::model::{
    BatchId, Context, NamespaceName, PartitionQuery, PartitionValues, Table, TableIdent,
};
use crate::storage;

/// What `gc` runs on and with which rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GcRequest {
    /// Every namespace (`None`), one namespace, or one table.
    pub namespace: Option<NamespaceName>,
    /// Only this table of `namespace`.
    pub table: Option<TableIdent>,
    /// Collect committed batches older than this (overrides the policy's max age).
    pub older_than: Option<TimeDelta>,
    /// Keep the last N committed batches of each partition (overrides the policy's).
    pub keep_last: Option<u32>,
    /// The grace period (default 7 days).
    pub grace: Option<TimeDelta>,
    /// Accept a grace period under one hour.
    pub force_grace: bool,
    /// Delete; without it, a dry run.
    pub apply: bool,
}

/// One batch `gc` collects (or would).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GcCollected {
    /// `namespace.table`.
    pub table: String,
    /// The partition's path.
    pub partition: String,
    /// The batch.
    pub batch: BatchId,
    /// Why it goes.
    pub reason: Collect,
    /// Its files (warehouse-relative paths).
    pub files: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
}

/// One batch that stays, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GcSurvivor {
    /// `namespace.table`.
    pub table: String,
    /// The partition's path.
    pub partition: String,
    /// The batch.
    pub batch: BatchId,
    /// Why it stays.
    pub survives: Survival,
    /// The reason in words.
    pub why: String,
}

/// What a `gc` found and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GcReport {
    /// Whether files were deleted (`--apply`) or this is a dry run.
    pub applied: bool,
    /// The batches collected (applied) or that would be (dry run).
    pub collected: Vec<GcCollected>,
    /// Every other live batch, with its reason.
    pub survivors: Vec<GcSurvivor>,
    /// Batches the apply skipped because a rule protected them when re-checked.
    pub skipped: Vec<GcSurvivor>,
    /// Objects under a table's prefix that no batch records, older than
    /// the grace period: a crashed writer's leftovers, deleted (applied)
    /// or that would be (dry run).
    #[serde(default)]
    pub orphans: Vec<GcOrphan>,
    /// Total batches collected.
    pub batches: u64,
    /// Total files collected, orphans included.
    pub files: u64,
    /// Total bytes collected, orphans included.
    pub bytes: u64,
}

impl Metastore {
    /// Runs retention over the tables `req` names: a dry run unless
    /// `req.apply`. Never collects a current, pinned, in-grace or in-flight
    /// batch: the catalog re-checks each rule when it marks a batch.
    pub async fn gc(&self, ctx: &Context, req: &GcRequest) -> Result<GcReport> {
        #[cfg(feature = "client")]
        if let Some(server) = self.catalog.server() {
            return server.gc(ctx, req).await;
        }
        let grace_rules = GcRules::new(Policy::default(), req.grace, req.force_grace)?;
        let overrides = Policy {
            keep_last: req.keep_last,
            max_age_secs: req.older_than.map(|d| d.num_seconds()),
            keep_inputs_of_pinned: None,
        };
        retention::check_policy(&overrides)?;
        let mut report = GcReport {
            applied: req.apply,
            ..GcReport::default()
        };
        for t in self.gc_tables(req).await? {
            let ns = self.catalog.get_namespace(&t.ident.namespace).await?;
            let policy = Policy::from_properties(&ns.properties)?
                .overridden_by(Policy::from_properties(&t.properties)?)
                .overridden_by(overrides);
            let rules = GcRules {
                policy,
                ..grace_rules
            };
            self.gc_table(ctx, &t.ident, &rules, req.apply, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn gc_tables(&self, req: &GcRequest) -> Result<Vec<Table>> {
        if let Some(ident) = &req.table {
            return Ok(vec![self.catalog.get_table(ident).await?]);
        }
        let namespaces = match &req.namespace {
            Some(ns) => vec![ns.clone()],
            None => self
                .catalog
                .list_namespaces()
                .await?
                .into_iter()
                .map(|n| n.name)
                .collect(),
        };
        let mut out = Vec::new();
        for ns in &namespaces {
            out.extend(self.catalog.list_tables(ns).await?);
        }
        Ok(out)
    }

    async fn gc_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        rules: &GcRules,
        apply: bool,
        report: &mut GcReport,
    ) -> Result<()> {
        let mut query = PartitionQuery {
            limit: Some(1000),
            ..PartitionQuery::default()
        };
        loop {
            let page = self.catalog.list_partitions(ident, &query).await?;
            for p in &page.items {
                self.gc_partition(
                    ctx,
                    ident,
                    &p.partition,
                    Some(&p.current),
                    rules,
                    apply,
                    report,
                )
                .await?;
            }
            match page.next_cursor {
                Some(c) => query.cursor = Some(c),
                None => break,
            }
        }
        // A partition never published holds only staged batches (a crashed
        // first write): abandoned once past the grace period.
        for partition in self.catalog.unpublished_partitions(ident).await? {
            self.gc_partition(ctx, ident, &partition, None, rules, apply, report)
                .await?;
        }
        self.gc_orphans(ctx, ident, rules, apply, report).await
    }

    /// The verdict on every batch of one partition (`current` its current
    /// batch, `None` if it was never published), collected with `apply`.
    #[allow(clippy::too_many_arguments)]
    async fn gc_partition(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionValues,
        current: Option<&BatchId>,
        rules: &GcRules,
        apply: bool,
        report: &mut GcReport,
    ) -> Result<()> {
        let batches = self.catalog.list_batches(ident, partition).await?;
        let left = self.left_current(ident, partition).await?;
        let now = chrono::Utc::now();
        let facts = PartitionFacts {
            current,
            batches: &batches,
            left: &left,
        };
        for b in &batches {
            let first = retention::verdict(b, facts, &[], rules, now);
            let verdict = match first {
                Verdict::Collect(_) => {
                    let pins = self.catalog.pins_holding(ident, &b.id).await?;
                    match retention::verdict(b, facts, &pins, rules, now) {
                        Verdict::Collect(Collect::Retention)
                            if rules.policy.keeps_inputs_of_pinned() =>
                        {
                            self.input_of_pinned(&b.id)
                                .await?
                                .map_or(Verdict::Collect(Collect::Retention), Verdict::Keep)
                        }
                        v => v,
                    }
                }
                v => v,
            };
            let name = ident.to_string();
            match verdict {
                Verdict::Gone => {}
                Verdict::Keep(s) => report.survivors.push(GcSurvivor {
                    table: name,
                    partition: partition.path(),
                    batch: b.id.clone(),
                    why: s.to_string(),
                    survives: s,
                }),
                Verdict::Collect(reason) => {
                    let item = GcCollected {
                        table: name,
                        partition: partition.path(),
                        batch: b.id.clone(),
                        reason,
                        files: b.files.iter().map(|f| f.path.clone()).collect(),
                        bytes: b.files.iter().map(|f| f.size).sum(),
                    };
                    if apply {
                        match self.collect(ctx, ident, &b.id, rules).await {
                            Ok(()) => {}
                            Err(e) if e.is(crate::error::Code::BatchProtected) => {
                                report.skipped.push(GcSurvivor {
                                    table: item.table,
                                    partition: item.partition,
                                    batch: item.batch,
                                    survives: Survival::NoPolicy,
                                    why: e.to_string(),
                                });
                                continue;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    report.batches += 1;
                    report.files += item.files.len() as u64;
                    report.bytes += item.bytes;
                    report.collected.push(item);
                }
            }
        }
        Ok(())
    }

    /// The first pinned batch built from `batch` (its recorded lineage), if any.
    async fn input_of_pinned(&self, batch: &BatchId) -> Result<Option<Survival>> {
        let edges = self
            .catalog
            .lineage_edges(std::slice::from_ref(batch), crate::model::Direction::Down)
            .await?;
        for e in edges {
            let pins = self
                .catalog
                .pins_holding(&e.batch.table, &e.batch.batch)
                .await?;
            if !pins.is_empty() {
                return Ok(Some(Survival::InputOfPinned {
                    batch: e.batch.batch,
                    pins: pins.iter().map(|p| p.name.as_str().to_owned()).collect(),
                }));
            }
        }
        Ok(None)
    }

    /// When each batch of a partition last stopped being current: the
    /// `from` of its pointer moves.
    async fn left_current(
        &self,
        ident: &TableIdent,
        partition: &PartitionValues,
    ) -> Result<Vec<(BatchId, DateTime<Utc>)>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .catalog
                .history(ident, partition, cursor.as_deref(), Some(1000))
                .await?;
            out.extend(
                page.items
                    .into_iter()
                    .filter_map(|e| e.from_batch.map(|b| (b, e.at))),
            );
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Mark (re-checking every rule), delete the files, mark expired.
    async fn collect(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        batch: &BatchId,
        rules: &GcRules,
    ) -> Result<()> {
        let storage = self.direct()?;
        let marked = self.catalog.mark_expiring(ctx, ident, batch, rules).await?;
        let early = crate::faults::active("gc_mark_expired_first");
        if early {
            self.catalog.mark_expired(ctx, ident, batch).await?;
        }
        for f in &marked.files {
            let path = storage::object_path(&f.path)?;
            let deleted = match storage.store().delete(&path).await {
                Ok(()) => "deleted",
                Err(object_store::Error::NotFound { .. }) => "already gone",
                Err(e) => return Err(e.into()),
            };
            crate::faults::crash_point("crash_during_gc");
            crate::faults::pause_point(
                "gc_pause_after_delete",
                &format_args!("{deleted} {}", f.path),
            );
        }
        if early {
            return Ok(());
        }
        self.catalog.mark_expired(ctx, ident, batch).await?;
        Ok(())
    }
}
