//! Batch IDs: minted by the catalog from its own clock, fixed-width UTC
//! `YYYYMMDDhhmmss` + microseconds, so string order is mint order.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names::shown;
use crate::error::{Code, Error, Result};

const FORMAT: &str = "%Y%m%d%H%M%S%6f";
const WIDTH: usize = 20;

/// A batch ID such as `20161102234252123456`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema), schema(value_type = String, example = "20161102234252000000"))]
pub struct BatchId(String);

impl BatchId {
    /// Parses and validates a batch ID typed by a person or sent by a client.
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() == WIDTH && s.bytes().all(|b| b.is_ascii_digit()) && Self::time_of(s).is_some() {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(
                Code::InvalidBatchId,
                format!(
                    "invalid batch id {}: a batch id is 20 digits, YYYYMMDDhhmmss plus microseconds (e.g. 20161102234252000000); see `history` for a partition's batches",
                    shown(s)
                ),
            ))
        }
    }

    /// The ID for instant `t` (truncated to microseconds).
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(t.format(FORMAT).to_string())
    }

    /// Mints a new ID from `now` that is strictly greater than `after`: if the
    /// clock stepped back or two mints share a microsecond, it bumps by one
    /// microsecond past `after`.
    pub fn mint(now: DateTime<Utc>, after: Option<&BatchId>) -> Self {
        let candidate = Self::at(now);
        match after {
            Some(last) if *last >= candidate => Self::at(last.time() + Duration::microseconds(1)),
            _ => candidate,
        }
    }

    /// When this ID was minted (by the catalog clock).
    pub fn time(&self) -> DateTime<Utc> {
        Self::time_of(&self.0).unwrap_or_default()
    }

    fn time_of(s: &str) -> Option<DateTime<Utc>> {
        NaiveDateTime::parse_from_str(s, FORMAT)
            .ok()
            .map(|t| t.and_utc())
            .filter(|t| t.format(FORMAT).to_string() == s)
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BatchId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<BatchId> for String {
    fn from(b: BatchId) -> String {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_are_fixed_width_and_readable() {
        let t = Utc.with_ymd_and_hms(2016, 11, 2, 23, 42, 52).unwrap();
        let id = BatchId::at(t);
        assert_eq!(id.as_str(), "20161102234252000000");
        assert_eq!(BatchId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.time(), t);
    }

    #[test]
    fn minting_is_strictly_increasing_even_when_the_clock_steps_back() {
        let t = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let a = BatchId::mint(t, None);
        let b = BatchId::mint(t, Some(&a));
        assert!(b > a);
        let c = BatchId::mint(t - Duration::hours(1), Some(&b));
        assert!(c > b);
        assert_eq!(c.as_str(), "20200101000000000002");
        let d = BatchId::mint(t + Duration::seconds(1), Some(&c));
        assert_eq!(d.as_str(), "20200101000001000000");
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "2016",
            "2016110223425200000x",
            "20161302234252000000",
            "201611022342520000000",
            "../../etc/passwd",
        ] {
            assert_eq!(BatchId::parse(bad).unwrap_err().code(), "invalid_batch_id");
        }
    }
}
