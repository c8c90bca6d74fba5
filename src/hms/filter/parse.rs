//! The filter's lexer and recursive-descent parser.

use super::{Expr, Lit, Op};
use crate::error::{Code, Error, Result};

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
