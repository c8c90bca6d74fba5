//! Times for people: UTC with a relative age ("2016-11-02 23:42:52 UTC (3h ago)").
//! Parsing what people type lives in `batchmeta::model::time`, shared by every edge.

use chrono::{DateTime, Utc};

pub(crate) use batchmeta::model::time::{parse_duration, parse_future, parse_past};

/// `2016-11-02 23:42:52 UTC (3h ago)`.
pub(crate) fn show(t: DateTime<Utc>) -> String {
    show_at(t, Utc::now())
}

fn show_at(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ({})", t.format("%Y-%m-%d %H:%M:%S UTC"), age(t, now))
}

/// "3h ago", "in 2d", "just now".
fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    let span = short(secs.unsigned_abs());
    match secs {
        0 => "just now".to_owned(),
        s if s > 0 => format!("{span} ago"),
        _ => format!("in {span}"),
    }
}

/// Seconds as the largest whole unit: 45s, 12m, 5h, 3d.
fn short(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_show_utc_and_age() {
        let now = Utc.with_ymd_and_hms(2016, 11, 3, 2, 42, 52).unwrap();
        let t = Utc.with_ymd_and_hms(2016, 11, 2, 23, 42, 52).unwrap();
        assert_eq!(show_at(t, now), "2016-11-02 23:42:52 UTC (3h ago)");
        assert_eq!(age(now, now), "just now");
        assert_eq!(age(now + chrono::Duration::days(3), now), "in 3d");
        assert_eq!(age(now - chrono::Duration::seconds(59), now), "59s ago");
    }
}
