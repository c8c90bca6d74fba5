//! A [`Filter`] compiled against a column type: literals checked and cast
//! once, then evaluated exactly over record batches with Arrow kernels.

use std::sync::Arc;

use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::{boolean, cmp};
use arrow_array::cast::AsArray;
use arrow_array::types as at;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, Scalar as ArrowScalar, StringArray,
    new_null_array,
};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{ArrowError, DataType, TimeUnit};

use super::filter::{Filter, FilterOp, Scalar};
use crate::error::{Code, Error, Result};

/// Casts that fail instead of producing nulls.
pub(super) const STRICT: CastOptions<'static> = CastOptions {
    safe: false,
    format_options: arrow_cast::display::FormatOptions::new(),
};

/// A [`Filter`] checked against a column type, its literals cast once.
#[derive(Debug, Clone)]
pub(super) struct Compiled {
    /// The filter as the user wrote it (for messages).
    pub(super) filter: Filter,
    /// The type both sides are compared in (comparison operators only).
    pub(super) cmp_type: DataType,
    /// The literals, each a one-element array of `cmp_type`.
    pub(super) values: Vec<ArrayRef>,
}

impl Compiled {
    /// Checks `filter` against a column of type `column_type` and casts its literals.
    pub(super) fn new(filter: &Filter, column_type: &DataType) -> Result<Self> {
        let bad = |why: String| {
            Error::invalid(
                Code::InvalidFilter,
                format!("invalid filter {filter}: {why}"),
            )
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
    pub(super) fn evaluate(&self, column: &ArrayRef) -> Result<BooleanArray> {
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
            FilterOp::IsNull => arrow::compute::is_null(column)?,
            FilterOp::IsNotNull => arrow::compute::is_not_null(column)?,
        })
    }
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
