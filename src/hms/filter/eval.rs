//! A parsed filter evaluated against partition values, and the ranges of
//! the first key the catalog's indexes can answer.

use std::cmp::Ordering;

use super::{Expr, KeyRange, Lit, Op};
use crate::error::{Code, Error, Result};
use crate::model::{KeyType, PartitionKey, PartitionSpec, PartitionValues};

impl Expr {
    /// Checks that every key the filter names is a partition key.
    pub(crate) fn check_keys(&self, keys: &[PartitionKey]) -> Result<()> {
        let check = |k: &str| {
            if keys.iter().any(|p| p.name.as_str().eq_ignore_ascii_case(k)) {
                Ok(())
            } else {
                let names: Vec<&str> = keys.iter().map(|p| p.name.as_str()).collect();
                Err(Error::invalid(
                    Code::InvalidFilter,
                    format!(
                        "{k} is not a partition key of this table; its keys are: {}",
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ),
                ))
            }
        };
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.check_keys(keys)?;
                b.check_keys(keys)
            }
            Expr::Cmp { key, .. } | Expr::In { key, .. } | Expr::Between { key, .. } => check(key),
        }
    }

    /// Whether a partition (its values in key order) matches.
    pub(crate) fn matches(&self, keys: &[PartitionKey], values: &PartitionValues) -> bool {
        let value_of = |k: &str| -> Option<(KeyType, &str)> {
            keys.iter()
                .position(|p| p.name.as_str().eq_ignore_ascii_case(k))
                .and_then(|i| Some((keys[i].kind, values.pairs().get(i)?.1.as_str())))
        };
        match self {
            Expr::And(a, b) => a.matches(keys, values) && b.matches(keys, values),
            Expr::Or(a, b) => a.matches(keys, values) || b.matches(keys, values),
            Expr::Cmp { key, op, value } => {
                value_of(key).is_some_and(|(t, v)| compare(t, v, *op, value))
            }
            Expr::In {
                key,
                values: lits,
                negated,
            } => value_of(key)
                .is_some_and(|(t, v)| lits.iter().any(|l| compare(t, v, Op::Eq, l)) != *negated),
            Expr::Between {
                key,
                lo,
                hi,
                negated,
            } => value_of(key).is_some_and(|(t, v)| {
                (compare(t, v, Op::Ge, lo) && compare(t, v, Op::Le, hi)) != *negated
            }),
        }
    }

    /// The ranges of the first key that hold every match, when the filter's
    /// top-level conjuncts bound it (equality, IN, comparisons, BETWEEN);
    /// `None` when every partition must be looked at. Values are the key's
    /// canonical form; a literal that does not fit the key's type gives
    /// `None` (the exact evaluation then decides).
    pub(crate) fn first_key_ranges(&self, keys: &[PartitionKey]) -> Option<Vec<KeyRange>> {
        let first = keys.first()?;
        let mut conjuncts = Vec::new();
        self.conjuncts(&mut conjuncts);
        let canon = |l: &Lit| -> Option<String> {
            let spec = PartitionSpec::value(l.text());
            PartitionValues::resolve(std::slice::from_ref(first), &spec)
                .ok()
                .and_then(|v| v.values().next().map(str::to_owned))
        };
        let mut best: Option<Vec<KeyRange>> = None;
        let mut lower: Option<String> = None;
        let mut upper: Option<String> = None;
        let tighter = |a: Option<String>, b: String, want: Ordering| -> Option<String> {
            match a {
                Some(a) if compare_canonical(first.kind, &a, &b) == want => Some(a),
                _ => Some(b),
            }
        };
        for c in conjuncts {
            match c {
                Expr::Cmp { key, op, value } if key.eq_ignore_ascii_case(first.name.as_str()) => {
                    let v = canon(value)?;
                    match op {
                        Op::Eq => {
                            best = Some(vec![KeyRange {
                                from: Some(v.clone()),
                                to: Some(v),
                            }])
                        }
                        Op::Gt | Op::Ge => lower = tighter(lower, v, Ordering::Greater),
                        Op::Lt | Op::Le => upper = tighter(upper, v, Ordering::Less),
                        Op::Ne | Op::Like => {}
                    }
                }
                Expr::In {
                    key,
                    values,
                    negated: false,
                } if key.eq_ignore_ascii_case(first.name.as_str()) && best.is_none() => {
                    let mut vs = values.iter().map(canon).collect::<Option<Vec<_>>>()?;
                    vs.sort_by(|a, b| compare_canonical(first.kind, a, b));
                    vs.dedup();
                    best = Some(
                        vs.into_iter()
                            .map(|v| KeyRange {
                                from: Some(v.clone()),
                                to: Some(v),
                            })
                            .collect(),
                    );
                }
                Expr::Between {
                    key,
                    lo,
                    hi,
                    negated: false,
                } if key.eq_ignore_ascii_case(first.name.as_str()) => {
                    lower = tighter(lower, canon(lo)?, Ordering::Greater);
                    upper = tighter(upper, canon(hi)?, Ordering::Less);
                }
                _ => {}
            }
        }
        if best.is_some() {
            return best;
        }
        if lower.is_some() || upper.is_some() {
            return Some(vec![KeyRange {
                from: lower,
                to: upper,
            }]);
        }
        None
    }

    fn conjuncts<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::And(a, b) => {
                a.conjuncts(out);
                b.conjuncts(out);
            }
            e => out.push(e),
        }
    }
}

fn compare_canonical(kind: KeyType, a: &str, b: &str) -> Ordering {
    match (kind, a.parse::<i64>(), b.parse::<i64>()) {
        (KeyType::Int, Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// `value op literal` for a key of type `kind` (`value` is canonical).
fn compare(kind: KeyType, value: &str, op: Op, lit: &Lit) -> bool {
    let text = lit.text();
    if op == Op::Like {
        return like(value, &text);
    }
    let ord = match kind {
        KeyType::Int => match (value.parse::<i64>(), text.trim().parse::<i64>()) {
            (Ok(a), Ok(b)) => a.cmp(&b),
            // Not a number: it equals nothing.
            _ => return op == Op::Ne,
        },
        // Dates are canonical `YYYY-MM-DD`; a literal like `2016-1-5` is
        // brought to the same form before comparing.
        KeyType::Date => {
            let lit = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or(text);
            value.cmp(lit.as_str())
        }
        KeyType::String => value.cmp(text.as_str()),
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Gt => ord == Ordering::Greater,
        Op::Le => ord != Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Like => false,
    }
}

/// LIKE: `%` and `*` match any run of characters, `_` any one character,
/// case-sensitively. (Hive's own metastore reads the pattern as a Java
/// regular expression with `.*`; both spellings of "anything" are accepted.)
pub(super) fn like(value: &str, pattern: &str) -> bool {
    let pattern = pattern.replace(".*", "%");
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // Iterative wildcard match with backtracking to the last `%`.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == v[vi]) && p[pi] != '%' && p[pi] != '*' {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && (p[pi] == '%' || p[pi] == '*') {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && (p[pi] == '%' || p[pi] == '*') {
        pi += 1;
    }
    pi == p.len()
}
