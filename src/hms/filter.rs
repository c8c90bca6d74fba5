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

use std::cmp::Ordering;

use crate::error::{Code, Error, Result};
use crate::model::{KeyType, PartitionKey, PartitionSpec, PartitionValues};

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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Comma,
    Op(Op),
}

fn bad(filter: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(
        Code::InvalidFilter,
        format!("invalid partition filter {filter:?}: {why}"),
    )
}

fn lex(s: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            '<' => match chars.get(i + 1) {
                Some('=') => {
                    out.push(Tok::Op(Op::Le));
                    i += 2;
                }
                Some('>') => {
                    out.push(Tok::Op(Op::Ne));
                    i += 2;
                }
                _ => {
                    out.push(Tok::Op(Op::Lt));
                    i += 1;
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push(Tok::Op(Op::Ge));
                    i += 2;
                } else {
                    out.push(Tok::Op(Op::Gt));
                    i += 1;
                }
            }
            '\'' | '"' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad(s, "unterminated string")),
                        Some('\\') => {
                            let next = chars
                                .get(i + 1)
                                .ok_or_else(|| bad(s, "unterminated string"))?;
                            v.push(*next);
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<i64>()
                    .map_err(|_| bad(s, format!("integer {text} out of range")))?;
                out.push(Tok::Int(n));
            }
            c if c.is_alphanumeric() || c == '_' || c == '`' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '.' || *d == '`')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().filter(|c| **c != '`').collect();
                if word.eq_ignore_ascii_case("like") {
                    out.push(Tok::Op(Op::Like));
                } else {
                    out.push(Tok::Ident(word));
                }
            }
            other => return Err(bad(s, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<()> {
        if self.keyword(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected {kw}")))
        }
    }

    fn err(&self, why: &str) -> Error {
        match self.peek() {
            Some(t) => bad(self.src, format!("{why} at {t:?}")),
            None => bad(self.src, format!("{why} at the end")),
        }
    }

    fn or(&mut self) -> Result<Expr> {
        let mut e = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut e = self.primary()?;
        while self.keyword("and") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.primary()?));
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.err("brackets nested too deep"));
        }
        let e = self.primary_inner();
        self.depth -= 1;
        e
    }

    fn primary_inner(&mut self) -> Result<Expr> {
        // `(key) IN (...)`: a bracketed lone identifier followed by IN.
        if let (Some(Tok::LParen), Some(Tok::Ident(k)), Some(Tok::RParen)) = (
            self.toks.get(self.pos),
            self.toks.get(self.pos + 1),
            self.toks.get(self.pos + 2),
        ) {
            let after = self.toks.get(self.pos + 3);
            let is_in = matches!(after, Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("in") || w.eq_ignore_ascii_case("not"));
            if is_in {
                let key = k.clone();
                self.pos += 3;
                return self.after_key(key);
            }
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                self.pos -= 1;
                return Err(self.err("expected )"));
            }
            return Ok(e);
        }
        match self.peek().cloned() {
            Some(Tok::Ident(k)) if !is_keyword(&k) => {
                self.pos += 1;
                self.after_key(k)
            }
            Some(Tok::Str(_) | Tok::Int(_)) => {
                // `value op key`: flip the operator.
                let value = self.literal()?;
                let op = match self.next() {
                    Some(Tok::Op(op)) if op != Op::Like => op,
                    _ => {
                        self.pos -= 1;
                        return Err(self.err("expected a comparison operator"));
                    }
                };
                let key = match self.next() {
                    Some(Tok::Ident(k)) if !is_keyword(&k) => k,
                    _ => {
                        self.pos -= 1;
                        return Err(self.err("expected a partition key"));
                    }
                };
                let op = match op {
                    Op::Lt => Op::Gt,
                    Op::Gt => Op::Lt,
                    Op::Le => Op::Ge,
                    Op::Ge => Op::Le,
                    o => o,
                };
                Ok(Expr::Cmp { key, op, value })
            }
            _ => Err(self.err("expected a partition key")),
        }
    }

    fn after_key(&mut self, key: String) -> Result<Expr> {
        let negated = if self.keyword("not") {
            self.pos += 1;
            true
        } else {
            false
        };
        if self.keyword("in") {
            self.pos += 1;
            if self.next() != Some(Tok::LParen) {
                self.pos -= 1;
                return Err(self.err("expected ( after IN"));
            }
            let mut values = vec![self.literal()?];
            loop {
                match self.next() {
                    Some(Tok::Comma) => values.push(self.literal()?),
                    Some(Tok::RParen) => break,
                    _ => {
                        self.pos -= 1;
                        return Err(self.err("expected , or )"));
                    }
                }
            }
            return Ok(Expr::In {
                key,
                values,
                negated,
            });
        }
        if self.keyword("between") {
            self.pos += 1;
            let lo = self.literal()?;
            self.expect_keyword("and")?;
            let hi = self.literal()?;
            return Ok(Expr::Between {
                key,
                lo,
                hi,
                negated,
            });
        }
        if negated {
            return Err(self.err("expected IN or BETWEEN after NOT"));
        }
        match self.next() {
            Some(Tok::Op(op)) => {
                let value = self.literal()?;
                Ok(Expr::Cmp { key, op, value })
            }
            _ => {
                self.pos -= 1;
                Err(self.err("expected a comparison operator"))
            }
        }
    }

    fn literal(&mut self) -> Result<Lit> {
        // `date '2016-10-31'` is a string.
        if self.keyword("date") && matches!(self.toks.get(self.pos + 1), Some(Tok::Str(_))) {
            self.pos += 1;
        }
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Int(i)) => Ok(Lit::Int(i)),
            _ => {
                self.pos -= 1;
                Err(self.err("expected a string or an integer"))
            }
        }
    }
}

fn is_keyword(w: &str) -> bool {
    ["and", "or", "not", "in", "between"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

/// Parses a filter; an empty filter is `None` (every partition).
pub(crate) fn parse(filter: &str) -> Result<Option<Expr>> {
    let toks = lex(filter)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        src: filter,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.err("unexpected input"));
    }
    Ok(Some(e))
}

/// An inclusive range of the first key's values; `None` = unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

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
fn like(value: &str, pattern: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<PartitionKey> {
        vec![
            PartitionKey::new("date", KeyType::Date).unwrap(),
            PartitionKey::new("region", KeyType::String).unwrap(),
            PartitionKey::new("n", KeyType::Int).unwrap(),
        ]
    }

    fn part(date: &str, region: &str, n: i64) -> PartitionValues {
        PartitionValues::resolve(
            &keys(),
            &PartitionSpec::Positional(vec![date.into(), region.into(), n.to_string()]),
        )
        .unwrap()
    }

    fn m(filter: &str, p: &PartitionValues) -> bool {
        let e = parse(filter).unwrap().unwrap();
        e.check_keys(&keys()).unwrap();
        e.matches(&keys(), p)
    }

    #[test]
    fn what_spark_sends_parses_and_matches() {
        let p = part("2016-10-31", "us", 5);
        assert!(m(r#"date = "2016-10-31""#, &p));
        assert!(!m(r#"date = "2016-11-01""#, &p));
        assert!(m(r#"(date) in ("2016-10-30", "2016-10-31")"#, &p));
        assert!(!m(r#"(date) in ("2016-10-30")"#, &p));
        assert!(m(r#"date >= "2016-10-31""#, &p));
        assert!(!m(r#"date > "2016-10-31""#, &p));
        assert!(m(r#"(date >= "2016-10-01" and date <= "2016-10-31")"#, &p));
    }

    #[test]
    fn every_operator() {
        let p = part("2016-10-31", "us", 5);
        for (f, want) in [
            ("n = 5", true),
            ("n != 5", false),
            ("n <> 4", true),
            ("n < 10", true),
            ("n < 5", false),
            ("n > 4", true),
            ("n <= 5", true),
            ("n >= 6", false),
            // Integers compare as numbers, not text ("10" < "5" as text).
            ("n < 10", true),
            ("n = '5'", true),
            ("region like 'u%'", true),
            ("region LIKE 'u_'", true),
            ("region like 'x%'", false),
            ("region like 'u.*'", true),
            ("region in ('eu', 'us')", true),
            ("region not in ('eu', 'us')", false),
            ("n between 1 and 5", true),
            ("n not between 1 and 5", false),
            ("5 = n", true),
            ("10 > n", true),
            ("date = date '2016-10-31'", true),
            ("date = '2016-1-5'", false),
            ("region = 'us' AND n = 5", true),
            ("region = 'eu' or n = 5", true),
            ("region = 'eu' or (n = 4 or date = '2016-10-31')", true),
            ("(region = 'eu' or n = 4) and date = '2016-10-31'", false),
            ("REGION = 'us'", true),
        ] {
            assert_eq!(m(f, &p), want, "{f}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let p = part("2016-10-31", "us", 5);
        // (false and false) or true
        assert!(m("region = 'eu' and n = 4 or n = 5", &p));
        // false and (false or true) would be false
        assert!(!m("region = 'eu' and (n = 4 or n = 5)", &p));
    }

    #[test]
    fn bad_filters_are_invalid_input() {
        for f in [
            "date =",
            "date = 'x",
            "= 'x'",
            "date 'x'",
            "(date = 'x'",
            "date = 'x')",
            "date in 'x'",
            "date in ('x',)",
            "date not = 'x'",
            "date = 99999999999999999999",
            "date = 'x' and",
            "date ~ 'x'",
        ] {
            let e = parse(f).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{f}");
        }
        let deep = format!("{}date = 'x'{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep).is_err());
        let e = parse("color = 'red'").unwrap().unwrap();
        assert!(
            e.check_keys(&keys())
                .unwrap_err()
                .to_string()
                .contains("not a partition key")
        );
        assert_eq!(parse("  ").unwrap(), None);
    }

    #[test]
    fn pushdown_covers_equality_in_and_ranges_on_the_first_key() {
        let k = keys();
        let r = |f: &str| parse(f).unwrap().unwrap().first_key_ranges(&k);
        let exact = |v: &str| KeyRange {
            from: Some(v.into()),
            to: Some(v.into()),
        };
        assert_eq!(r("date = '2016-10-31'"), Some(vec![exact("2016-10-31")]));
        assert_eq!(
            r("(date) in ('2016-10-31', '2016-10-30', '2016-10-31')"),
            Some(vec![exact("2016-10-30"), exact("2016-10-31")])
        );
        assert_eq!(
            r("date >= '2016-10-01' and region = 'us' and date < '2016-11-01'"),
            Some(vec![KeyRange {
                from: Some("2016-10-01".into()),
                to: Some("2016-11-01".into())
            }])
        );
        assert_eq!(
            r("date between '2016-10-01' and '2016-10-31'"),
            Some(vec![KeyRange {
                from: Some("2016-10-01".into()),
                to: Some("2016-10-31".into())
            }])
        );
        // Not on the first key, under an OR, or not a date: every partition.
        assert_eq!(r("region = 'us'"), None);
        assert_eq!(r("date = '2016-10-31' or region = 'us'"), None);
        assert_eq!(r("date = 'soon'"), None);
        assert_eq!(r("date != '2016-10-31'"), None);
    }

    #[test]
    fn integer_ranges_keep_the_tightest_bound_numerically() {
        let k = vec![PartitionKey::new("n", KeyType::Int).unwrap()];
        let got = parse("n >= 9 and n >= 10 and n <= 100 and n < 20")
            .unwrap()
            .unwrap()
            .first_key_ranges(&k);
        assert_eq!(
            got,
            Some(vec![KeyRange {
                from: Some("10".into()),
                to: Some("20".into())
            }])
        );
    }

    #[test]
    fn like_wildcards() {
        assert!(like("abc", "a%"));
        assert!(like("abc", "%c"));
        assert!(like("abc", "a_c"));
        assert!(like("abc", "*b*"));
        assert!(like("abc", "%"));
        assert!(!like("abc", "a_"));
        assert!(!like("abc", "b%"));
        assert!(like("", "%"));
    }
}
