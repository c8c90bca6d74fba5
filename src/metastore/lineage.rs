//! Lineage through the facade: the inputs a store records (what its run
//! read since its last store, plus explicit ones), the lineage queries, a
//! rollback's impact and the stale query. The rules are in
//! `catalog::lineage`; this joins them to the edges' calls.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::Metastore;
use crate::catalog::{lineage, rules};
use crate::error::{Code, Error, Result};
use crate::model::{
    BatchId, BatchRef, Context, Direction, Event, Lineage, LineageEdge, MAX_INPUTS, NamespaceName,
    PartitionSpec, Properties, RollbackImpact, RollbackRequest, RunReads, StaleBatch, TableIdent,
};

/// The metadata key of a batch's run id.
pub const RUN_ID_KEY: &str = "run_id";
/// The metadata key of a batch's job name.
pub const JOB_KEY: &str = "job";
/// The longest run id or job name.
pub(super) const MAX_RUN_ID: usize = 200;

/// A run: one job's reads and stores, whose stores record what it read.
#[derive(Debug)]
pub struct Run {
    id: String,
    job: Option<String>,
    durable: bool,
    reads: Mutex<RunReads>,
}

impl Run {
    /// A run whose reads live in this process (a Python or R session).
    pub fn in_memory(id: impl Into<String>, job: Option<String>) -> Result<Self> {
        Self::new(id.into(), job, false)
    }

    /// A run whose reads are kept in the catalog, for runs that span
    /// processes (`meta get --run ID` then `meta put --run ID`).
    pub fn durable(id: impl Into<String>, job: Option<String>) -> Result<Self> {
        Self::new(id.into(), job, true)
    }

    fn new(id: String, job: Option<String>, durable: bool) -> Result<Self> {
        check_label("run id", &id)?;
        if let Some(j) = &job {
            check_label("job name", j)?;
        }
        Ok(Self {
            id,
            job,
            durable,
            reads: Mutex::new(RunReads::default()),
        })
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

fn check_label(what: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_RUN_ID || s.chars().any(char::is_control) {
        return Err(Error::invalid(
            Code::InvalidText,
            format!("the {what} must be 1 to {MAX_RUN_ID} characters without control characters"),
        ));
    }
    Ok(())
}

/// Which inputs a store records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Inputs {
    /// What the run read since its last store (none without a run).
    #[default]
    Tracked,
    /// Those, and these batches too.
    Add(Vec<BatchId>),
    /// Only these batches (an empty list records none).
    Only(Vec<BatchId>),
}

/// A rollback and the current batches downstream it affects.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RolledBack {
    /// The rollback's event.
    #[serde(flatten)]
    pub event: Event,
    /// What it retired and which current batches were built from it.
    pub impact: RollbackImpact,
}

impl Metastore {
    /// This metastore with `run`: its reads are noted and its stores record
    /// them as inputs, with the run id and job name in their metadata.
    pub fn with_run(mut self, run: Run) -> Self {
        self.run = Some(Arc::new(run));
        self
    }

    /// The run, if any.
    pub fn run(&self) -> Option<&Run> {
        self.run.as_deref()
    }

    /// Notes batches a read resolved to.
    pub(super) async fn note_reads<'a>(
        &self,
        batches: impl IntoIterator<Item = &'a BatchId>,
    ) -> Result<()> {
        let Some(run) = &self.run else {
            return Ok(());
        };
        let mut reads = run.reads.lock().await;
        if run.durable {
            *reads = self.catalog.run_reads(&run.id).await?.unwrap_or_default();
        }
        let before = reads.clone();
        reads.note(batches);
        if run.durable && *reads != before {
            self.catalog.save_run_reads(&run.id, &reads).await?;
        }
        Ok(())
    }

    /// The inputs and metadata of a store about to stage, per `inputs`.
    pub(super) async fn store_inputs(
        &self,
        inputs: &Inputs,
        metadata: &Properties,
    ) -> Result<(Vec<BatchId>, Properties)> {
        let mut metadata = metadata.clone();
        let tracked = match (&self.run, inputs) {
            (Some(run), Inputs::Tracked | Inputs::Add(_)) => {
                let mut reads = run.reads.lock().await;
                if run.durable {
                    *reads = self.catalog.run_reads(&run.id).await?.unwrap_or_default();
                }
                reads.reads.clone()
            }
            _ => Vec::new(),
        };
        if let Some(run) = &self.run {
            metadata
                .entry(RUN_ID_KEY.into())
                .or_insert_with(|| run.id.clone());
            if let Some(job) = &run.job {
                metadata
                    .entry(JOB_KEY.into())
                    .or_insert_with(|| job.clone());
            }
        }
        let list = match inputs {
            Inputs::Tracked => tracked,
            Inputs::Add(more) => tracked.into_iter().chain(more.iter().cloned()).collect(),
            Inputs::Only(only) => only.clone(),
        };
        let mut seen = std::collections::HashSet::new();
        Ok((
            list.into_iter()
                .filter(|b| seen.insert(b.clone()))
                .collect(),
            metadata,
        ))
    }

    /// After a published store: the run's reads are now recorded.
    pub(super) async fn stored_in_run(&self) -> Result<()> {
        let Some(run) = &self.run else {
            return Ok(());
        };
        let mut reads = run.reads.lock().await;
        if run.durable {
            *reads = self.catalog.run_reads(&run.id).await?.unwrap_or_default();
        }
        if !reads.stored {
            reads.take_for_store();
            if run.durable {
                self.catalog.save_run_reads(&run.id, &reads).await?;
            }
        }
        Ok(())
    }

    /// The batch of a partition a lineage query starts from: `batch`, or
    /// the partition's current one.
    async fn lineage_root(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        batch: Option<&BatchId>,
    ) -> Result<BatchRef> {
        let p = self.partition(ident, partition).await?;
        let batch = match batch {
            Some(b) => {
                let found = self.catalog.get_batch(ident, b).await?;
                if found.partition != p {
                    return Err(rules::wrong_partition(ident, b, &found.partition, &p));
                }
                found.id
            }
            None => {
                let mut r = self
                    .catalog
                    .resolve(
                        ident,
                        Some(std::slice::from_ref(&p)),
                        &crate::model::Version::Current,
                    )
                    .await?;
                r.pop()
                    .ok_or_else(|| Error::Internal("resolve returned no batch".into()))?
                    .batch
                    .id
            }
        };
        Ok(BatchRef {
            table: ident.clone(),
            partition: p,
            batch,
        })
    }

    /// Upstream (what built a batch) or downstream (what was built from it)
    /// of a partition's batch (`batch`, or its current one), at most `depth`
    /// edges away (default: all).
    pub async fn lineage(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        batch: Option<&BatchId>,
        direction: Direction,
        depth: Option<u32>,
    ) -> Result<Lineage> {
        let depth = lineage::depth(depth)?;
        let root = self.lineage_root(ident, partition, batch).await?;
        lineage::walk(&*self.catalog, root, direction, depth).await
    }

    /// The recorded inputs of a set of batches (retention keeps the inputs
    /// of pinned batches when its policy says so).
    pub async fn input_batches(&self, batches: &[BatchId]) -> Result<Vec<LineageEdge>> {
        let mut out = Vec::new();
        for chunk in batches.chunks(MAX_INPUTS) {
            out.extend(self.catalog.lineage_edges(chunk, Direction::Up).await?);
        }
        Ok(out)
    }

    /// One step of lineage from `batches` (see [`crate::Catalog::lineage_edges`]).
    pub async fn lineage_edges(
        &self,
        batches: &[BatchId],
        direction: Direction,
    ) -> Result<Vec<LineageEdge>> {
        self.catalog.lineage_edges(batches, direction).await
    }

    /// Claims a delivery feed of the event log (see [`Catalog::claim_feed`]).
    ///
    /// [`Catalog::claim_feed`]: crate::catalog::Catalog::claim_feed
    pub async fn claim_feed(
        &self,
        feed: &str,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<i64>> {
        self.catalog.claim_feed(feed, holder, lease).await
    }

    /// Advances a delivery feed's cursor (see [`Catalog::advance_feed`]).
    ///
    /// [`Catalog::advance_feed`]: crate::catalog::Catalog::advance_feed
    pub async fn advance_feed(
        &self,
        feed: &str,
        holder: &str,
        cursor: i64,
        lease: std::time::Duration,
    ) -> Result<bool> {
        self.catalog.advance_feed(feed, holder, cursor, lease).await
    }

    /// What the run `run` has read since its last store (kept in the catalog).
    pub async fn run_reads(&self, run: &str) -> Result<Option<RunReads>> {
        self.catalog.run_reads(run).await
    }

    /// Saves what the run `run` has read.
    pub async fn save_run_reads(&self, run: &str, reads: &RunReads) -> Result<()> {
        self.catalog.save_run_reads(run, reads).await
    }

    /// What rolling a partition back would retire and affect, without
    /// moving anything (`--dry-run`).
    pub async fn rollback_impact(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        req: &RollbackRequest,
    ) -> Result<RollbackImpact> {
        let current = self.lineage_root(ident, partition, None).await?;
        let (p, now) = (&current.partition, &current.batch);
        rules::rollback_expectation(ident, p, req, now)?;
        let target = match &req.to {
            Some(to) => to.clone(),
            None => {
                let parent = self.catalog.get_batch(ident, now).await?.parent;
                rules::previous(ident, p, now, parent)?
            }
        };
        let target = self.catalog.get_batch(ident, &target).await?;
        rules::rollback_target(ident, p, &target, now)?;
        lineage::impact(&*self.catalog, vec![current]).await
    }

    /// Rolls a partition back (as [`Metastore::rollback`]) and says which
    /// current batches downstream were built from the batch it retired.
    pub async fn rollback_with_impact(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        partition: &PartitionSpec,
        req: &RollbackRequest,
    ) -> Result<RolledBack> {
        let p = self.partition(ident, partition).await?;
        let event = self.catalog.rollback(ctx, ident, &p, req).await?;
        let retired = event
            .from_batch
            .clone()
            .map(|batch| BatchRef {
                table: ident.clone(),
                partition: p,
                batch,
            })
            .into_iter()
            .collect();
        let impact = lineage::impact(&*self.catalog, retired).await?;
        Ok(RolledBack { event, impact })
    }

    /// The current batches (of one table, one namespace, or all) built from
    /// an input that is no longer current.
    pub async fn stale(
        &self,
        namespace: Option<&NamespaceName>,
        table: Option<&TableIdent>,
    ) -> Result<Vec<StaleBatch>> {
        let tables = match (table, namespace) {
            (Some(t), _) => vec![self.table(t).await?.ident],
            (None, Some(ns)) => self.tables_of(ns).await?,
            (None, None) => {
                let mut all = Vec::new();
                for ns in self.namespaces().await? {
                    all.extend(self.tables_of(&ns.name).await?);
                }
                all
            }
        };
        lineage::stale(&*self.catalog, &lineage::distinct_tables(tables)).await
    }

    async fn tables_of(&self, ns: &NamespaceName) -> Result<Vec<TableIdent>> {
        Ok(self
            .tables(ns)
            .await?
            .into_iter()
            .map(|t| t.ident)
            .collect())
    }
}
