//! TEMPORARY: the corpus as it was written before it became a table, to
//! prove the table expands to exactly the same cases.
#![allow(dead_code)]
use super::table::{bomb, parquet_of};
use super::wire::enc;
use super::{Case, Fixture, TP};
use crate::harness::frame;
use arrow_array::{RecordBatch, StringArray};
use serde_json::{Value, json};
use std::sync::Arc;
const PARQUET: &str = "application/vnd.apache.parquet";
const ARROW: &str = "application/vnd.apache.arrow.stream";
fn ipc_of(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    out
}
trait Build {
    fn json(self, v: &Value) -> Self;
    fn raw(self, ct: &'static str, body: impl Into<Vec<u8>>) -> Self;
}
impl Build for Case {
    fn json(mut self, v: &Value) -> Self {
        self.content_type = Some("application/json");
        self.body = serde_json::to_vec(v).unwrap();
        self
    }

    fn raw(mut self, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        self.content_type = Some(content_type);
        self.body = body.into();
        self
    }
}
/// Names that must be refused: (label, the name itself).
pub fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("dotdot", "..".into()),
        ("dot", ".".into()),
        ("traversal", "../../etc/passwd".into()),
        ("slash", "a/b".into()),
        ("backslash", "a\\b".into()),
        ("percent-encoded dotdot", "%2e%2e".into()),
        ("double-encoded dotdot", "%252e%252e".into()),
        ("encoded slash", "..%2f".into()),
        ("nul", "a\0b".into()),
        ("newline", "a\nb".into()),
        ("escape", "\u{1b}[31m".into()),
        ("delete", "a\u{7f}".into()),
        ("fullwidth look-alike", "ｓａｌｅｓ".into()),
        ("cyrillic look-alike", "ѕales".into()),
        ("zero-width space", "sa\u{200b}les".into()),
        ("10,000 characters", "x".repeat(10_000)),
        ("empty", String::new()),
        ("uppercase", "SALES".into()),
        ("space", "a b".into()),
        ("accent", "é".into()),
    ]
}

/// Path segments that must be refused as names, exactly as sent on the wire:
/// (label, raw segment, status, code).
pub fn bad_segments() -> Vec<(&'static str, String, u16, &'static str)> {
    let name = |l, s: &str| (l, s.to_owned(), 400, "invalid_name");
    vec![
        name("dotdot", ".."),
        name("dot", "."),
        name("percent-encoded dotdot", "%2e%2e"),
        name("upper percent-encoded dotdot", "%2E%2E"),
        name("half-encoded dotdot", ".%2e"),
        name("double-encoded dotdot", "%252e%252e"),
        name("encoded traversal", "..%2F..%2Fetc"),
        name("double-encoded traversal", "..%252F..%252Fetc"),
        name("encoded backslash", "a%5Cb"),
        name("nul", "a%00b"),
        name("newline", "a%0Ab"),
        name("escape", "a%1B"),
        name("delete", "%7F"),
        name("fullwidth look-alike", &enc("ｓａｌｅｓ")),
        name("cyrillic look-alike", &enc("ѕales")),
        name("zero-width space", &enc("sa\u{200b}les")),
        name("10,000 characters", &"x".repeat(10_000)),
        name("uppercase", "SALES"),
        name("space", "a%20b"),
        ("invalid utf-8", "%FF%FE".into(), 400, "invalid_path"),
        // As the last segment an empty name matches no route; inside a
        // path it reaches the handler as "" (see `corpus`).
        ("empty", String::new(), 404, "route_not_found"),
    ]
}

/// Partition paths (as a user types them) that must be refused on the
/// table `date:date/region:string`.
pub fn bad_partitions() -> Vec<(&'static str, String)> {
    let r = |v: &str| format!("date=2016-10-31/region={v}");
    vec![
        ("dotdot", r("..")),
        ("dot", r(".")),
        ("three dots", r("...")),
        ("escaped slash", r("a%2Fb")),
        ("escaped dotdot", r("%2E%2E")),
        ("double-escaped dotdot", r("%252E%252E")),
        ("double-escaped slash", r("..%252F..")),
        ("backslash", r("a\\b")),
        ("escaped backslash", r("a%5Cb")),
        ("escaped nul", r("a%00b")),
        ("raw nul", r("a\0b")),
        ("newline", r("a%0Ab")),
        ("tab", r("a\tb")),
        ("escape", r("%1B")),
        ("delete", r("a\u{7f}")),
        ("fullwidth slash", r("a／b")),
        ("division slash", r("a∕b")),
        ("fullwidth backslash", r("a＼b")),
        ("two-dot leader", r("‥")),
        ("fullwidth dots", r("．．")),
        ("zero-width space", r("u\u{200b}s")),
        ("bidi override", r("\u{202e}su")),
        ("byte-order mark", r("\u{feff}us")),
        ("10,000 characters", r(&"x".repeat(10_000))),
        ("empty value", r("")),
        ("leading space", r(" us")),
        ("bad escape", r("a%ZZ")),
        ("truncated escape", r("a%2")),
        ("invalid utf-8 escape", r("%FF")),
        ("bad date", "date=2016-13-45/region=us".into()),
        ("date traversal", "date=../../etc/region=us".into()),
        (
            "date with time",
            "date=2016-10-31T00:00:00/region=us".into(),
        ),
        ("missing key", "date=2016-10-31".into()),
        ("extra key", "date=2016-10-31/region=us/x=1".into()),
        (
            "duplicate key",
            "date=2016-10-31/region=us/region=eu".into(),
        ),
        ("unknown key", "day=2016-10-31/region=us".into()),
        ("leading traversal", "../date=2016-10-31/region=us".into()),
        ("positional count", "2016-10-31".into()),
    ]
}

/// The corpus. `fx` names batches that exist in the server's catalog.
pub fn corpus(fx: &Fixture) -> Vec<Case> {
    let mut cases = Vec::new();
    let ok_parquet = parquet_of(&frame(0, 2, "x"));

    // Names in JSON bodies.
    for (label, n) in bad_names() {
        cases.push(
            Case::new(
                "name",
                format!("namespace {label}"),
                "POST",
                "/v1/namespaces",
                400,
                "invalid_name",
            )
            .json(&json!({"name": n})),
        );
        cases.push(
            Case::new(
                "name",
                format!("table {label}"),
                "POST",
                "/v1/namespaces/sales/tables",
                400,
                "invalid_name",
            )
            .json(&json!({"name": n, "columns": [{"name": "id", "type": "int64"}]})),
        );
        cases.push(
            Case::new("name", format!("partition key {label}"), "POST", "/v1/namespaces/sales/tables", 400, "invalid_name")
                .json(&json!({"name": "fresh", "columns": [{"name": "id", "type": "int64"}], "partition_keys": [{"name": n}]})),
        );
        cases.push(
            Case::new(
                "name",
                format!("pin {label}"),
                "POST",
                format!("{TP}/pins"),
                400,
                "invalid_name",
            )
            .json(
                &json!({"name": n, "partition": "date=2016-10-31/region=us", "batch_id": fx.good}),
            ),
        );
    }
    // Names in paths, exactly as sent.
    for (label, seg, status, code) in bad_segments() {
        cases.push(Case::new(
            "path",
            format!("GET namespace {label}"),
            "GET",
            format!("/v1/namespaces/{seg}"),
            status,
            code,
        ));
        cases.push(Case::new(
            "path",
            format!("GET table {label}"),
            "GET",
            format!("/v1/namespaces/sales/tables/{seg}"),
            status,
            code,
        ));
        let (status, code) = if seg.is_empty() {
            (400, "invalid_name")
        } else {
            (status, code)
        };
        cases.push(
            Case::new(
                "path",
                format!("stage into table {label}"),
                "POST",
                format!("/v1/namespaces/sales/tables/{seg}/stage"),
                status,
                code,
            )
            .json(&json!({"partitions": ["date=2016-10-31/region=us"]})),
        );
        cases.push(
            Case::new(
                "path",
                format!("store into namespace {label}"),
                "POST",
                format!(
                    "/v1/namespaces/{seg}/tables/sold_items/store?partition={}",
                    enc("date=2016-10-31/region=us")
                ),
                status,
                code,
            )
            .raw(PARQUET, ok_parquet.clone()),
        );
    }
    // Partition values: in a query, in a stage body, in a resolve body.
    for (label, p) in bad_partitions() {
        cases.push(
            Case::new(
                "partition",
                format!("store {label}"),
                "POST",
                format!("{TP}/store?partition={}", enc(&p)),
                400,
                "invalid_partition",
            )
            .raw(PARQUET, ok_parquet.clone()),
        );
        cases.push(
            Case::new(
                "partition",
                format!("stage {label}"),
                "POST",
                format!("{TP}/stage"),
                400,
                "invalid_partition",
            )
            .json(&json!({"partitions": [p]})),
        );
        cases.push(
            Case::new(
                "partition",
                format!("resolve {label}"),
                "POST",
                format!("{TP}/resolve"),
                400,
                "invalid_partition",
            )
            .json(&json!({"partitions": [p]})),
        );
    }
    for (label, p) in bad_partitions().into_iter().step_by(3) {
        cases.push(Case::new(
            "partition",
            format!("history {label}"),
            "GET",
            format!("{TP}/history?partition={}", enc(&p)),
            400,
            "invalid_partition",
        ));
        cases.push(
            Case::new(
                "partition",
                format!("rollback {label}"),
                "POST",
                format!("{TP}/rollback"),
                400,
                "invalid_partition",
            )
            .json(&json!({"partition": p})),
        );
        cases.push(
            Case::new(
                "partition",
                format!("publish {label}"),
                "POST",
                format!("{TP}/publish"),
                400,
                "invalid_partition",
            )
            .json(&json!({"items": [{"partition": p, "batch_id": fx.staged}]})),
        );
    }
    for (label, v) in [
        ("not an int", "abc"),
        ("overflow", "99999999999999999999"),
        ("float", "1.5"),
        ("empty", ""),
        ("traversal", ".."),
    ] {
        cases.push(
            Case::new(
                "partition",
                format!("int key {label}"),
                "POST",
                "/v1/namespaces/sales/tables/counts/stage",
                400,
                "invalid_partition",
            )
            .json(&json!({"partitions": [format!("n={v}")]})),
        );
    }

    // Malformed JSON.
    for (label, body) in [
        ("truncated", &b"{\"name\":"[..]),
        ("open brace", b"{"),
        ("single quotes", b"{'name': 'x'}"),
        ("trailing garbage", b"{\"name\": \"x\"} x"),
        ("trailing comma", b"{\"name\": \"x\",}"),
        ("empty body", b""),
        ("bare word", b"nul"),
        ("byte-order mark", b"\xef\xbb\xbf{\"name\": \"x\"}"),
        ("invalid utf-8 in a string", b"{\"name\": \"\xff\xfe\"}"),
        ("lone surrogate", b"{\"name\": \"\\ud800\"}"),
        ("nan", b"{\"name\": NaN}"),
    ] {
        cases.push(
            Case::new(
                "json",
                format!("malformed: {label}"),
                "POST",
                "/v1/namespaces",
                400,
                "malformed_json",
            )
            .raw("application/json", body.to_vec()),
        );
    }
    // Wrong types.
    for (label, target, body) in [
        (
            "name is a number",
            "/v1/namespaces".to_owned(),
            json!({"name": 5}),
        ),
        (
            "name is null",
            "/v1/namespaces".to_owned(),
            json!({"name": null}),
        ),
        (
            "name is a list",
            "/v1/namespaces".to_owned(),
            json!({"name": ["x"]}),
        ),
        ("body is a list", "/v1/namespaces".to_owned(), json!(["x"])),
        ("body is a string", "/v1/namespaces".to_owned(), json!("x")),
        (
            "property value is a number",
            "/v1/namespaces".to_owned(),
            json!({"name": "x", "properties": {"a": 1}}),
        ),
        (
            "partitions is a string",
            format!("{TP}/stage"),
            json!({"partitions": "date=2016-10-31/region=us"}),
        ),
        (
            "partition is a number",
            format!("{TP}/stage"),
            json!({"partitions": [20161031]}),
        ),
        (
            "items is an object",
            format!("{TP}/publish"),
            json!({"items": {"partition": "x"}}),
        ),
        (
            "batch id is a number",
            format!("{TP}/publish"),
            json!({"items": [{"partition": "date=2016-10-31/region=us", "batch_id": 20161031}]}),
        ),
        (
            "schema mode unknown",
            format!("{TP}/publish"),
            json!({"items": [], "schema_mode": "loose"}),
        ),
        (
            "column type unknown",
            "/v1/namespaces/sales/tables".to_owned(),
            json!({"name": "fresh", "columns": [{"name": "id", "type": 5}]}),
        ),
        (
            "filters not a list",
            format!("{TP}/read"),
            json!({"filters": "id > 1"}),
        ),
    ] {
        cases.push(Case::new("type", label, "POST", target, 400, "invalid_json").json(&body));
    }
    // Times are parsed by the one parser every edge shares: its own code.
    for (label, target, body) in [
        (
            "as_of not a time",
            format!("{TP}/resolve"),
            json!({"as_of": "yesterday"}),
        ),
        (
            "as_of a number",
            format!("{TP}/resolve"),
            json!({"as_of": "12 parsecs"}),
        ),
    ] {
        cases.push(Case::new("type", label, "POST", target, 400, "invalid_time").json(&body));
    }
    // Unknown fields.
    for (label, target, body) in [
        (
            "namespace",
            "/v1/namespaces".to_owned(),
            json!({"name": "x", "nope": 1}),
        ),
        (
            "stage",
            format!("{TP}/stage"),
            json!({"partitions": ["date=2016-10-31/region=us"], "bogus": true}),
        ),
        (
            "publish item typo",
            format!("{TP}/publish"),
            json!({"items": [{"partition": "date=2016-10-31/region=us", "batchid": fx.staged}]}),
        ),
        (
            "resolve singular",
            format!("{TP}/resolve"),
            json!({"partition": ["date=2016-10-31/region=us"]}),
        ),
        (
            "rollback",
            format!("{TP}/rollback"),
            json!({"partition": "date=2016-10-31/region=us", "force": true}),
        ),
        (
            "column",
            "/v1/namespaces/sales/tables".to_owned(),
            json!({"name": "fresh", "columns": [{"name": "id", "type": "int64", "primary": true}]}),
        ),
    ] {
        cases.push(
            Case::new(
                "unknown_field",
                format!("body: {label}"),
                "POST",
                target,
                400,
                "invalid_json",
            )
            .json(&body),
        );
    }
    for (label, target) in [
        ("partitions", format!("{TP}/partitions?bogus=1")),
        ("events", "/v1/events?table_name=x".to_owned()),
        (
            "history",
            format!("{TP}/history?partition=date%3D2016-10-31%2Fregion%3Dus&page=2"),
        ),
    ] {
        cases.push(Case::new(
            "unknown_field",
            format!("query: {label}"),
            "GET",
            target,
            400,
            "invalid_query",
        ));
    }
    // Content types.
    cases.push(
        Case::new(
            "json",
            "text/plain body",
            "POST",
            "/v1/namespaces",
            415,
            "unsupported_media_type",
        )
        .raw("text/plain", &b"{\"name\": \"x\"}"[..]),
    );
    cases.push(Case::new(
        "json",
        "no content type",
        "POST",
        "/v1/namespaces",
        415,
        "unsupported_media_type",
    ));
    // Limits: size, depth, count, page size.
    let big = json!({"name": "x", "description": "d".repeat(80 * 1024)});
    cases.push(
        Case::new(
            "limit",
            "json over the size limit",
            "POST",
            "/v1/namespaces",
            413,
            "payload_too_large",
        )
        .json(&big),
    );
    let mut chunked = Case::new(
        "limit",
        "chunked json over the size limit",
        "POST",
        "/v1/namespaces",
        413,
        "payload_too_large",
    )
    .json(&big);
    chunked.chunked = true;
    cases.push(chunked);
    let mut lying = Case::new(
        "limit",
        "json declaring 10 GB",
        "POST",
        "/v1/namespaces",
        413,
        "payload_too_large",
    );
    lying.content_type = Some("application/json");
    lying.declared_only = Some(10 << 30);
    cases.push(lying);
    for (label, depth) in [
        ("33 levels", 33),
        ("10,000 levels", 10_000),
        ("30,000 levels", 30_000),
    ] {
        let nested = format!(
            "{{\"name\": \"x\", \"properties\": {}{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        cases.push(
            Case::new(
                "limit",
                format!("json nested {label}"),
                "POST",
                "/v1/namespaces",
                400,
                "json_too_deep",
            )
            .raw("application/json", nested.into_bytes()),
        );
    }
    let many: Vec<String> = (0..101)
        .map(|i| format!("date=2016-10-31/region=r{i}"))
        .collect();
    for (label, target, body) in [
        ("stage", format!("{TP}/stage"), json!({"partitions": many})),
        (
            "resolve",
            format!("{TP}/resolve"),
            json!({"partitions": many}),
        ),
        ("read", format!("{TP}/read"), json!({"partitions": many})),
        (
            "publish",
            format!("{TP}/publish"),
            json!({"items": many.iter().map(|p| json!({"partition": p, "batch_id": fx.staged})).collect::<Vec<_>>()}),
        ),
        (
            "add files",
            format!("{TP}/batches/{}/files", fx.staged),
            json!({"paths": many}),
        ),
    ] {
        cases.push(
            Case::new(
                "limit",
                format!("101 partitions: {label}"),
                "POST",
                target,
                400,
                "too_many_partitions",
            )
            .json(&body),
        );
    }
    for (label, target, code) in [
        (
            "partitions limit 0",
            format!("{TP}/partitions?limit=0"),
            "invalid_limit",
        ),
        (
            "partitions limit 1001",
            format!("{TP}/partitions?limit=1001"),
            "invalid_limit",
        ),
        (
            "events limit 5000",
            "/v1/events?limit=5000".to_owned(),
            "invalid_limit",
        ),
        (
            "history limit 0",
            format!("{TP}/history?partition=date%3D2016-10-31%2Fregion%3Dus&limit=0"),
            "invalid_limit",
        ),
        (
            "limit overflows u32",
            format!("{TP}/partitions?limit=4294967296"),
            "invalid_query",
        ),
        (
            "negative limit",
            format!("{TP}/partitions?limit=-1"),
            "invalid_query",
        ),
    ] {
        cases.push(Case::new("page", label, "GET", target, 400, code));
    }

    // Batch IDs: malformed, of another partition, of another table, staged.
    for (label, id) in [
        ("short", "2016".to_owned()),
        ("letters", "abcdefghijklmnopqrst".to_owned()),
        ("traversal", "..".to_owned()),
        ("encoded traversal", "%2e%2e%2f%2e%2e".to_owned()),
        ("trailing letter", "2016110223425200000x".to_owned()),
        ("negative", "-1".to_owned()),
        ("10,000 digits", "9".repeat(10_000)),
        (
            "fullwidth digits",
            enc("２０１６１１０２２３４２５２００００００"),
        ),
        ("nul", "20161102234252000000%00".to_owned()),
    ] {
        cases.push(Case::new(
            "batch_id",
            format!("get {label}"),
            "GET",
            format!("{TP}/batches/{id}"),
            400,
            "invalid_batch_id",
        ));
        cases.push(
            Case::new(
                "batch_id",
                format!("upload to {label}"),
                "PUT",
                format!("{TP}/batches/{id}/data"),
                400,
                "invalid_batch_id",
            )
            .raw(PARQUET, ok_parquet.clone()),
        );
    }
    for (label, id) in [
        ("short", "2016"),
        ("spaces", " 20161102234252000000 "),
        ("empty", ""),
        ("traversal", "../20161102234252000000"),
    ] {
        cases.push(
            Case::new(
                "batch_id",
                format!("publish {label}"),
                "POST",
                format!("{TP}/publish"),
                400,
                "invalid_batch_id",
            )
            .json(&json!({"items": [{"partition": "date=2016-10-31/region=us", "batch_id": id}]})),
        );
        cases.push(
            Case::new(
                "batch_id",
                format!("rollback to {label}"),
                "POST",
                format!("{TP}/rollback"),
                400,
                "invalid_batch_id",
            )
            .json(&json!({"partition": "date=2016-10-31/region=us", "to": id})),
        );
        cases.push(
            Case::new(
                "batch_id",
                format!("resolve {label}"),
                "POST",
                format!("{TP}/resolve"),
                400,
                "invalid_batch_id",
            )
            .json(&json!({"batch_id": id})),
        );
        cases.push(
            Case::new(
                "batch_id",
                format!("store expecting {label}"),
                "POST",
                format!(
                    "{TP}/store?partition={}&expected_batch={}",
                    enc("date=2016-10-31/region=us"),
                    enc(id)
                ),
                400,
                "invalid_batch_id",
            )
            .raw(PARQUET, ok_parquet.clone()),
        );
    }
    let us = "date=2016-10-31/region=us";
    cases.extend([
        Case::new("batch_id", "get another table's batch", "GET", format!("{TP}/batches/{}", fx.other_table), 404, "batch_not_found"),
        Case::new("batch_id", "upload to another table's staged batch", "PUT", format!("{TP}/batches/{}/data", fx.other_table_staged), 404, "batch_not_found")
            .raw(PARQUET, ok_parquet.clone()),
        Case::new("batch_id", "publish another table's batch", "POST", format!("{TP}/publish"), 404, "batch_not_found")
            .json(&json!({"items": [{"partition": "date=2016-11-01/region=us", "batch_id": fx.other_table_staged}]})),
        Case::new("batch_id", "resolve another table's batch", "POST", format!("{TP}/resolve"), 404, "batch_not_found").json(&json!({"batch_id": fx.other_table})),
        Case::new("batch_id", "roll back to another table's batch", "POST", format!("{TP}/rollback"), 404, "batch_not_found")
            .json(&json!({"partition": us, "to": fx.other_table})),
        Case::new("batch_id", "pin another table's batch", "POST", format!("{TP}/pins"), 404, "batch_not_found")
            .json(&json!({"name": "reader", "partition": us, "batch_id": fx.other_table})),
        Case::new("batch_id", "discard another table's batch", "DELETE", format!("{TP}/batches/{}", fx.other_table_staged), 404, "batch_not_found"),
        Case::new("batch_id", "roll back to another partition's batch", "POST", format!("{TP}/rollback"), 400, "batch_partition_mismatch")
            .json(&json!({"partition": us, "to": fx.other_partition})),
        Case::new("batch_id", "publish another partition's staged batch", "POST", format!("{TP}/publish"), 400, "batch_partition_mismatch")
            .json(&json!({"items": [{"partition": us, "batch_id": fx.staged_other_partition}]})),
        Case::new("batch_id", "publish a committed batch to another partition", "POST", format!("{TP}/publish"), 400, "batch_partition_mismatch")
            .json(&json!({"items": [{"partition": "date=2016-10-31/region=eu", "batch_id": fx.good}]})),
        Case::new("batch_id", "pin another partition's batch", "POST", format!("{TP}/pins"), 400, "batch_partition_mismatch")
            .json(&json!({"name": "reader", "partition": us, "batch_id": fx.other_partition})),
        Case::new("batch_id", "roll back to a staged batch", "POST", format!("{TP}/rollback"), 400, "batch_not_committed")
            .json(&json!({"partition": us, "to": fx.staged})),
        // Resolving a staged batch by id is write-audit-publish (reading it
        // before publishing), not bad input; as another partition it is.
        Case::new("batch_id", "resolve a staged batch as another partition", "POST", format!("{TP}/resolve"), 400, "batch_partition_mismatch")
            .json(&json!({"batch_id": fx.staged, "partitions": ["date=2016-10-31/region=eu"]})),
        Case::new("batch_id", "pin a staged batch", "POST", format!("{TP}/pins"), 400, "batch_not_committed")
            .json(&json!({"name": "reader", "partition": us, "batch_id": fx.staged})),
        Case::new("batch_id", "publish an empty staged batch", "POST", format!("{TP}/publish"), 400, "empty_batch")
            .json(&json!({"items": [{"partition": us, "batch_id": fx.staged}]})),
        Case::new("batch_id", "upload to a committed batch", "PUT", format!("{TP}/batches/{}/data", fx.good), 400, "batch_not_staged")
            .raw(PARQUET, ok_parquet.clone()),
        Case::new("batch_id", "discard a committed batch", "DELETE", format!("{TP}/batches/{}", fx.good), 400, "batch_not_staged"),
        Case::new("batch_id", "store expecting a staged batch", "POST",
            format!("{TP}/store?partition={}&expected_batch={}", enc(us), fx.staged), 409, "conflict")
            .raw(PARQUET, ok_parquet.clone()),
    ]);

    // Uploads: to a staged batch and through the one-call store.
    let mut truncated = ok_parquet.clone();
    truncated.truncate(ok_parquet.len() - 10);
    let half = ok_parquet[..ok_parquet.len() / 2].to_vec();
    let mut magic_only = b"PAR1".to_vec();
    magic_only.extend_from_slice(&[0u8; 64]);
    magic_only.extend_from_slice(b"PAR1");
    let mut lying_footer = ok_parquet[..ok_parquet.len() - 8].to_vec();
    lying_footer.extend_from_slice(&u32::MAX.to_le_bytes());
    lying_footer.extend_from_slice(b"PAR1");
    let mismatched = {
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "other",
            arrow_schema::DataType::Utf8,
            true,
        )]));
        RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["x"]))]).unwrap()
    };
    let retyped = {
        let schema = Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("id", arrow_schema::DataType::Utf8, false),
            arrow_schema::Field::new("value", arrow_schema::DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["1"])),
                Arc::new(StringArray::from(vec!["x"])),
            ],
        )
        .unwrap()
    };
    let ipc = ipc_of(&frame(0, 2, "x"));
    let uploads: Vec<(&str, &'static str, Vec<u8>, u16, &'static str)> = vec![
        (
            "truncated by 10 bytes",
            PARQUET,
            truncated,
            400,
            "invalid_data_file",
        ),
        ("first half only", PARQUET, half, 400, "invalid_data_file"),
        (
            "not parquet",
            PARQUET,
            b"hello, world".to_vec(),
            400,
            "invalid_data_file",
        ),
        ("empty body", PARQUET, Vec::new(), 400, "invalid_data_file"),
        (
            "magic bytes only",
            PARQUET,
            magic_only,
            400,
            "invalid_data_file",
        ),
        (
            "footer length lies",
            PARQUET,
            lying_footer,
            400,
            "invalid_data_file",
        ),
        (
            "csv sent as parquet",
            PARQUET,
            b"id,value\n1,x\n".to_vec(),
            400,
            "invalid_data_file",
        ),
        (
            "arrow stream sent as parquet",
            PARQUET,
            ipc.clone(),
            400,
            "invalid_data_file",
        ),
        (
            "wrong columns",
            PARQUET,
            parquet_of(&mismatched),
            422,
            "schema_mismatch",
        ),
        (
            "wrong column type",
            PARQUET,
            parquet_of(&retyped),
            422,
            "schema_mismatch",
        ),
        (
            "decompression bomb (size)",
            PARQUET,
            bomb(3_000_000),
            413,
            "decompression_limit",
        ),
        (
            "decompression bomb (ratio)",
            PARQUET,
            bomb(2_200_000),
            413,
            "decompression_limit",
        ),
        (
            "garbage arrow stream",
            ARROW,
            b"garbage".to_vec(),
            400,
            "invalid_arrow_stream",
        ),
        (
            "truncated arrow stream",
            ARROW,
            ipc[..ipc.len() / 2].to_vec(),
            400,
            "invalid_arrow_stream",
        ),
        (
            "parquet sent as arrow",
            ARROW,
            ok_parquet.clone(),
            400,
            "invalid_arrow_stream",
        ),
        (
            "csv content type",
            "text/csv",
            b"id,value\n1,x\n".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (label, ct, body, status, code) in uploads {
        cases.push(
            Case::new(
                "upload",
                format!("upload {label}"),
                "PUT",
                format!("{TP}/batches/{}/data", fx.staged),
                status,
                code,
            )
            .raw(ct, body.clone()),
        );
        cases.push(
            Case::new(
                "upload",
                format!("store {label}"),
                "POST",
                format!("{TP}/store?partition={}", enc("date=2016-11-02/region=us")),
                status,
                code,
            )
            .raw(ct, body),
        );
    }
    let mut too_big = Case::new(
        "upload",
        "upload declaring more than the limit",
        "PUT",
        format!("{TP}/batches/{}/data", fx.staged),
        413,
        "payload_too_large",
    );
    too_big.content_type = Some(PARQUET);
    too_big.declared_only = Some(2 << 20);
    cases.push(too_big.clone());
    too_big.label = "store declaring more than the limit".into();
    too_big.method = "POST";
    too_big.target = format!("{TP}/store?partition={}", enc("date=2016-11-02/region=us"));
    cases.push(too_big);
    cases
}

#[test]
fn the_table_expands_to_the_old_corpus() {
    let fx = Fixture {
        good: "20161031000000000001".into(),
        other_partition: "20161031000000000002".into(),
        other_table: "20161031000000000003".into(),
        other_table_staged: "20161031000000000004".into(),
        staged: "20161031000000000005".into(),
        staged_other_partition: "20161031000000000006".into(),
    };
    let old = corpus(&fx);
    let new = super::corpus(&fx);
    eprintln!("old {} new {}", old.len(), new.len());
    for (i, (a, b)) in old.iter().zip(new.iter()).enumerate() {
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "case {i}");
    }
    assert_eq!(old.len(), new.len());
}
