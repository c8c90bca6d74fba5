//! The v1 handlers. Each parses its input, makes one facade call and responds.

pub(super) mod batches;
pub(super) mod events;
pub(super) mod gc;
pub(super) mod lineage;
pub(super) mod namespaces;
pub(super) mod partitions;
pub(super) mod pins;
pub(super) mod system;
pub(super) mod tables;
pub(super) mod tokens;

use super::error::ApiError;
use crate::model::{PartitionSpec, TableIdent};

/// The table named by the `{namespace}/{table}` path segments.
pub(super) fn table(namespace: &str, table: &str) -> Result<TableIdent, ApiError> {
    Ok(TableIdent::new(namespace, table)?)
}

/// A partition path from a request.
pub(super) fn partition(p: &str) -> Result<PartitionSpec, ApiError> {
    Ok(PartitionSpec::parse(p)?)
}
