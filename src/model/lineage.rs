//! Lineage by batch: which batches a batch was built from, and the
//! answers of the lineage queries (DESIGN §3, §9).

use serde::{Deserialize, Serialize};

use super::{BatchId, PartitionValues, PinName, TableIdent};

/// The most input batches one publish may record.
pub const MAX_INPUTS: usize = 1000;

/// The deepest a lineage query walks.
pub const MAX_DEPTH: u32 = 100;

/// One batch, named with its table and partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct BatchRef {
    /// The table.
    pub table: TableIdent,
    /// The partition path.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub partition: PartitionValues,
    /// The batch.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub batch: BatchId,
}

impl std::fmt::Display for BatchRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.table, self.partition, self.batch)
    }
}

/// One recorded edge: `batch` was built from `input`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LineageEdge {
    /// The batch built.
    pub batch: BatchRef,
    /// A batch it was built from.
    pub input: BatchRef,
}

/// Which way a lineage query walks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// What a batch was built from, transitively.
    #[default]
    Up,
    /// What was built from a batch, transitively.
    Down,
}

/// One batch a lineage query reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LineageNode {
    /// The batch.
    #[serde(flatten)]
    pub batch: BatchRef,
    /// How many edges from the start (1 = a direct input or output).
    pub depth: u32,
    /// The batches one step closer to the start it was reached through.
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub via: Vec<BatchId>,
    /// Whether it is its partition's current batch.
    pub current: bool,
    /// The pins that hold it.
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub pinned_by: Vec<PinName>,
}

/// The answer of a lineage query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Lineage {
    /// Where the walk started.
    pub root: BatchRef,
    /// Which way it walked.
    pub direction: Direction,
    /// The batches reached, nearest first.
    pub nodes: Vec<LineageNode>,
}

/// A current batch built from an input that is no longer current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StaleBatch {
    /// The current batch.
    #[serde(flatten)]
    pub batch: BatchRef,
    /// Its inputs that are no longer current in their partitions.
    pub stale_inputs: Vec<StaleInput>,
}

/// An input of a current batch that its partition has moved away from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StaleInput {
    /// The input batch.
    #[serde(flatten)]
    pub input: BatchRef,
    /// Its partition's current batch now, if it has one.
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub current_batch: Option<BatchId>,
}

/// What a rollback retires and which current batches downstream were built
/// from what it retires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RollbackImpact {
    /// The batches the rollback moves the pointer away from.
    pub retired: Vec<BatchRef>,
    /// Current batches built (transitively) from a retired batch.
    pub affected: Vec<LineageNode>,
}

/// What a run has read since its last store: the inputs its next store
/// records. A read after a store starts a new set; a store without new
/// reads records the same inputs as the store before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RunReads {
    /// The batches read, in first-read order, without repeats.
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub reads: Vec<BatchId>,
    /// Whether a store has recorded `reads` already.
    pub stored: bool,
}

impl RunReads {
    /// Notes batches read.
    pub fn note<'a>(&mut self, batches: impl IntoIterator<Item = &'a BatchId>) {
        let mut batches = batches.into_iter().peekable();
        if batches.peek().is_none() {
            return;
        }
        if self.stored {
            self.reads.clear();
            self.stored = false;
        }
        for b in batches {
            if !self.reads.contains(b) {
                self.reads.push(b.clone());
            }
        }
    }

    /// The inputs of the next store, and that store noted.
    pub fn take_for_store(&mut self) -> Vec<BatchId> {
        self.stored = true;
        self.reads.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<BatchId> {
        s.iter().map(|s| BatchId::parse(s).unwrap()).collect()
    }

    #[test]
    fn a_store_takes_the_reads_since_the_last_store_and_repeats_them_without_new_reads() {
        let (a, b, c) = (
            "20260101000000000001",
            "20260101000000000002",
            "20260101000000000003",
        );
        let mut r = RunReads::default();
        r.note(&ids(&[a, b, a]));
        assert_eq!(r.take_for_store(), ids(&[a, b]));
        assert_eq!(
            r.take_for_store(),
            ids(&[a, b]),
            "no new reads: the same inputs"
        );
        r.note(&ids(&[]));
        assert_eq!(r.take_for_store(), ids(&[a, b]), "an empty read is no read");
        r.note(&ids(&[c]));
        assert_eq!(
            r.take_for_store(),
            ids(&[c]),
            "a read after a store starts anew"
        );
    }
}
