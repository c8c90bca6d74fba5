//! The times and durations people type, parsed once for every edge (CLI,
//! HTTP, Python): durations such as `30s`, `10m`, `2h`, `3d`, `1w`; points in
//! time as an age (`2d` ago, or `30d` from now) or ISO 8601 in UTC
//! (`2016-10-31`, `2016-10-31T12:00:00Z`, `2016-10-31 12:00:00`).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::error::{Code, Error, Result};

/// A duration as people type it: `500ms`, `30s`, `10m`, `2h`, `3d`, `1w`; a
/// bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        Error::invalid(
            Code::InvalidDuration,
            format!(
                "invalid duration {s:?}; hint: write a number and a unit, e.g. 30s, 10m, 2h, 3d or 1w"
            ),
        )
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" | "sec" | "secs" => n,
        "m" | "min" | "mins" => n * 60,
        "h" | "hour" | "hours" => n * 3600,
        "d" | "day" | "days" => n * 86_400,
        "w" | "week" | "weeks" => n * 7 * 86_400,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

/// A point in time: an age before now (`2d`, `30m`), or ISO 8601 in UTC
/// (`2016-10-31`, `2016-10-31T12:00:00Z`, `2016-10-31 12:00:00`).
pub fn parse_past(s: &str) -> Result<DateTime<Utc>> {
    parse_time(s, -1)
}

/// A point in time: a duration from now (`30d`) or ISO 8601 in UTC.
pub fn parse_future(s: &str) -> Result<DateTime<Utc>> {
    parse_time(s, 1)
}

fn parse_time(s: &str, sign: i32) -> Result<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = parse_duration(t) {
        let d = chrono::Duration::from_std(d).map_err(|_| too_far(s))?;
        let now = Utc::now();
        let at = if sign < 0 {
            now.checked_sub_signed(d)
        } else {
            now.checked_add_signed(d)
        };
        return at.ok_or_else(|| too_far(s));
    }
    if let Some(at) = parse_instant(t) {
        return Ok(at);
    }
    Err(Error::invalid(
        Code::InvalidTime,
        format!(
            "invalid time {s:?}; hint: write an age such as 2d or 30m, or an ISO 8601 UTC time such as 2016-10-31T12:00:00Z"
        ),
    ))
}

/// An absolute time in UTC, as ISO 8601: RFC 3339 (`2016-10-31T12:00:00Z`,
/// `...+02:00`), a date-time without an offset (`2016-10-31T12:00:00`,
/// `2016-10-31 12:00:00.5`, `2016-10-31T12:00`) or a date (its midnight).
/// `T` and `Z` may be lowercase (Spark lowercases table names).
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim().to_uppercase();
    if let Ok(at) = DateTime::parse_from_rfc3339(&t) {
        return Some(at.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&t, f) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(&t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

/// An instant as RFC 3339 in UTC (`2016-10-31T12:00:00Z`, fractional
/// seconds when there are any), the form [`parse_instant`] reads back.
pub fn format_instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn too_far(s: &str) -> Error {
    Error::invalid(
        Code::InvalidTime,
        format!("time {s:?} is out of range; hint: use a smaller duration"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_and_times_parse() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3y").is_err());
        let t = parse_past("2016-10-31").unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2016, 10, 31, 0, 0, 0).unwrap());
        let t = parse_past("2016-10-31T12:00:00+02:00").unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2016, 10, 31, 10, 0, 0).unwrap());
        assert!(parse_past("2h").unwrap() < Utc::now());
        assert!(parse_future("2h").unwrap() > Utc::now());
        assert_eq!(parse_past("yesterday").unwrap_err().code(), "invalid_time");
        let t = Utc.with_ymd_and_hms(2016, 11, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_instant("2016-11-01t00:00:00z"), Some(t));
        assert_eq!(parse_instant("2016-11-01 00:00"), Some(t));
        assert_eq!(parse_instant("2d"), None);
    }
}
