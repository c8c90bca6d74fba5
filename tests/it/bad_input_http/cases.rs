//! The corpus: every request and what it must get. The table
//! `sales.sold_items` is `date: date, region: string` (the fixture's
//! batches live there); `sales.counts` has one int key `n`. See
//! [`super::table`] for the placeholders.

use super::table::Blob::*;
use super::table::Body::{self, Bytes, Chunked, Data, HeadOnly, Json};
use super::table::Val::{Cat, Enc, Long};
use super::table::{
    ARROW, Family, Input, JSON, PARQUET, Val, family, input, input_expecting, req, req_per_input,
    rows, s,
};

/// Every case, in the order they run.
#[rustfmt::skip]
pub const CORPUS: &[Family] = &[
    // Names in JSON bodies.
    family("name", BAD_NAMES, &[
        req("namespace {label}", "POST", "/v1/namespaces", Json(r#"{"name": "{v}"}"#), 400, "invalid_name"),
        req("table {label}", "POST", "/v1/namespaces/sales/tables",
            Json(r#"{"name": "{v}", "columns": [{"name": "id", "type": "int64"}]}"#), 400, "invalid_name"),
        req("partition key {label}", "POST", "/v1/namespaces/sales/tables",
            Json(r#"{"name": "fresh", "columns": [{"name": "id", "type": "int64"}], "partition_keys": [{"name": "{v}"}]}"#), 400, "invalid_name"),
        req("pin {label}", "POST", "{tp}/pins",
            Json(r#"{"name": "{v}", "partition": "date=2016-10-31/region=us", "batch_id": "{good}"}"#), 400, "invalid_name"),
    ]),
    // Names in paths, exactly as sent.
    family("path", BAD_SEGMENTS, &[
        req_per_input("GET namespace {label}", "GET", "/v1/namespaces/{v}", Body::None),
        req_per_input("GET table {label}", "GET", "/v1/namespaces/sales/tables/{v}", Body::None),
        req_per_input("stage into table {label}", "POST", "/v1/namespaces/sales/tables/{v}/stage",
            Json(r#"{"partitions": ["date=2016-10-31/region=us"]}"#)),
        req_per_input("store into namespace {label}", "POST",
            "/v1/namespaces/{v}/tables/sold_items/store?partition=date%3D2016-10-31%2Fregion%3Dus", Data(PARQUET, Parquet)),
    ]),
    // As the last segment an empty name matches no route; inside a path it
    // reaches the handler as "".
    rows("path", &[
        req("GET namespace empty", "GET", "/v1/namespaces/", Body::None, 404, "route_not_found"),
        req("GET table empty", "GET", "/v1/namespaces/sales/tables/", Body::None, 404, "route_not_found"),
        req("stage into table empty", "POST", "/v1/namespaces/sales/tables//stage",
            Json(r#"{"partitions": ["date=2016-10-31/region=us"]}"#), 400, "invalid_name"),
        req("store into namespace empty", "POST",
            "/v1/namespaces//tables/sold_items/store?partition=date%3D2016-10-31%2Fregion%3Dus", Data(PARQUET, Parquet), 400, "invalid_name"),
    ]),
    // Partition values: in a query, in a stage body, in a resolve body...
    family("partition", BAD_PARTITIONS, &[
        req("store {label}", "POST", "{tp}/store?partition={v%}", Data(PARQUET, Parquet), 400, "invalid_partition"),
        req("stage {label}", "POST", "{tp}/stage", Json(r#"{"partitions": ["{v}"]}"#), 400, "invalid_partition"),
        req("resolve {label}", "POST", "{tp}/resolve", Json(r#"{"partitions": ["{v}"]}"#), 400, "invalid_partition"),
    ]),
    // ... and a third of them in history, rollback and publish.
    family("partition", BAD_PARTITIONS, &[
        req("history {label}", "GET", "{tp}/history?partition={v%}", Body::None, 400, "invalid_partition"),
        req("rollback {label}", "POST", "{tp}/rollback", Json(r#"{"partition": "{v}"}"#), 400, "invalid_partition"),
        req("publish {label}", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "{v}", "batch_id": "{staged}"}]}"#), 400, "invalid_partition"),
    ]).every(3),
    family("partition", &[
        s("not an int", "abc"),
        s("overflow", "99999999999999999999"),
        s("float", "1.5"),
        s("empty", ""),
        s("traversal", ".."),
    ], &[
        req("int key {label}", "POST", "/v1/namespaces/sales/tables/counts/stage",
            Json(r#"{"partitions": ["n={v}"]}"#), 400, "invalid_partition"),
    ]),

    // Malformed JSON.
    family("json", &[
        json_bytes("truncated", br#"{"name":"#),
        json_bytes("open brace", b"{"),
        json_bytes("single quotes", b"{'name': 'x'}"),
        json_bytes("trailing garbage", br#"{"name": "x"} x"#),
        json_bytes("trailing comma", br#"{"name": "x",}"#),
        json_bytes("empty body", b""),
        json_bytes("bare word", b"nul"),
        json_bytes("byte-order mark", b"\xef\xbb\xbf{\"name\": \"x\"}"),
        json_bytes("invalid utf-8 in a string", b"{\"name\": \"\xff\xfe\"}"),
        json_bytes("lone surrogate", br#"{"name": "\ud800"}"#),
        json_bytes("nan", br#"{"name": NaN}"#),
    ], &[
        req("malformed: {label}", "POST", "/v1/namespaces", Body::Input, 400, "malformed_json"),
    ]),
    // Wrong types.
    rows("type", &[
        req("name is a number", "POST", "/v1/namespaces", Json(r#"{"name": 5}"#), 400, "invalid_json"),
        req("name is null", "POST", "/v1/namespaces", Json(r#"{"name": null}"#), 400, "invalid_json"),
        req("name is a list", "POST", "/v1/namespaces", Json(r#"{"name": ["x"]}"#), 400, "invalid_json"),
        req("body is a list", "POST", "/v1/namespaces", Json(r#"["x"]"#), 400, "invalid_json"),
        req("body is a string", "POST", "/v1/namespaces", Json(r#""x""#), 400, "invalid_json"),
        req("property value is a number", "POST", "/v1/namespaces", Json(r#"{"name": "x", "properties": {"a": 1}}"#), 400, "invalid_json"),
        req("partitions is a string", "POST", "{tp}/stage", Json(r#"{"partitions": "date=2016-10-31/region=us"}"#), 400, "invalid_json"),
        req("partition is a number", "POST", "{tp}/stage", Json(r#"{"partitions": [20161031]}"#), 400, "invalid_json"),
        req("items is an object", "POST", "{tp}/publish", Json(r#"{"items": {"partition": "x"}}"#), 400, "invalid_json"),
        req("batch id is a number", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=us", "batch_id": 20161031}]}"#), 400, "invalid_json"),
        req("schema mode unknown", "POST", "{tp}/publish", Json(r#"{"items": [], "schema_mode": "loose"}"#), 400, "invalid_json"),
        req("column type unknown", "POST", "/v1/namespaces/sales/tables",
            Json(r#"{"name": "fresh", "columns": [{"name": "id", "type": 5}]}"#), 400, "invalid_json"),
        req("filters not a list", "POST", "{tp}/read", Json(r#"{"filters": "id > 1"}"#), 400, "invalid_json"),
        // Times are parsed by the one parser every edge shares: its own code.
        req("as_of not a time", "POST", "{tp}/resolve", Json(r#"{"as_of": "yesterday"}"#), 400, "invalid_time"),
        req("as_of a number", "POST", "{tp}/resolve", Json(r#"{"as_of": "12 parsecs"}"#), 400, "invalid_time"),
    ]),
    // Unknown fields.
    rows("unknown_field", &[
        req("body: namespace", "POST", "/v1/namespaces", Json(r#"{"name": "x", "nope": 1}"#), 400, "invalid_json"),
        req("body: stage", "POST", "{tp}/stage", Json(r#"{"partitions": ["date=2016-10-31/region=us"], "bogus": true}"#), 400, "invalid_json"),
        req("body: publish item typo", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=us", "batchid": "{staged}"}]}"#), 400, "invalid_json"),
        req("body: resolve singular", "POST", "{tp}/resolve", Json(r#"{"partition": ["date=2016-10-31/region=us"]}"#), 400, "invalid_json"),
        req("body: rollback", "POST", "{tp}/rollback", Json(r#"{"partition": "date=2016-10-31/region=us", "force": true}"#), 400, "invalid_json"),
        req("body: column", "POST", "/v1/namespaces/sales/tables",
            Json(r#"{"name": "fresh", "columns": [{"name": "id", "type": "int64", "primary": true}]}"#), 400, "invalid_json"),
        req("query: partitions", "GET", "{tp}/partitions?bogus=1", Body::None, 400, "invalid_query"),
        req("query: events", "GET", "/v1/events?table_name=x", Body::None, 400, "invalid_query"),
        req("query: history", "GET", "{tp}/history?partition=date%3D2016-10-31%2Fregion%3Dus&page=2", Body::None, 400, "invalid_query"),
    ]),
    // Content types.
    rows("json", &[
        req("text/plain body", "POST", "/v1/namespaces", Bytes("text/plain", br#"{"name": "x"}"#), 415, "unsupported_media_type"),
        req("no content type", "POST", "/v1/namespaces", Body::None, 415, "unsupported_media_type"),
    ]),
    // Limits: size, depth, count, page size.
    rows("limit", &[
        req("json over the size limit", "POST", "/v1/namespaces", Data(JSON, BigJson), 413, "payload_too_large"),
        req("chunked json over the size limit", "POST", "/v1/namespaces", Chunked(JSON, BigJson), 413, "payload_too_large"),
        req("json declaring 10 GB", "POST", "/v1/namespaces", HeadOnly(JSON, 10 << 30), 413, "payload_too_large"),
        req("json nested 33 levels", "POST", "/v1/namespaces", Data(JSON, Nested(33)), 400, "json_too_deep"),
        req("json nested 10,000 levels", "POST", "/v1/namespaces", Data(JSON, Nested(10_000)), 400, "json_too_deep"),
        req("json nested 30,000 levels", "POST", "/v1/namespaces", Data(JSON, Nested(30_000)), 400, "json_too_deep"),
        req("101 partitions: stage", "POST", "{tp}/stage", Json(r#"{"partitions": "{many}"}"#), 400, "too_many_partitions"),
        req("101 partitions: resolve", "POST", "{tp}/resolve", Json(r#"{"partitions": "{many}"}"#), 400, "too_many_partitions"),
        req("101 partitions: read", "POST", "{tp}/read", Json(r#"{"partitions": "{many}"}"#), 400, "too_many_partitions"),
        req("101 partitions: publish", "POST", "{tp}/publish", Json(r#"{"items": "{many_items}"}"#), 400, "too_many_partitions"),
        req("101 partitions: add files", "POST", "{tp}/batches/{staged}/files", Json(r#"{"paths": "{many}"}"#), 400, "too_many_partitions"),
    ]),
    rows("page", &[
        req("partitions limit 0", "GET", "{tp}/partitions?limit=0", Body::None, 400, "invalid_limit"),
        req("partitions limit 1001", "GET", "{tp}/partitions?limit=1001", Body::None, 400, "invalid_limit"),
        req("events limit 5000", "GET", "/v1/events?limit=5000", Body::None, 400, "invalid_limit"),
        req("history limit 0", "GET", "{tp}/history?partition=date%3D2016-10-31%2Fregion%3Dus&limit=0", Body::None, 400, "invalid_limit"),
        req("limit overflows u32", "GET", "{tp}/partitions?limit=4294967296", Body::None, 400, "invalid_query"),
        req("negative limit", "GET", "{tp}/partitions?limit=-1", Body::None, 400, "invalid_query"),
    ]),

    // Batch IDs: malformed, of another partition, of another table, staged.
    family("batch_id", &[
        s("short", "2016"),
        s("letters", "abcdefghijklmnopqrst"),
        s("traversal", ".."),
        s("encoded traversal", "%2e%2e%2f%2e%2e"),
        s("trailing letter", "2016110223425200000x"),
        s("negative", "-1"),
        input("10,000 digits", Long("", '9', 10_000)),
        input("fullwidth digits", Enc("２０１６１１０２２３４２５２００００００")),
        s("nul", "20161102234252000000%00"),
    ], &[
        req("get {label}", "GET", "{tp}/batches/{v}", Body::None, 400, "invalid_batch_id"),
        req("upload to {label}", "PUT", "{tp}/batches/{v}/data", Data(PARQUET, Parquet), 400, "invalid_batch_id"),
    ]),
    family("batch_id", &[
        s("short", "2016"),
        s("spaces", " 20161102234252000000 "),
        s("empty", ""),
        s("traversal", "../20161102234252000000"),
    ], &[
        req("publish {label}", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=us", "batch_id": "{v}"}]}"#), 400, "invalid_batch_id"),
        req("rollback to {label}", "POST", "{tp}/rollback",
            Json(r#"{"partition": "date=2016-10-31/region=us", "to": "{v}"}"#), 400, "invalid_batch_id"),
        req("resolve {label}", "POST", "{tp}/resolve", Json(r#"{"batch_id": "{v}"}"#), 400, "invalid_batch_id"),
        req("store expecting {label}", "POST", "{tp}/store?partition=date%3D2016-10-31%2Fregion%3Dus&expected_batch={v%}",
            Data(PARQUET, Parquet), 400, "invalid_batch_id"),
    ]),
    rows("batch_id", &[
        req("get another table's batch", "GET", "{tp}/batches/{other_table}", Body::None, 404, "batch_not_found"),
        req("upload to another table's staged batch", "PUT", "{tp}/batches/{other_table_staged}/data",
            Data(PARQUET, Parquet), 404, "batch_not_found"),
        req("publish another table's batch", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-11-01/region=us", "batch_id": "{other_table_staged}"}]}"#), 404, "batch_not_found"),
        req("resolve another table's batch", "POST", "{tp}/resolve", Json(r#"{"batch_id": "{other_table}"}"#), 404, "batch_not_found"),
        req("roll back to another table's batch", "POST", "{tp}/rollback",
            Json(r#"{"partition": "date=2016-10-31/region=us", "to": "{other_table}"}"#), 404, "batch_not_found"),
        req("pin another table's batch", "POST", "{tp}/pins",
            Json(r#"{"name": "reader", "partition": "date=2016-10-31/region=us", "batch_id": "{other_table}"}"#), 404, "batch_not_found"),
        req("discard another table's batch", "DELETE", "{tp}/batches/{other_table_staged}", Body::None, 404, "batch_not_found"),
        req("roll back to another partition's batch", "POST", "{tp}/rollback",
            Json(r#"{"partition": "date=2016-10-31/region=us", "to": "{other_partition}"}"#), 400, "batch_partition_mismatch"),
        req("publish another partition's staged batch", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=us", "batch_id": "{staged_other_partition}"}]}"#), 400, "batch_partition_mismatch"),
        req("publish a committed batch to another partition", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=eu", "batch_id": "{good}"}]}"#), 400, "batch_partition_mismatch"),
        req("pin another partition's batch", "POST", "{tp}/pins",
            Json(r#"{"name": "reader", "partition": "date=2016-10-31/region=us", "batch_id": "{other_partition}"}"#), 400, "batch_partition_mismatch"),
        req("roll back to a staged batch", "POST", "{tp}/rollback",
            Json(r#"{"partition": "date=2016-10-31/region=us", "to": "{staged}"}"#), 400, "batch_not_committed"),
        // Resolving a staged batch by id is write-audit-publish (reading it
        // before publishing), not bad input; as another partition it is.
        req("resolve a staged batch as another partition", "POST", "{tp}/resolve",
            Json(r#"{"batch_id": "{staged}", "partitions": ["date=2016-10-31/region=eu"]}"#), 400, "batch_partition_mismatch"),
        req("pin a staged batch", "POST", "{tp}/pins",
            Json(r#"{"name": "reader", "partition": "date=2016-10-31/region=us", "batch_id": "{staged}"}"#), 400, "batch_not_committed"),
        req("publish an empty staged batch", "POST", "{tp}/publish",
            Json(r#"{"items": [{"partition": "date=2016-10-31/region=us", "batch_id": "{staged}"}]}"#), 400, "empty_batch"),
        req("upload to a committed batch", "PUT", "{tp}/batches/{good}/data", Data(PARQUET, Parquet), 400, "batch_not_staged"),
        req("discard a committed batch", "DELETE", "{tp}/batches/{good}", Body::None, 400, "batch_not_staged"),
        req("store expecting a staged batch", "POST", "{tp}/store?partition=date%3D2016-10-31%2Fregion%3Dus&expected_batch={staged}",
            Data(PARQUET, Parquet), 409, "conflict"),
    ]),

    // Uploads: to a staged batch and through the one-call store.
    family("upload", &[
        upload("truncated by 10 bytes", Data(PARQUET, Truncated), 400, "invalid_data_file"),
        upload("first half only", Data(PARQUET, FirstHalf), 400, "invalid_data_file"),
        upload("not parquet", Bytes(PARQUET, b"hello, world"), 400, "invalid_data_file"),
        upload("empty body", Bytes(PARQUET, b""), 400, "invalid_data_file"),
        upload("magic bytes only", Data(PARQUET, MagicOnly), 400, "invalid_data_file"),
        upload("footer length lies", Data(PARQUET, LyingFooter), 400, "invalid_data_file"),
        upload("csv sent as parquet", Bytes(PARQUET, b"id,value\n1,x\n"), 400, "invalid_data_file"),
        upload("arrow stream sent as parquet", Data(PARQUET, Ipc), 400, "invalid_data_file"),
        upload("wrong columns", Data(PARQUET, WrongColumns), 422, "schema_mismatch"),
        upload("wrong column type", Data(PARQUET, WrongColumnType), 422, "schema_mismatch"),
        upload("decompression bomb (size)", Data(PARQUET, Bomb(3_000_000)), 413, "decompression_limit"),
        upload("decompression bomb (ratio)", Data(PARQUET, Bomb(2_200_000)), 413, "decompression_limit"),
        upload("garbage arrow stream", Bytes(ARROW, b"garbage"), 400, "invalid_arrow_stream"),
        upload("truncated arrow stream", Data(ARROW, HalfIpc), 400, "invalid_arrow_stream"),
        upload("parquet sent as arrow", Data(ARROW, Parquet), 400, "invalid_arrow_stream"),
        upload("csv content type", Bytes("text/csv", b"id,value\n1,x\n"), 415, "unsupported_media_type"),
    ], &[
        req_per_input("upload {label}", "PUT", "{tp}/batches/{staged}/data", Body::Input),
        req_per_input("store {label}", "POST", "{tp}/store?partition=date%3D2016-11-02%2Fregion%3Dus", Body::Input),
    ]),
    rows("upload", &[
        req("upload declaring more than the limit", "PUT", "{tp}/batches/{staged}/data",
            HeadOnly(PARQUET, 2 << 20), 413, "payload_too_large"),
        req("store declaring more than the limit", "POST", "{tp}/store?partition=date%3D2016-11-02%2Fregion%3Dus",
            HeadOnly(PARQUET, 2 << 20), 413, "payload_too_large"),
    ]),
];

/// Names that must be refused.
#[rustfmt::skip]
pub const BAD_NAMES: &[Input] = &[
    s("dotdot", ".."),
    s("dot", "."),
    s("traversal", "../../etc/passwd"),
    s("slash", "a/b"),
    s("backslash", "a\\b"),
    s("percent-encoded dotdot", "%2e%2e"),
    s("double-encoded dotdot", "%252e%252e"),
    s("encoded slash", "..%2f"),
    s("nul", "a\0b"),
    s("newline", "a\nb"),
    s("escape", "\u{1b}[31m"),
    s("delete", "a\u{7f}"),
    s("fullwidth look-alike", "ｓａｌｅｓ"),
    s("cyrillic look-alike", "ѕales"),
    s("zero-width space", "sa\u{200b}les"),
    input("10,000 characters", Long("", 'x', 10_000)),
    s("empty", ""),
    s("uppercase", "SALES"),
    s("space", "a b"),
    s("accent", "é"),
];

/// Path segments that must be refused, exactly as sent on the wire (the
/// empty one is in [`CORPUS`]: it is refused differently).
#[rustfmt::skip]
pub const BAD_SEGMENTS: &[Input] = &[
    segment("dotdot", Val::Str("..")),
    segment("dot", Val::Str(".")),
    segment("percent-encoded dotdot", Val::Str("%2e%2e")),
    segment("upper percent-encoded dotdot", Val::Str("%2E%2E")),
    segment("half-encoded dotdot", Val::Str(".%2e")),
    segment("double-encoded dotdot", Val::Str("%252e%252e")),
    segment("encoded traversal", Val::Str("..%2F..%2Fetc")),
    segment("double-encoded traversal", Val::Str("..%252F..%252Fetc")),
    segment("encoded backslash", Val::Str("a%5Cb")),
    segment("nul", Val::Str("a%00b")),
    segment("newline", Val::Str("a%0Ab")),
    segment("escape", Val::Str("a%1B")),
    segment("delete", Val::Str("%7F")),
    segment("fullwidth look-alike", Enc("ｓａｌｅｓ")),
    segment("cyrillic look-alike", Enc("ѕales")),
    segment("zero-width space", Enc("sa\u{200b}les")),
    segment("10,000 characters", Long("", 'x', 10_000)),
    segment("uppercase", Val::Str("SALES")),
    segment("space", Val::Str("a%20b")),
    input_expecting("invalid utf-8", Val::Str("%FF%FE"), 400, "invalid_path"),
];

/// Partition paths (as a user types them) that must be refused on
/// `sales.sold_items`.
#[rustfmt::skip]
pub const BAD_PARTITIONS: &[Input] = &[
    region("dotdot", ".."),
    region("dot", "."),
    region("three dots", "..."),
    region("escaped slash", "a%2Fb"),
    region("escaped dotdot", "%2E%2E"),
    region("double-escaped dotdot", "%252E%252E"),
    region("double-escaped slash", "..%252F.."),
    region("backslash", "a\\b"),
    region("escaped backslash", "a%5Cb"),
    region("escaped nul", "a%00b"),
    region("raw nul", "a\0b"),
    region("newline", "a%0Ab"),
    region("tab", "a\tb"),
    region("escape", "%1B"),
    region("delete", "a\u{7f}"),
    region("fullwidth slash", "a／b"),
    region("division slash", "a∕b"),
    region("fullwidth backslash", "a＼b"),
    region("two-dot leader", "‥"),
    region("fullwidth dots", "．．"),
    region("zero-width space", "u\u{200b}s"),
    region("bidi override", "\u{202e}su"),
    region("byte-order mark", "\u{feff}us"),
    input("10,000 characters", Long(REGION, 'x', 10_000)),
    region("empty value", ""),
    region("leading space", " us"),
    region("bad escape", "a%ZZ"),
    region("truncated escape", "a%2"),
    region("invalid utf-8 escape", "%FF"),
    s("bad date", "date=2016-13-45/region=us"),
    s("date traversal", "date=../../etc/region=us"),
    s("date with time", "date=2016-10-31T00:00:00/region=us"),
    s("missing key", "date=2016-10-31"),
    s("extra key", "date=2016-10-31/region=us/x=1"),
    s("duplicate key", "date=2016-10-31/region=us/region=eu"),
    s("unknown key", "day=2016-10-31/region=us"),
    s("leading traversal", "../date=2016-10-31/region=us"),
    s("positional count", "2016-10-31"),
];

const REGION: &str = "date=2016-10-31/region=";

/// A partition of the good date whose region is `v`.
const fn region(label: &'static str, v: &'static str) -> Input {
    input(label, Cat(REGION, v))
}

/// A segment refused as a name.
const fn segment(label: &'static str, v: Val) -> Input {
    input_expecting(label, v, 400, "invalid_name")
}

const fn json_bytes(label: &'static str, b: &'static [u8]) -> Input {
    input(label, Val::Body(Bytes(JSON, b)))
}

const fn upload(label: &'static str, body: Body, status: u16, code: &'static str) -> Input {
    input_expecting(label, Val::Body(body), status, code)
}
