//! Arrow record batches to and from Parquet files under a batch prefix.
//!
//! - [`write_files`] encodes a stream of batches as zstd Parquet files
//!   `part-00000.parquet`, ... under a prefix, rolling files at a target
//!   size, uploading each with a create-only put.
//! - [`inspect_file`] reads a file's footer: size, rows, Arrow schema.
//! - [`read_files`] streams files back in the table's schema, with column
//!   projection, [`Filter`]s (row groups pruned by statistics, rows filtered
//!   exactly), nulls for columns a file lacks and casts for columns a file
//!   encodes differently.
//! - [`partition_columns_check`] / [`with_partition_columns`] strip and
//!   restore partition key columns, which live in paths, not files.
//!
//! The Arrow schema (with pandas / polars metadata) is stored in each
//! file's `ARROW:schema` footer entry, so dtypes and indexes round-trip.

mod dictionary_order;
mod encode;
mod filter;
mod object_file;
mod partition_columns;
mod predicate;
mod prune;
mod read;
mod write;

#[cfg(test)]
mod tests;

pub use filter::{Filter, FilterOp, Scalar, check_filters, matches_partition};
pub use object_file::{FileInfo, inspect_file};
pub use partition_columns::{
    PartitionColumns, partition_columns_check, partition_fields, with_partition_columns,
};
pub use read::{ReadOptions, ReadStats, output_schema, read_files, read_files_with_stats};
pub use write::{WriteOptions, write_files};
