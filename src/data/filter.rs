//! Row filters: the user-facing [`Filter`] (`column op value`), its
//! compilation against a column type, exact evaluation with Arrow compute
//! kernels, and the conservative "may this row group match?" test on
//! min/max statistics used for pruning.
//!
//! Semantics follow SQL (and pyarrow's dataset filters): a null never
//! matches a comparison, so `x != 5` and `x not in [..]` skip null rows;
//! use `is null` / `is not null` for nulls. Comparisons use Arrow's total
//! order (NaN is greater than every number).

use std::fmt;

use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::{boolean, cmp};
use arrow_array::cast::AsArray;
use arrow_array::types as at;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, Scalar as ArrowScalar, StringArray,
    UInt64Array, new_null_array,
};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{ArrowError, DataType, TimeUnit};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::{KeyType, PartitionKey};

/// A comparison operator of a [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    /// `=` (also `==`).
    Eq,
    /// `!=` (also `<>`).
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `in`: the value is a list (a single value is a one-element list).
    In,
    /// `not in`.
    NotIn,
    /// `is null` (no value).
    IsNull,
    /// `is not null` (no value).
    IsNotNull,
}

impl FilterOp {
    /// The operator as users write it (`=`, `not in`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::NotEq => "!=",
            FilterOp::Lt => "<",
            FilterOp::LtEq => "<=",
            FilterOp::Gt => ">",
            FilterOp::GtEq => ">=",
            FilterOp::In => "in",
            FilterOp::NotIn => "not in",
            FilterOp::IsNull => "is null",
            FilterOp::IsNotNull => "is not null",
        }
    }
}

impl fmt::Display for FilterOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FilterOp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Filter::parse_op(s)
    }
}

impl Serialize for FilterOp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FilterOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Filter::parse_op(&s).map_err(serde::de::Error::custom)
    }
}

/// A literal in a [`Filter`]. Serialized untagged: JSON `null`, `true`,
/// `5`, `2.5`, `"us"`, `[1, 2]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// No value (for `is null` / `is not null`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text; also dates (`"2016-10-31"`), timestamps (`"2016-10-31T12:00:00"`) and decimals.
    String(String),
    /// The values of `in` / `not in`.
    List(Vec<Scalar>),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::String(s) => write!(f, "{s:?}"),
            Scalar::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}

impl From<&str> for Scalar {
    fn from(v: &str) -> Self {
        Scalar::String(v.to_owned())
    }
}

impl From<String> for Scalar {
    fn from(v: String) -> Self {
        Scalar::String(v)
    }
}

impl<T: Into<Scalar>> From<Vec<T>> for Scalar {
    fn from(v: Vec<T>) -> Self {
        Scalar::List(v.into_iter().map(Into::into).collect())
    }
}

/// One row filter, `column op value`. Several filters are combined with AND.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// The column it tests (it need not be among the columns read).
    pub column: String,
    /// The operator.
    pub op: FilterOp,
    /// The literal, cast to the column's type when the filter is used
    /// (dates as `"YYYY-MM-DD"`, timestamps as ISO strings). [`Scalar::Null`]
    /// for `is null` / `is not null`.
    #[serde(default)]
    pub value: Scalar,
}

impl Filter {
    /// A filter `column op value`.
    pub fn new(column: impl Into<String>, op: FilterOp, value: impl Into<Scalar>) -> Self {
        Self {
            column: column.into(),
            op,
            value: value.into(),
        }
    }

    /// Parses an operator: `=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`,
    /// `in`, `not in`, `is null`, `is not null` (case and spacing are free).
    pub fn parse_op(op: &str) -> Result<FilterOp> {
        let norm = op
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        Ok(match norm.as_str() {
            "=" | "==" => FilterOp::Eq,
            "!=" | "<>" => FilterOp::NotEq,
            "<" => FilterOp::Lt,
            "<=" => FilterOp::LtEq,
            ">" => FilterOp::Gt,
            ">=" => FilterOp::GtEq,
            "in" => FilterOp::In,
            "not in" => FilterOp::NotIn,
            "is null" => FilterOp::IsNull,
            "is not null" => FilterOp::IsNotNull,
            _ => {
                return Err(Error::invalid(
                    "invalid_filter",
                    format!(
                        "unknown filter operator {op:?}: use =, !=, <, <=, >, >=, in, not in, is null or is not null"
                    ),
                ));
            }
        })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            FilterOp::IsNull | FilterOp::IsNotNull => write!(f, "{} {}", self.column, self.op),
            _ => write!(f, "{} {} {}", self.column, self.op, self.value),
        }
    }
}

/// Whether the partition with `canonical_value` for `key` can hold rows
/// matching `filter`: `None` when the filter is not about this key (or its
/// literal does not fit the key's type; [`check_filters`] reports that as an
/// error), else `Some(matches)`.
pub fn matches_partition(
    filter: &Filter,
    key: &PartitionKey,
    canonical_value: &str,
) -> Option<bool> {
    if filter.column != key.name.as_str() {
        return None;
    }
    let value = partition_value_array(key.kind, canonical_value, 1).ok()?;
    let compiled = Compiled::new(filter, value.data_type()).ok()?;
    let hit = compiled.evaluate(&value).ok()?;
    Some(hit.is_valid(0) && hit.value(0))
}

/// Checks every filter against `schema`: the column exists and the literal
/// can be cast to its type. Callers that prune partitions with
/// [`matches_partition`] pass a schema including the partition fields.
pub fn check_filters(filters: &[Filter], schema: &arrow_schema::Schema) -> Result<()> {
    for f in filters {
        let field = schema.field_with_name(&f.column).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Error::invalid(
                "unknown_column",
                format!(
                    "filter {f} names unknown column {:?}: the table has {}",
                    f.column,
                    names.join(", ")
                ),
            )
        })?;
        Compiled::new(f, field.data_type())?;
    }
    Ok(())
}

/// An array of `rows` copies of a partition value, typed for its key
/// (string → Utf8, int → Int64, date → Date32).
pub(crate) fn partition_value_array(
    kind: KeyType,
    canonical: &str,
    rows: usize,
) -> Result<ArrayRef> {
    let text: ArrayRef = Arc::new(StringArray::from(vec![canonical]));
    let one = cast_with_options(&text, &key_data_type(kind), &STRICT).map_err(|e| {
        Error::Internal(format!(
            "partition value {canonical:?} is not a {kind}: {e}"
        ))
    })?;
    let zeros = arrow_array::UInt32Array::from(vec![0u32; rows]);
    Ok(arrow_select::take::take(&one, &zeros, None)?)
}

/// The Arrow type of a partition key's column.
pub(crate) fn key_data_type(kind: KeyType) -> DataType {
    match kind {
        KeyType::String => DataType::Utf8,
        KeyType::Int => DataType::Int64,
        KeyType::Date => DataType::Date32,
    }
}

/// Casts that fail instead of producing nulls.
pub(crate) const STRICT: CastOptions<'static> = CastOptions {
    safe: false,
    format_options: arrow_cast::display::FormatOptions::new(),
};

/// A [`Filter`] checked against a column type, its literals cast once.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// The filter as the user wrote it (for messages).
    pub(crate) filter: Filter,
    /// The type both sides are compared in (comparison operators only).
    cmp_type: DataType,
    /// The literals, each a one-element array of `cmp_type`.
    values: Vec<ArrayRef>,
}

impl Compiled {
    /// Checks `filter` against a column of type `column_type` and casts its literals.
    pub(crate) fn new(filter: &Filter, column_type: &DataType) -> Result<Self> {
        let bad = |why: String| {
            Error::invalid("invalid_filter", format!("invalid filter {filter}: {why}"))
        };
        if matches!(filter.op, FilterOp::IsNull | FilterOp::IsNotNull) {
            return Ok(Self {
                filter: filter.clone(),
                cmp_type: column_type.clone(),
                values: Vec::new(),
            });
        }
        let base = comparable(column_type).ok_or_else(|| {
            bad(format!(
                "column {} has type {column_type}, which only supports 'is null' and 'is not null'",
                filter.column
            ))
        })?;
        let items: Vec<&Scalar> = match (filter.op, &filter.value) {
            (FilterOp::In | FilterOp::NotIn, Scalar::List(items)) => items.iter().collect(),
            (FilterOp::In | FilterOp::NotIn, one) => vec![one],
            (_, Scalar::List(_)) => {
                return Err(bad("a list of values needs 'in' or 'not in'".into()));
            }
            (_, one) => vec![one],
        };
        // A fractional literal against an integer column compares as floats:
        // `n < 1.5` must keep n = 1.
        let fractional = items
            .iter()
            .any(|v| matches!(v, Scalar::Float(x) if x.fract() != 0.0 || !x.is_finite()));
        let cmp_type = if base.is_integer() && fractional {
            DataType::Float64
        } else {
            base
        };
        let values = items
            .into_iter()
            .map(|v| literal(v, &cmp_type).map_err(&bad))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            filter: filter.clone(),
            cmp_type,
            values,
        })
    }

    /// Which rows of `column` match (null = no). `column` may use any
    /// physical encoding of the type the filter was compiled for.
    pub(crate) fn evaluate(&self, column: &ArrayRef) -> Result<BooleanArray> {
        match self.filter.op {
            FilterOp::IsNull => return Ok(arrow::compute::is_null(column)?),
            FilterOp::IsNotNull => return Ok(arrow::compute::is_not_null(column)?),
            _ => {}
        }
        if self.cmp_type == DataType::Null {
            return Ok(BooleanArray::new_null(column.len()));
        }
        let col = if column.data_type() == &self.cmp_type {
            column.clone()
        } else {
            arrow_cast::cast(column, &self.cmp_type)?
        };
        let v = |i: usize| ArrowScalar::new(self.values[i].clone());
        let any_eq = || -> Result<BooleanArray> {
            let mut acc =
                BooleanArray::new(BooleanBuffer::new_unset(col.len()), col.nulls().cloned());
            for i in 0..self.values.len() {
                acc = boolean::or_kleene(&acc, &cmp::eq(&col, &v(i))?)?;
            }
            Ok(acc)
        };
        Ok(match self.filter.op {
            FilterOp::Eq => cmp::eq(&col, &v(0))?,
            FilterOp::NotEq => cmp::neq(&col, &v(0))?,
            FilterOp::Lt => cmp::lt(&col, &v(0))?,
            FilterOp::LtEq => cmp::lt_eq(&col, &v(0))?,
            FilterOp::Gt => cmp::gt(&col, &v(0))?,
            FilterOp::GtEq => cmp::gt_eq(&col, &v(0))?,
            FilterOp::In => any_eq()?,
            FilterOp::NotIn => boolean::not(&any_eq()?)?,
            FilterOp::IsNull | FilterOp::IsNotNull => unreachable_op()?,
        })
    }

    /// For each row group, whether it may hold a matching row, from its
    /// statistics: `mins`/`maxes` (null = unknown), exactness of those
    /// bounds, null counts (null = unknown) and row counts. `false` means
    /// the row group certainly holds no match and can be skipped.
    pub(crate) fn may_match(&self, stats: &ChunkStats<'_>) -> Vec<bool> {
        let n = stats.row_counts.len();
        let nulls = |i: usize| {
            stats
                .null_counts
                .is_valid(i)
                .then(|| stats.null_counts.value(i))
        };
        match self.filter.op {
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
        let bounds = if self.bounds_are_safe() {
            self.bounds_may_match(stats).ok()
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
    fn bounds_are_safe(&self) -> bool {
        if !matches!(
            self.cmp_type,
            DataType::Float16 | DataType::Float32 | DataType::Float64
        ) {
            return true;
        }
        let plain = self.values.iter().all(|v| {
            arrow_cast::cast(v, &DataType::Float64)
                .ok()
                .and_then(|a| a.as_primitive_opt::<at::Float64Type>().map(|p| p.value(0)))
                .is_some_and(|x| x.is_finite() && x != 0.0)
        });
        plain
            && matches!(
                self.filter.op,
                FilterOp::Eq | FilterOp::In | FilterOp::Lt | FilterOp::LtEq
            )
    }

    fn bounds_may_match(&self, stats: &ChunkStats<'_>) -> Result<BooleanArray> {
        let min = arrow_cast::cast(stats.mins, &self.cmp_type)?;
        let max = arrow_cast::cast(stats.maxes, &self.cmp_type)?;
        let v = |i: usize| ArrowScalar::new(self.values[i].clone());
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
        let fold = |f: &dyn Fn(usize) -> Result<BooleanArray>| -> Result<BooleanArray> {
            let mut acc = BooleanArray::from(vec![false; min.len()]);
            for i in 0..self.values.len() {
                acc = boolean::or_kleene(&acc, &f(i)?)?;
            }
            Ok(acc)
        };
        Ok(match self.filter.op {
            FilterOp::Eq => within(0)?,
            FilterOp::NotEq => boolean::not(&only(0)?)?,
            FilterOp::Lt => cmp::lt(&min, &v(0))?,
            FilterOp::LtEq => cmp::lt_eq(&min, &v(0))?,
            FilterOp::Gt => cmp::gt(&max, &v(0))?,
            FilterOp::GtEq => cmp::gt_eq(&max, &v(0))?,
            FilterOp::In => fold(&within)?,
            FilterOp::NotIn => boolean::not(&fold(&only)?)?,
            FilterOp::IsNull | FilterOp::IsNotNull => unreachable_op()?,
        })
    }
}

fn unreachable_op() -> Result<BooleanArray> {
    Err(Error::Internal(
        "null tests are handled before comparisons".into(),
    ))
}

/// Statistics of one column over a file's row groups, one entry per row group.
#[derive(Debug)]
pub(crate) struct ChunkStats<'a> {
    /// Lower bounds (null = unknown).
    pub(crate) mins: &'a ArrayRef,
    /// Upper bounds (null = unknown).
    pub(crate) maxes: &'a ArrayRef,
    /// Whether each lower bound is an actual value (not truncated).
    pub(crate) min_exact: &'a BooleanArray,
    /// Whether each upper bound is an actual value (not truncated).
    pub(crate) max_exact: &'a BooleanArray,
    /// Null counts (null = unknown).
    pub(crate) null_counts: &'a UInt64Array,
    /// Row counts.
    pub(crate) row_counts: &'a [u64],
}

/// The type values of `dt` compare in, or `None` for nested types.
fn comparable(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Dictionary(_, v) => comparable(v),
        DataType::RunEndEncoded(_, v) => comparable(v.data_type()),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..)
        | DataType::Union(..) => None,
        other => Some(other.clone()),
    }
}

/// One literal as a one-element array of `to`.
fn literal(v: &Scalar, to: &DataType) -> std::result::Result<ArrayRef, String> {
    let raw: ArrayRef = match v {
        Scalar::Null => {
            return Err("null never compares equal: use 'is null' or 'is not null'".into());
        }
        Scalar::List(_) => return Err("lists cannot be nested in 'in' values".into()),
        Scalar::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
        Scalar::Int(i) => Arc::new(Int64Array::from(vec![*i])),
        Scalar::Float(x) => Arc::new(Float64Array::from(vec![*x])),
        Scalar::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
    };
    if *to == DataType::Null {
        return Ok(new_null_array(to, 1));
    }
    let cast = match to {
        // A time-zone aware column holds UTC instants: parse the literal as
        // one (naive text is read as UTC, offsets are honoured) and keep the
        // column's zone. This needs no time-zone database.
        DataType::Timestamp(unit, Some(tz)) => {
            cast_with_options(&raw, &DataType::Timestamp(*unit, None), &STRICT)
                .map(|a| with_timezone(&a, *unit, tz))
        }
        _ => cast_with_options(&raw, to, &STRICT),
    };
    let hint = match to {
        DataType::Date32 | DataType::Date64 => "; write dates as \"YYYY-MM-DD\"",
        DataType::Timestamp(..) => {
            "; write timestamps as \"YYYY-MM-DDTHH:MM:SS\" (optionally with Z or +02:00)"
        }
        _ => "",
    };
    match cast {
        Ok(a) if a.null_count() == 0 => Ok(a),
        Ok(_) => Err(format!("{v} is not a valid {to}{hint}")),
        Err(e) => Err(format!("{v} is not a valid {to} ({}){hint}", short(&e))),
    }
}

fn short(e: &ArrowError) -> String {
    let s = e.to_string();
    s.strip_prefix("Cast error: ")
        .or_else(|| s.strip_prefix("Parser error: "))
        .unwrap_or(&s)
        .to_owned()
}

fn with_timezone(a: &ArrayRef, unit: TimeUnit, tz: &Arc<str>) -> ArrayRef {
    let tz = tz.clone();
    match unit {
        TimeUnit::Second => Arc::new(
            a.as_primitive::<at::TimestampSecondType>()
                .clone()
                .with_timezone(tz),
        ),
        TimeUnit::Millisecond => Arc::new(
            a.as_primitive::<at::TimestampMillisecondType>()
                .clone()
                .with_timezone(tz),
        ),
        TimeUnit::Microsecond => Arc::new(
            a.as_primitive::<at::TimestampMicrosecondType>()
                .clone()
                .with_timezone(tz),
        ),
        TimeUnit::Nanosecond => Arc::new(
            a.as_primitive::<at::TimestampNanosecondType>()
                .clone()
                .with_timezone(tz),
        ),
    }
}
