//! Virtual table names of the read-only engine edges: `table@<pin>` reads
//! what a pin holds, `table@<ISO time>` the table as of a server time. They
//! are never listed; `@` cannot occur in a batchmeta name, so they cannot
//! collide with real tables.

use super::{PinName, TableName, Version, shown};
use crate::error::{Code, Error, Result};

/// A table name as an engine sends it: the table, and the version it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualTable {
    /// The real table.
    pub table: TableName,
    /// `Version::Current` for a plain name, `Version::Pin` or `Version::AsOf`
    /// for `table@pin` and `table@2016-11-02T23:42:52Z`.
    pub version: Version,
}

impl VirtualTable {
    /// Parses `table`, `table@pin` or `table@<time>`. A time is RFC 3339
    /// (`2016-11-02T23:42:52Z`, `...+01:00`), a UTC date-time without an
    /// offset (`2016-11-02T23:42:52`, `2016-11-02 23:42:52.5`) or a date
    /// (midnight UTC), as [`super::time::parse_instant`] reads it. Anything
    /// else after `@` must be a valid pin name.
    pub fn parse(name: &str) -> Result<Self> {
        let Some((table, suffix)) = name.split_once('@') else {
            return Ok(Self {
                table: TableName::new(name)?,
                version: Version::Current,
            });
        };
        let table = TableName::new(table)?;
        if let Some(at) = super::time::parse_instant(suffix) {
            return Ok(Self {
                table,
                version: Version::AsOf(at),
            });
        }
        let looks_like_time = suffix.starts_with(|c: char| c.is_ascii_digit());
        match PinName::new(suffix) {
            Ok(pin) if !looks_like_time => Ok(Self {
                table,
                version: Version::Pin(pin),
            }),
            _ => Err(Error::invalid(
                Code::InvalidVirtualTable,
                format!(
                    "cannot read {}: after @ write a pin name (e.g. {table}@weekly_report) or a UTC time (e.g. {table}@2016-11-02T23:42:52Z)",
                    shown(name)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn plain_pin_and_time_forms() {
        let v = VirtualTable::parse("sold_items").unwrap();
        assert_eq!(v.version, Version::Current);
        let v = VirtualTable::parse("sold_items@weekly_report").unwrap();
        assert_eq!(v.table.as_str(), "sold_items");
        assert_eq!(
            v.version,
            Version::Pin(PinName::new("weekly_report").unwrap())
        );
        let v = VirtualTable::parse("sold_items@2016-11-02T23:42:52Z").unwrap();
        let at = DateTime::parse_from_rfc3339("2016-11-02T23:42:52Z").unwrap();
        assert_eq!(v.version, Version::AsOf(at.with_timezone(&Utc)));
        let v = VirtualTable::parse("sold_items@2016-11-02T23:42:52.5").unwrap();
        assert!(matches!(v.version, Version::AsOf(_)));
        let v = VirtualTable::parse("sold_items@2016-11-02").unwrap();
        assert!(matches!(v.version, Version::AsOf(_)));
    }

    #[test]
    fn bad_forms_are_invalid_input() {
        for bad in [
            "sold_items@",
            "sold_items@2016-13-45",
            "sold_items@Weekly",
            "sold_items@a@b",
            "Sold@weekly",
            "@weekly",
        ] {
            let e = VirtualTable::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
