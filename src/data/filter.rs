//! Row filters as users write them: `column op value`, combined with AND.
//!
//! Semantics follow SQL (and pyarrow's dataset filters): a null never
//! matches a comparison, so `x != 5` and `x not in [..]` skip null rows;
//! use `is null` / `is not null` for nulls. Comparisons use Arrow's total
//! order (NaN is greater than every number). Literals are cast to the
//! column's type when a filter is used (`predicate.rs`).

use std::fmt;

use arrow_array::Array;
use arrow_schema::Schema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::partition_columns::partition_value_array;
use super::predicate::Compiled;
use crate::error::{Code, Error, Result};
use crate::model::PartitionKey;

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
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Filter {
    /// The column it tests (it need not be among the columns read).
    pub column: String,
    /// The operator.
    pub op: FilterOp,
    /// The literal, cast to the column's type when the filter is used
    /// (dates as `"YYYY-MM-DD"`, timestamps as ISO strings; for time-zone
    /// aware columns give an offset, `Z` or `+02:00`, else the text is read
    /// as UTC). [`Scalar::Null`] for `is null` / `is not null`.
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
                    Code::InvalidFilter,
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
pub fn check_filters(filters: &[Filter], schema: &Schema) -> Result<()> {
    for f in filters {
        let field = schema.field_with_name(&f.column).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Error::invalid(
                Code::UnknownColumn,
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
