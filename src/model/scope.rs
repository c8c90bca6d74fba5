//! The part of the catalog a listing covers, as edges name it: everything,
//! one namespace, or one table (`pins()`, `events(namespace, table)`,
//! `GET /v1/events?namespace=..&table=..`).

use super::{NamespaceName, TableIdent};
use crate::error::{Code, Error, Result};

/// Every table, one namespace's, or one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every table.
    #[default]
    All,
    /// The tables of one namespace.
    Namespace(NamespaceName),
    /// One table.
    Table(TableIdent),
}

impl Scope {
    /// A namespace and a table name, each optional; a table needs its
    /// namespace.
    pub fn parse(namespace: Option<&str>, table: Option<&str>) -> Result<Self> {
        match (namespace, table) {
            (None, None) => Ok(Scope::All),
            (Some(n), None) => Ok(Scope::Namespace(NamespaceName::new(n)?)),
            (Some(n), Some(t)) => Ok(Scope::Table(TableIdent::new(n, t)?)),
            (None, Some(_)) => Err(Error::invalid(
                Code::InvalidQuery,
                "a table filter needs a namespace filter: give the namespace and the table, only the namespace, or neither for everything",
            )),
        }
    }

    /// The namespace covered, if only one is.
    pub fn namespace(&self) -> Option<&NamespaceName> {
        match self {
            Scope::All => None,
            Scope::Namespace(n) => Some(n),
            Scope::Table(t) => Some(&t.namespace),
        }
    }

    /// The table covered, if only one is.
    pub fn table(&self) -> Option<&TableIdent> {
        match self {
            Scope::Table(t) => Some(t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_needs_its_namespace() {
        assert_eq!(Scope::parse(None, None).unwrap(), Scope::All);
        let t = Scope::parse(Some("sales"), Some("sold_items")).unwrap();
        assert_eq!(t.table().unwrap().to_string(), "sales.sold_items");
        assert_eq!(t.namespace().unwrap().as_str(), "sales");
        let n = Scope::parse(Some("sales"), None).unwrap();
        assert!(n.table().is_none());
        let err = Scope::parse(None, Some("sold_items")).unwrap_err();
        assert!(err.is(Code::InvalidQuery));
        assert!(Scope::parse(Some("Bad Name"), None).is_err());
    }
}
