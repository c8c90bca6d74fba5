use super::eval::like;
use super::*;
use crate::model::{KeyType, PartitionKey, PartitionSpec, PartitionValues};

fn keys() -> Vec<PartitionKey> {
    vec![
        PartitionKey::new("date", KeyType::Date).unwrap(),
        PartitionKey::new("region", KeyType::String).unwrap(),
        PartitionKey::new("n", KeyType::Int).unwrap(),
    ]
}

fn part(date: &str, region: &str, n: i64) -> PartitionValues {
    PartitionValues::resolve(
        &keys(),
        &PartitionSpec::Positional(vec![date.into(), region.into(), n.to_string()]),
    )
    .unwrap()
}

fn m(filter: &str, p: &PartitionValues) -> bool {
    let e = parse(filter).unwrap().unwrap();
    e.check_keys(&keys()).unwrap();
    e.matches(&keys(), p)
}

#[test]
fn what_spark_sends_parses_and_matches() {
    let p = part("2016-10-31", "us", 5);
    assert!(m(r#"date = "2016-10-31""#, &p));
    assert!(!m(r#"date = "2016-11-01""#, &p));
    assert!(m(r#"(date) in ("2016-10-30", "2016-10-31")"#, &p));
    assert!(!m(r#"(date) in ("2016-10-30")"#, &p));
    assert!(m(r#"date >= "2016-10-31""#, &p));
    assert!(!m(r#"date > "2016-10-31""#, &p));
    assert!(m(r#"(date >= "2016-10-01" and date <= "2016-10-31")"#, &p));
}

#[test]
fn every_operator() {
    let p = part("2016-10-31", "us", 5);
    for (f, want) in [
        ("n = 5", true),
        ("n != 5", false),
        ("n <> 4", true),
        ("n < 10", true),
        ("n < 5", false),
        ("n > 4", true),
        ("n <= 5", true),
        ("n >= 6", false),
        // Integers compare as numbers, not text ("10" < "5" as text).
        ("n < 10", true),
        ("n = '5'", true),
        ("region like 'u%'", true),
        ("region LIKE 'u_'", true),
        ("region like 'x%'", false),
        ("region like 'u.*'", true),
        ("region in ('eu', 'us')", true),
        ("region not in ('eu', 'us')", false),
        ("n between 1 and 5", true),
        ("n not between 1 and 5", false),
        ("5 = n", true),
        ("10 > n", true),
        ("date = date '2016-10-31'", true),
        ("date = '2016-1-5'", false),
        ("region = 'us' AND n = 5", true),
        ("region = 'eu' or n = 5", true),
        ("region = 'eu' or (n = 4 or date = '2016-10-31')", true),
        ("(region = 'eu' or n = 4) and date = '2016-10-31'", false),
        ("REGION = 'us'", true),
    ] {
        assert_eq!(m(f, &p), want, "{f}");
    }
}

#[test]
fn and_binds_tighter_than_or() {
    let p = part("2016-10-31", "us", 5);
    // (false and false) or true
    assert!(m("region = 'eu' and n = 4 or n = 5", &p));
    // false and (false or true) would be false
    assert!(!m("region = 'eu' and (n = 4 or n = 5)", &p));
}

#[test]
fn bad_filters_are_invalid_input() {
    for f in [
        "date =",
        "date = 'x",
        "= 'x'",
        "date 'x'",
        "(date = 'x'",
        "date = 'x')",
        "date in 'x'",
        "date in ('x',)",
        "date not = 'x'",
        "date = 99999999999999999999",
        "date = 'x' and",
        "date ~ 'x'",
    ] {
        let e = parse(f).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{f}");
    }
    let deep = format!("{}date = 'x'{}", "(".repeat(200), ")".repeat(200));
    assert!(parse(&deep).is_err());
    let e = parse("color = 'red'").unwrap().unwrap();
    assert!(
        e.check_keys(&keys())
            .unwrap_err()
            .to_string()
            .contains("not a partition key")
    );
    assert_eq!(parse("  ").unwrap(), None);
}

#[test]
fn pushdown_covers_equality_in_and_ranges_on_the_first_key() {
    let k = keys();
    let r = |f: &str| parse(f).unwrap().unwrap().first_key_ranges(&k);
    let exact = |v: &str| KeyRange {
        from: Some(v.into()),
        to: Some(v.into()),
    };
    assert_eq!(r("date = '2016-10-31'"), Some(vec![exact("2016-10-31")]));
    assert_eq!(
        r("(date) in ('2016-10-31', '2016-10-30', '2016-10-31')"),
        Some(vec![exact("2016-10-30"), exact("2016-10-31")])
    );
    assert_eq!(
        r("date >= '2016-10-01' and region = 'us' and date < '2016-11-01'"),
        Some(vec![KeyRange {
            from: Some("2016-10-01".into()),
            to: Some("2016-11-01".into())
        }])
    );
    assert_eq!(
        r("date between '2016-10-01' and '2016-10-31'"),
        Some(vec![KeyRange {
            from: Some("2016-10-01".into()),
            to: Some("2016-10-31".into())
        }])
    );
    // Not on the first key, under an OR, or not a date: every partition.
    assert_eq!(r("region = 'us'"), None);
    assert_eq!(r("date = '2016-10-31' or region = 'us'"), None);
    assert_eq!(r("date = 'soon'"), None);
    assert_eq!(r("date != '2016-10-31'"), None);
}

#[test]
fn integer_ranges_keep_the_tightest_bound_numerically() {
    let k = vec![PartitionKey::new("n", KeyType::Int).unwrap()];
    let got = parse("n >= 9 and n >= 10 and n <= 100 and n < 20")
        .unwrap()
        .unwrap()
        .first_key_ranges(&k);
    assert_eq!(
        got,
        Some(vec![KeyRange {
            from: Some("10".into()),
            to: Some("20".into())
        }])
    );
}

#[test]
fn like_wildcards() {
    assert!(like("abc", "a%"));
    assert!(like("abc", "%c"));
    assert!(like("abc", "a_c"));
    assert!(like("abc", "*b*"));
    assert!(like("abc", "%"));
    assert!(!like("abc", "a_"));
    assert!(!like("abc", "b%"));
    assert!(like("", "%"));
}
