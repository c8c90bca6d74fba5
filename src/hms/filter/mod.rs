//! The metastore partition filter language of `get_partitions_by_filter`:
//! `key op value` with `= != <> < > <= >= LIKE`, `key [NOT] IN (...)` (also
//! `(key) IN (...)` as Spark writes it), `key [NOT] BETWEEN a AND b`, `AND`,
//! `OR` and brackets; values are strings (`'x'` or `"x"`, optionally after
//! `date`) or integers. Keywords are case-insensitive.
//!
//! A parsed [`Expr`] is evaluated exactly against each partition's values,
//! and [`Expr::first_key_ranges`] extracts what the catalog's indexes can
//! answer (equality, IN and ranges on the first key) so that only those
//! partitions are listed.

mod eval;
mod parse;
#[cfg(test)]
mod tests;

pub(crate) use parse::parse;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
}

/// A literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lit {
    Str(String),
    Int(i64),
}

impl Lit {
    fn text(&self) -> String {
        match self {
            Lit::Str(s) => s.clone(),
            Lit::Int(i) => i.to_string(),
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        key: String,
        op: Op,
        value: Lit,
    },
    In {
        key: String,
        values: Vec<Lit>,
        negated: bool,
    },
    Between {
        key: String,
        lo: Lit,
        hi: Lit,
        negated: bool,
    },
}

/// An inclusive range of the first key's values; `None` = unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}
