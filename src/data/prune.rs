//! Row-group pruning: which row groups of a file can hold rows matching the
//! filters, judged from the column statistics in the footer.
//!
//! Pruning is only an optimisation: when statistics are missing, odd or
//! unreadable the row group is read, and the exact filter decides.

use arrow_schema::Schema;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use super::filter::{ChunkStats, Compiled};

/// The indices of the row groups to read: those with rows that every filter may match.
pub(crate) fn row_groups_to_read(
    metadata: &ParquetMetaData,
    file_schema: &Schema,
    filters: &[&Compiled],
) -> Vec<usize> {
    let rows: Vec<u64> = metadata
        .row_groups()
        .iter()
        .map(|g| u64::try_from(g.num_rows()).unwrap_or_default())
        .collect();
    let mut keep: Vec<bool> = rows.iter().map(|r| *r > 0).collect();
    for f in filters {
        if let Some(may) = column_may_match(metadata, file_schema, f, &rows) {
            for (k, m) in keep.iter_mut().zip(may) {
                *k &= m;
            }
        }
    }
    keep.iter()
        .enumerate()
        .filter_map(|(i, k)| k.then_some(i))
        .collect()
}

/// Per row group, whether `filter` may match there; `None` when the column
/// has no usable statistics in this file (nested, absent, unreadable).
fn column_may_match(
    metadata: &ParquetMetaData,
    file_schema: &Schema,
    filter: &Compiled,
    rows: &[u64],
) -> Option<Vec<bool>> {
    let column = filter.filter.column.as_str();
    file_schema.field_with_name(column).ok()?;
    let converter =
        StatisticsConverter::try_new(column, file_schema, metadata.file_metadata().schema_descr())
            .ok()?
            .with_missing_null_counts_as_zero(false);
    converter.parquet_column_index()?;
    let groups = metadata.row_groups();
    let stats = (
        converter.row_group_mins(groups.iter()).ok()?,
        converter.row_group_maxes(groups.iter()).ok()?,
        converter.row_group_is_min_value_exact(groups.iter()).ok()?,
        converter.row_group_is_max_value_exact(groups.iter()).ok()?,
        converter.row_group_null_counts(groups.iter()).ok()?,
    );
    Some(filter.may_match(&ChunkStats {
        mins: &stats.0,
        maxes: &stats.1,
        min_exact: &stats.2,
        max_exact: &stats.3,
        null_counts: &stats.4,
        row_counts: rows,
    }))
}
