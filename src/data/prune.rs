//! Row-group pruning: which row groups of a file can hold rows matching the
//! filters, judged from the column statistics in the footer.
//!
//! Pruning is only an optimisation: when statistics are missing, odd or
//! unreadable the row group is read, and the exact filter decides.

use arrow::compute::kernels::{boolean, cmp};
use arrow_array::cast::AsArray;
use arrow_array::types as at;
use arrow_array::{Array, ArrayRef, BooleanArray, Scalar as ArrowScalar, UInt64Array};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use super::filter::FilterOp;
use super::predicate::Compiled;
use crate::error::Result;

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
    Some(may_match(
        filter,
        &ChunkStats {
            mins: &stats.0,
            maxes: &stats.1,
            min_exact: &stats.2,
            max_exact: &stats.3,
            null_counts: &stats.4,
            row_counts: rows,
        },
    ))
}

/// Statistics of one column over a file's row groups, one entry per row group.
#[derive(Debug)]
struct ChunkStats<'a> {
    /// Lower bounds (null = unknown).
    mins: &'a ArrayRef,
    /// Upper bounds (null = unknown).
    maxes: &'a ArrayRef,
    /// Whether each lower bound is an actual value (not truncated).
    min_exact: &'a BooleanArray,
    /// Whether each upper bound is an actual value (not truncated).
    max_exact: &'a BooleanArray,
    /// Null counts (null = unknown).
    null_counts: &'a UInt64Array,
    /// Row counts.
    row_counts: &'a [u64],
}

/// For each row group, whether it may hold a matching row, from its
/// statistics: `mins`/`maxes` (null = unknown), exactness of those
/// bounds, null counts (null = unknown) and row counts. `false` means
/// the row group certainly holds no match and can be skipped.
fn may_match(f: &Compiled, stats: &ChunkStats<'_>) -> Vec<bool> {
    let n = stats.row_counts.len();
    let nulls = |i: usize| {
        stats
            .null_counts
            .is_valid(i)
            .then(|| stats.null_counts.value(i))
    };
    match f.filter.op {
        FilterOp::IsNull => return (0..n).map(|i| nulls(i) != Some(0)).collect(),
        FilterOp::IsNotNull => {
            return (0..n)
                .map(|i| nulls(i) != Some(stats.row_counts[i]))
                .collect();
        }
        _ => {}
    }
    // A row group of nulls only matches no comparison.
    let all_null: Vec<bool> = (0..n)
        .map(|i| nulls(i) == Some(stats.row_counts[i]))
        .collect();
    let bounds = if bounds_are_safe(f) {
        bounds_may_match(f, stats).ok()
    } else {
        None
    };
    (0..n)
        .map(|i| !all_null[i] && bounds.as_ref().is_none_or(|b| b.is_null(i) || b.value(i)))
        .collect()
}

/// Whether min/max bounds decide this filter soundly. Float statistics
/// leave out NaN (which Arrow orders above every number) and may not
/// tell -0.0 from 0.0, so only tests no NaN or zero can pass are used.
fn bounds_are_safe(f: &Compiled) -> bool {
    if !matches!(
        f.cmp_type,
        DataType::Float16 | DataType::Float32 | DataType::Float64
    ) {
        return true;
    }
    let plain = f.values.iter().all(|v| {
        arrow_cast::cast(v, &DataType::Float64)
            .ok()
            .and_then(|a| a.as_primitive_opt::<at::Float64Type>().map(|p| p.value(0)))
            .is_some_and(|x| x.is_finite() && x != 0.0)
    });
    plain
        && matches!(
            f.filter.op,
            FilterOp::Eq | FilterOp::In | FilterOp::Lt | FilterOp::LtEq
        )
}

fn bounds_may_match(f: &Compiled, stats: &ChunkStats<'_>) -> Result<BooleanArray> {
    let min = arrow_cast::cast(stats.mins, &f.cmp_type)?;
    let max = arrow_cast::cast(stats.maxes, &f.cmp_type)?;
    let v = |i: usize| ArrowScalar::new(f.values[i].clone());
    // `min == v && max == v` holds only when every non-null value is v;
    // truncated (inexact) bounds cannot say that.
    let exact = boolean::and(stats.min_exact, stats.max_exact)?;
    let only = |i: usize| -> Result<BooleanArray> {
        let both = boolean::and(&cmp::eq(&min, &v(i))?, &cmp::eq(&max, &v(i))?)?;
        Ok(boolean::and(&both, &exact)?)
    };
    let within = |i: usize| -> Result<BooleanArray> {
        Ok(boolean::and(
            &cmp::lt_eq(&min, &v(i))?,
            &cmp::gt_eq(&max, &v(i))?,
        )?)
    };
    let any = |test: &dyn Fn(usize) -> Result<BooleanArray>| -> Result<BooleanArray> {
        let mut acc = BooleanArray::from(vec![false; min.len()]);
        for i in 0..f.values.len() {
            acc = boolean::or_kleene(&acc, &test(i)?)?;
        }
        Ok(acc)
    };
    Ok(match f.filter.op {
        FilterOp::Eq => within(0)?,
        FilterOp::NotEq => boolean::not(&only(0)?)?,
        FilterOp::Lt => cmp::lt(&min, &v(0))?,
        FilterOp::LtEq => cmp::lt_eq(&min, &v(0))?,
        FilterOp::Gt => cmp::gt(&max, &v(0))?,
        FilterOp::GtEq => cmp::gt_eq(&max, &v(0))?,
        FilterOp::In => any(&within)?,
        FilterOp::NotIn => boolean::not(&any(&only)?)?,
        // Decided from null counts in `may_match`.
        FilterOp::IsNull | FilterOp::IsNotNull => BooleanArray::from(vec![true; min.len()]),
    })
}
