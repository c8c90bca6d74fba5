//! What a read or a publish names, as people and requests write it, parsed
//! once for every edge (HTTP, CLI, remote client, Python): the version to
//! read (`batch_id`, `as_of`, `pin`) and the batch a publish expects
//! (`expected_batch`, `--expect`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BatchId, PinName, time};
use crate::error::{Code, Error, Result};

/// What a publish expects a partition's current batch to be (compare-and-swap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// The partition has never been published.
    Empty,
    /// The partition's current batch is this one.
    Batch(BatchId),
}

impl Expect {
    /// How a request names [`Expect::Empty`].
    pub const NONE: &'static str = "none";

    /// An `expected_batch` (HTTP, Python) or `--expect` (CLI) value: `none`
    /// for a partition never published, else a batch ID. `empty` means
    /// `none` too: `meta put --expect` has always taken it, and every edge
    /// now reads the same words.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            Self::NONE | "empty" => Ok(Expect::Empty),
            b => Ok(Expect::Batch(BatchId::parse(b)?)),
        }
    }

    /// [`Expect::parse`] of an optional value.
    pub fn parse_opt(s: Option<&str>) -> Result<Option<Self>> {
        s.map(Self::parse).transpose()
    }

    /// The value [`Expect::parse`] reads back.
    pub fn as_param(&self) -> String {
        match self {
            Expect::Empty => Self::NONE.to_owned(),
            Expect::Batch(b) => b.to_string(),
        }
    }
}

/// Which version of a partition to read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Version {
    /// The current batch.
    #[default]
    Current,
    /// A specific committed batch.
    Batch(BatchId),
    /// The batch that was current at this server time.
    AsOf(DateTime<Utc>),
    /// What a named pin holds.
    Pin(PinName),
}

impl Version {
    /// The version at most one of a batch ID, a time (`as_of`, read as
    /// [`time::parse_past`] reads it: `2d` or ISO 8601) and a pin name
    /// names; none of them is the current version. Two or more are refused
    /// before any is parsed.
    pub fn parse(batch_id: Option<&str>, as_of: Option<&str>, pin: Option<&str>) -> Result<Self> {
        Self::pick(batch_id, as_of, pin, time::parse_past)
    }

    /// [`Version::parse`] with the time read by `at` (an edge whose callers
    /// pass times as their own values, such as Python's `datetime`).
    pub fn pick<T, E: From<Error>>(
        batch_id: Option<&str>,
        as_of: Option<T>,
        pin: Option<&str>,
        at: impl FnOnce(T) -> std::result::Result<DateTime<Utc>, E>,
    ) -> std::result::Result<Self, E> {
        match (batch_id, as_of, pin) {
            (None, None, None) => Ok(Version::Current),
            (Some(b), None, None) => Ok(Version::Batch(BatchId::parse(b)?)),
            (None, Some(t), None) => Ok(Version::AsOf(at(t)?)),
            (None, None, Some(p)) => Ok(Version::Pin(PinName::new(p)?)),
            _ => Err(Error::invalid(
                Code::InvalidVersion,
                "give at most one of batch_id, as_of and pin",
            )
            .into()),
        }
    }

    /// The `batch_id`, `as_of` and `pin` of a request naming this version
    /// (each `None` for the current version); [`Version::parse`] reads them back.
    pub fn params(&self) -> (Option<String>, Option<String>, Option<String>) {
        match self {
            Version::Current => (None, None, None),
            Version::Batch(b) => (Some(b.to_string()), None, None),
            Version::AsOf(t) => (None, Some(time::format_instant(t)), None),
            Version::Pin(p) => (None, None, Some(p.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_reads_none_empty_and_batch_ids() {
        assert_eq!(Expect::parse("none").unwrap(), Expect::Empty);
        assert_eq!(Expect::parse("empty").unwrap(), Expect::Empty);
        let id = "20161102234252000000";
        assert_eq!(Expect::parse(id).unwrap().as_param(), id);
        assert_eq!(Expect::Empty.as_param(), "none");
        assert_eq!(
            Expect::parse("None").unwrap_err().code(),
            "invalid_batch_id"
        );
        assert_eq!(Expect::parse_opt(None).unwrap(), None);
    }

    #[test]
    fn versions_name_at_most_one_thing() {
        assert_eq!(Version::parse(None, None, None).unwrap(), Version::Current);
        let v = Version::parse(None, Some("2016-10-31"), None).unwrap();
        assert_eq!(
            Version::parse(None, v.params().1.as_deref(), None).unwrap(),
            v
        );
        let err = Version::parse(Some("x"), Some("y"), None).unwrap_err();
        assert_eq!(err.code(), "invalid_version");
        assert_eq!(
            Version::parse(Some("x"), None, None).unwrap_err().code(),
            "invalid_batch_id"
        );
        let pin = Version::parse(None, None, Some("weekly")).unwrap();
        assert_eq!(pin.params().2.as_deref(), Some("weekly"));
    }
}
