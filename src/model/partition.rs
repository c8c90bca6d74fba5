//! Partition keys, partition values and their Hive-style path form.
//!
//! A partition is named by one value per key of its table. Values are typed
//! (`string`, `int`, `date`), kept in a canonical text form, and become path
//! segments `key=value` with Hive's `%XX` escaping. Everything a user types is
//! validated here, once.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::escape::{
    escape, has_percent_escape, is_dot_like, is_invisible, is_slash_like, unescape,
};
use super::names::{KeyName, shown};
use crate::error::{Code, Error, Result};

/// Longest partition value, in bytes, before escaping.
pub const MAX_VALUE_BYTES: usize = 512;

/// The type of a partition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum KeyType {
    /// Any text (escaped in paths).
    String,
    /// A signed 64-bit integer.
    Int,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

impl KeyType {
    /// Parses `string`, `int` or `date`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "string" | "str" | "utf8" => Ok(KeyType::String),
            "int" | "int64" | "integer" | "bigint" => Ok(KeyType::Int),
            "date" => Ok(KeyType::Date),
            other => Err(Error::invalid(
                Code::InvalidPartitionKey,
                format!(
                    "unknown partition key type {}: use string, int or date",
                    shown(other)
                ),
            )),
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::Int => "int",
            KeyType::Date => "date",
        }
    }

    /// Validates `raw` for this type and returns its canonical text.
    fn canonical(self, key: &KeyName, raw: &str) -> Result<String> {
        let bad = |why: &str| {
            Error::invalid(
                Code::InvalidPartition,
                format!(
                    "invalid value {} for partition key {key}: {why}",
                    shown(raw)
                ),
            )
        };
        match self {
            KeyType::String => {
                if raw.is_empty() {
                    return Err(bad("values must not be empty"));
                }
                if raw.len() > MAX_VALUE_BYTES {
                    return Err(bad(&format!("values are at most {MAX_VALUE_BYTES} bytes")));
                }
                if raw.chars().any(char::is_control) {
                    return Err(bad("control characters are not allowed"));
                }
                if raw.chars().all(is_dot_like) || raw.contains('/') || raw.contains('\\') {
                    return Err(bad("'/', '\\', '.' and '..' cannot name a partition"));
                }
                if raw.chars().any(is_slash_like) {
                    return Err(bad(
                        "characters that look like '/' or '\\' (e.g. U+2215, U+FF0F) are not allowed",
                    ));
                }
                if raw.chars().any(is_invisible) {
                    return Err(bad(
                        "invisible characters (zero-width, bidirectional controls, byte-order marks) are not allowed",
                    ));
                }
                if has_percent_escape(raw) {
                    return Err(bad(
                        "the value still holds a '%XX' escape after decoding (double encoding?): give the value itself, escaped once",
                    ));
                }
                if raw.trim() != raw {
                    return Err(bad("leading or trailing spaces are not allowed"));
                }
                Ok(raw.to_owned())
            }
            KeyType::Int => raw
                .parse::<i64>()
                .map(|v| v.to_string())
                .map_err(|_| bad("expected an integer such as 42")),
            KeyType::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .filter(|d| d.format("%Y-%m-%d").to_string() == raw)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or_else(|| bad("expected a date such as 2016-10-31")),
        }
    }

    /// An encoding of a canonical value whose byte order is the value order.
    fn sortable(self, canonical: &str) -> String {
        match self {
            KeyType::Int => {
                let v: i64 = canonical.parse().unwrap_or_default();
                // Flip the sign bit so negative numbers sort first.
                format!("{:016x}", (v as u64) ^ (1 << 63))
            }
            KeyType::String | KeyType::Date => canonical.to_owned(),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One partition key of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PartitionKey {
    /// Column name.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "date"))]
    pub name: KeyName,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: KeyType,
}

impl PartitionKey {
    /// Validates the name.
    pub fn new(name: &str, kind: KeyType) -> Result<Self> {
        Ok(Self {
            name: KeyName::new(name)?,
            kind,
        })
    }

    /// Parses `name:type` (type defaults to string).
    pub fn parse(s: &str) -> Result<Self> {
        match s.split_once(':') {
            Some((n, t)) => Self::new(n, KeyType::parse(t)?),
            None => Self::new(s, KeyType::String),
        }
    }
}

/// How a caller names a partition, before it is checked against a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PartitionSpec {
    /// `key=value` pairs (any order, every key once).
    Named(Vec<(String, String)>),
    /// One value per key, in key order.
    Positional(Vec<String>),
}

impl PartitionSpec {
    /// Parses `date=2016-10-31/region=us`, or a bare value for one-key tables.
    /// Values may carry Hive `%XX` escapes. An empty string names the single
    /// partition of an unpartitioned table.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Ok(PartitionSpec::Positional(Vec::new()));
        }
        if !s.contains('=') {
            return Ok(PartitionSpec::Positional(vec![unescape(s)?]));
        }
        let mut pairs = Vec::new();
        for part in s.split('/') {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                Error::invalid(
                    Code::InvalidPartition,
                    format!(
                        "invalid partition {}: write key=value pairs joined by '/' (e.g. date=2016-10-31/region=us)",
                        shown(s)
                    ),
                )
            })?;
            pairs.push((k.to_owned(), unescape(v)?));
        }
        Ok(PartitionSpec::Named(pairs))
    }

    /// A single positional value.
    pub fn value(v: impl Into<String>) -> Self {
        PartitionSpec::Positional(vec![v.into()])
    }
}

impl From<&str> for PartitionSpec {
    fn from(v: &str) -> Self {
        PartitionSpec::value(v)
    }
}

/// The validated values of one partition, in key order, in canonical form.
/// Serialized as its Hive path, `date=2016-10-31/region=us`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema), schema(value_type = String, example = "date=2016-10-31"))]
pub struct PartitionValues(Vec<(String, String)>);

impl From<PartitionValues> for String {
    fn from(v: PartitionValues) -> String {
        v.path()
    }
}

impl TryFrom<String> for PartitionValues {
    type Error = Error;
    /// Parses a path this type serialized. Values were validated when the
    /// path was made; only the escaping is checked here.
    fn try_from(s: String) -> Result<Self> {
        match PartitionSpec::parse(&s)? {
            PartitionSpec::Named(pairs) => Ok(Self(pairs)),
            PartitionSpec::Positional(v) if v.is_empty() => Ok(Self(Vec::new())),
            PartitionSpec::Positional(_) => Err(Error::invalid(
                Code::InvalidPartition,
                format!("invalid partition {}: expected key=value pairs", shown(&s)),
            )),
        }
    }
}

impl PartitionValues {
    /// Checks `spec` against `keys`: every key once, each value valid for its type.
    pub fn resolve(keys: &[PartitionKey], spec: &PartitionSpec) -> Result<Self> {
        let expected = || {
            if keys.is_empty() {
                "this table is not partitioned: give no partition".to_owned()
            } else {
                let names: Vec<_> = keys
                    .iter()
                    .map(|k| format!("{}=<{}>", k.name, k.kind))
                    .collect();
                format!("expected {}", names.join("/"))
            }
        };
        let raw: Vec<&str> = match spec {
            PartitionSpec::Positional(vals) => {
                if vals.len() != keys.len() {
                    return Err(Error::invalid(
                        Code::InvalidPartition,
                        format!(
                            "wrong number of partition values: got {}, {}",
                            vals.len(),
                            expected()
                        ),
                    ));
                }
                vals.iter().map(String::as_str).collect()
            }
            PartitionSpec::Named(pairs) => {
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    let mut found = pairs.iter().filter(|(n, _)| n == k.name.as_str());
                    match (found.next(), found.next()) {
                        (Some((_, v)), None) => out.push(v.as_str()),
                        (None, _) => {
                            return Err(Error::invalid(
                                Code::InvalidPartition,
                                format!("partition key {} is missing: {}", k.name, expected()),
                            ));
                        }
                        (Some(_), Some(_)) => {
                            return Err(Error::invalid(
                                Code::InvalidPartition,
                                format!("partition key {} is given twice", k.name),
                            ));
                        }
                    }
                }
                if let Some((n, _)) = pairs
                    .iter()
                    .find(|(n, _)| !keys.iter().any(|k| k.name.as_str() == n))
                {
                    return Err(Error::invalid(
                        Code::InvalidPartition,
                        format!("unknown partition key {}: {}", shown(n), expected()),
                    ));
                }
                out
            }
        };
        let values = keys
            .iter()
            .zip(raw)
            .map(|(k, v)| Ok((k.name.to_string(), k.kind.canonical(&k.name, v)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self(values))
    }

    /// Values restored from the catalog (already validated when stored).
    pub(crate) fn from_stored(keys: &[PartitionKey], path: &str) -> Result<Self> {
        let spec = PartitionSpec::parse(path)?;
        Self::resolve(keys, &spec)
    }

    /// `(key, value)` pairs in key order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(_, v)| v.as_str())
    }

    /// The escaped Hive path, `date=2016-10-31/region=us` (empty when unpartitioned).
    pub fn path(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={}", escape(v)))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A key whose byte order is the typed order of the values (used for
    /// listing and range filters).
    pub(crate) fn sort_key(&self, keys: &[PartitionKey]) -> String {
        keys.iter()
            .zip(&self.0)
            .map(|(k, (_, v))| k.kind.sortable(v))
            .collect::<Vec<_>>()
            .join("\u{1}")
    }
}

impl fmt::Display for PartitionValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(unpartitioned)")
        } else {
            f.write_str(&self.path())
        }
    }
}

/// A sortable bound for the first key, for partition range queries.
pub(crate) fn range_bound(keys: &[PartitionKey], raw: &str) -> Result<String> {
    let key = keys.first().ok_or_else(|| {
        Error::invalid(
            Code::InvalidPartition,
            "this table is not partitioned: a range filter needs a partition key",
        )
    })?;
    Ok(key.kind.sortable(&key.kind.canonical(&key.name, raw)?))
}

/// The sort-key prefix for a partition prefix: `date=2016-10` or
/// `date=2016-10-31/region=u`, or a bare value prefix of the first key.
pub(crate) fn prefix_bound(keys: &[PartitionKey], prefix: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::invalid(
            Code::InvalidPartition,
            format!("invalid partition prefix {prefix:?}: {why}"),
        )
    };
    if keys.is_empty() {
        return Err(bad("the table is not partitioned"));
    }
    let pairs: Vec<(String, String)> = match PartitionSpec::parse(prefix)? {
        PartitionSpec::Positional(v) => vec![(
            keys[0].name.to_string(),
            v.into_iter().next().unwrap_or_default(),
        )],
        PartitionSpec::Named(pairs) => pairs,
    };
    if pairs.len() > keys.len() {
        return Err(bad("more keys than the table has"));
    }
    let (whole, last) = pairs.split_at(pairs.len() - 1);
    for (k, (name, _)) in keys.iter().zip(&pairs) {
        if k.name.as_str() != name {
            return Err(bad(&format!(
                "keys must come in table order; expected {}",
                k.name
            )));
        }
    }
    let mut out = String::new();
    if !whole.is_empty() {
        let lead = &keys[..whole.len()];
        let v = PartitionValues::resolve(lead, &PartitionSpec::Named(whole.to_vec()))?;
        out = v.sort_key(lead);
        out.push('\u{1}');
    }
    let (name, value) = &last[0];
    let key = &keys[whole.len()];
    if value.chars().any(char::is_control) {
        return Err(bad("control characters are not allowed"));
    }
    match key.kind {
        KeyType::Int => {
            // Integers have no meaningful text prefix: the value must be whole.
            let one = PartitionValues::resolve(
                std::slice::from_ref(key),
                &PartitionSpec::Named(vec![(name.clone(), value.clone())]),
            )?;
            out.push_str(&one.sort_key(std::slice::from_ref(key)));
        }
        _ => out.push_str(value),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<PartitionKey> {
        vec![
            PartitionKey::new("date", KeyType::Date).unwrap(),
            PartitionKey::new("region", KeyType::String).unwrap(),
        ]
    }

    #[test]
    fn escaping_round_trips_and_hides_separators() {
        for v in ["us", "a/b", "50%", "x=y", "a:b?c#d", "ü ñ", "[^]{}'\"*\\"] {
            let e = escape(v);
            assert!(!e.contains('/') && !e.contains('='), "{e}");
            assert_eq!(unescape(&e).unwrap(), v);
        }
        assert_eq!(escape("a/b"), "a%2Fb");
        assert!(unescape("%zz").is_err());
    }

    #[test]
    fn specs_resolve_against_keys() {
        let k = keys();
        let named = PartitionSpec::parse("region=us/date=2016-10-31").unwrap();
        let v = PartitionValues::resolve(&k, &named).unwrap();
        assert_eq!(v.path(), "date=2016-10-31/region=us");
        let pos = PartitionSpec::Positional(vec!["2016-10-31".into(), "us".into()]);
        assert_eq!(PartitionValues::resolve(&k, &pos).unwrap(), v);
        assert_eq!(
            PartitionValues::from_stored(&k, &v.path()).unwrap(),
            v,
            "stored paths parse back"
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        let k = keys();
        for s in [
            "date=2016-10-31",
            "date=2016-13-01/region=us",
            "date=2016-10-31/region=",
            "date=2016-10-31/region=..",
            "date=2016-10-31/region=us/x=1",
            "date=2016-10-31/date=2016-10-30",
            "2016-10-31",
            "date=20161031/region=us",
            "date=2016-10-31/region=a%0Ab",
            "date=2016-10-31/region=a%2Fb",
            "date=2016-10-31/region=%2E%2E",
        ] {
            let spec = PartitionSpec::parse(s).unwrap();
            let e = PartitionValues::resolve(&k, &spec).unwrap_err();
            assert_eq!(e.code(), "invalid_partition", "{s}: {e}");
        }
        let ints = vec![PartitionKey::new("n", KeyType::Int).unwrap()];
        assert!(PartitionValues::resolve(&ints, &"x".into()).is_err());
        assert_eq!(
            PartitionValues::resolve(&ints, &"007".into())
                .unwrap()
                .path(),
            "n=7"
        );
    }

    #[test]
    fn sort_keys_order_ints_numerically() {
        let ints = vec![PartitionKey::new("n", KeyType::Int).unwrap()];
        let sk = |v: &str| {
            PartitionValues::resolve(&ints, &v.into())
                .unwrap()
                .sort_key(&ints)
        };
        assert!(sk("-5") < sk("0"));
        assert!(sk("9") < sk("10"));
        assert!(sk("10") < sk(&i64::MAX.to_string()));
    }

    #[test]
    fn unpartitioned_tables_have_one_empty_partition() {
        let v = PartitionValues::resolve(&[], &PartitionSpec::parse("").unwrap()).unwrap();
        assert_eq!(v.path(), "");
        assert_eq!(v.to_string(), "(unpartitioned)");
        assert!(PartitionValues::resolve(&[], &"x".into()).is_err());
    }
}
