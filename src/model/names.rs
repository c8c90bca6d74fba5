//! Names of namespaces, tables, partition keys and pins, validated once here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
            "invalid_name",
            format!(
                "invalid {what} name {}: use 1-63 characters, lowercase letters, digits and '_', starting with a letter (e.g. sold_items)",
                shown(name)
            ),
        ))
    }
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
                "invalid_name",
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
