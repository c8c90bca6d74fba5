//! Names of namespaces, tables, partition keys and pins, validated once here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, Result};

/// Longest name, in characters (the `{0,62}` of `^[a-z][a-z0-9_]{0,62}$`).
const MAX_NAME: usize = 63;

/// Checks `^[a-z][a-z0-9_]{0,62}$`; `what` names the thing in the message.
pub(crate) fn check_identifier(what: &str, name: &str) -> Result<()> {
    if crate::faults::active("skip_name_validation") {
        return Ok(());
    }
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_lowercase() => chars
            .clone()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        _ => false,
    } && name.len() <= MAX_NAME;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            Code::InvalidName,
            format!(
                "invalid {what} name {}: use 1-63 characters, lowercase letters, digits and '_', starting with a letter (e.g. sold_items)",
                shown(name)
            ),
        ))
    }
}

/// `namespace_not_found` for `name`: the hint names the closest of
/// `existing` (a typo such as `slaes` for `sales`), else how to create it.
pub fn missing_namespace(name: &NamespaceName, existing: &[String]) -> Error {
    let hint = crate::model::Hint::CreateNamespace {
        namespace: name.to_string(),
        did_you_mean: closest(name.as_str(), existing).map(str::to_owned),
    };
    Error::not_found_hint(crate::error::Object::Namespace, name.to_string(), hint)
}

/// The candidate nearest to `name` by edit distance (a swap of two
/// neighbours counts once), if it is near enough to be a typo: at most 1
/// edit for names of up to 4 characters, 2 beyond.
pub fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = if name.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= limit && c.as_str() != name)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.as_str())
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// A name quoted for a message, cut short and with control characters escaped.
pub(crate) fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_debug).collect();
    if s.chars().count() > 80 {
        out.push_str("...");
    }
    format!("\"{out}\"")
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a name.
            pub fn new(name: impl Into<String>) -> Result<Self> {
                let name = name.into();
                check_identifier($what, &name)?;
                Ok(Self(name))
            }

            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }
    };
}

identifier!(
    /// A namespace (database) name, e.g. `sales`.
    NamespaceName,
    "namespace"
);
identifier!(
    /// A table name within a namespace, e.g. `sold_items`.
    TableName,
    "table"
);
identifier!(
    /// A partition key (column) name, e.g. `date`.
    KeyName,
    "partition key"
);
identifier!(
    /// A pin name: the consumer that depends on a batch, e.g. `weekly_report`.
    PinName,
    "pin"
);

/// A table's full name: `namespace.table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TableIdent {
    /// The namespace.
    pub namespace: NamespaceName,
    /// The table within it.
    pub name: TableName,
}

impl TableIdent {
    /// Validates both parts.
    pub fn new(namespace: &str, name: &str) -> Result<Self> {
        Ok(Self {
            namespace: NamespaceName::new(namespace)?,
            name: TableName::new(name)?,
        })
    }

    /// Parses `namespace.table`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.split_once('.') {
            Some((ns, t)) => Self::new(ns, t),
            None => Err(Error::invalid(
                Code::InvalidName,
                format!(
                    "invalid table {}: write it as namespace.table (e.g. sales.sold_items)",
                    shown(s)
                ),
            )),
        }
    }
}

impl fmt::Display for TableIdent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_pattern() {
        for ok in ["a", "sales", "sold_items", "t2", &"a".repeat(63)] {
            assert!(NamespaceName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "1a",
            "_a",
            "a-b",
            "a.b",
            "..",
            "a/b",
            "a\\b",
            "a\0",
            "a b",
            "é",
            &"a".repeat(64),
        ] {
            let e = TableName::new(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_name", "{bad}");
        }
    }

    #[test]
    fn table_ident_parses_and_displays() {
        let t = TableIdent::parse("sales.sold_items").unwrap();
        assert_eq!(t.to_string(), "sales.sold_items");
        assert!(TableIdent::parse("sales").is_err());
        assert!(TableIdent::parse("sales.sold.items").is_err());
    }

    #[test]
    fn shown_escapes_and_truncates() {
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert!(shown(&"x".repeat(10_000)).ends_with("...\""));
    }
}

#[cfg(test)]
mod typo_tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_not() {
        let names = vec!["sales".to_owned(), "marketing".to_owned()];
        assert_eq!(closest("slaes", &names), Some("sales"));
        assert_eq!(closest("sale", &names), Some("sales"));
        assert_eq!(closest("salesx", &names), Some("sales"));
        assert_eq!(closest("finance", &names), None);
        assert_eq!(closest("sales", &names), None);
        let e = missing_namespace(&NamespaceName::new("slaes").unwrap(), &names);
        assert_eq!(e.code(), "namespace_not_found");
        assert!(e.to_string().contains("did you mean `sales`"), "{e}");
        let e = missing_namespace(&NamespaceName::new("finance").unwrap(), &names);
        let cli = e.message_for(crate::model::Edge::Cli);
        assert!(cli.contains("meta ns create finance"), "{cli}");
        let py = e.message_for(crate::model::Edge::Python);
        assert!(py.contains("bm.create_namespace(\"finance\")"), "{py}");
    }
}
