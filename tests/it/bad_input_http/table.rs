//! The shape of the corpus table ([`super::cases`]) and its expansion into
//! the requests the runner sends.
//!
//! A [`Family`] is a list of inputs and a list of request templates: it
//! stands for one [`Case`] per input and request, input by input. A family
//! of requests that stand alone has the one blank input [`ONE`]. What a
//! case must get (status and error code) is written either on the request
//! or on the input, never both.
//!
//! Templates (targets, labels and the strings of JSON bodies) name what
//! they need in braces: `{label}` the input's label, `{v}` its value as
//! is, `{v%}` its value percent-encoded, `{tp}` the corpus table's path,
//! and the batch IDs of the [`Fixture`] by field name (`{good}`,
//! `{staged}`, ...). In a JSON body the string `"{many}"` stands for 101
//! partitions of the table and `"{many_items}"` for a publish item of the
//! staged batch for each of them.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use serde_json::{Value, json};

use super::wire::enc;
use super::{Case, Fixture, TP};
use crate::harness::{frame, small_schema};

pub const JSON: &str = "application/json";
pub const PARQUET: &str = "application/vnd.apache.parquet";
pub const ARROW: &str = "application/vnd.apache.arrow.stream";

/// Inputs × requests of one category.
#[derive(Debug)]
pub struct Family {
    pub category: &'static str,
    pub inputs: &'static [Input],
    /// Only every n-th input (1: all of them).
    pub every: usize,
    pub requests: &'static [Req],
}

/// A request template.
#[derive(Debug)]
pub struct Req {
    pub label: &'static str,
    pub method: &'static str,
    pub target: &'static str,
    pub body: Body,
    /// Status and error code, unless the input says them.
    pub expect: Option<(u16, &'static str)>,
}

/// A value the templates of a family splice in.
#[derive(Debug)]
pub struct Input {
    pub label: &'static str,
    pub value: Val,
    /// Status and error code, unless the request says them.
    pub expect: Option<(u16, &'static str)>,
}

#[derive(Debug)]
pub enum Val {
    Str(&'static str),
    /// The first string followed by the second.
    Cat(&'static str, &'static str),
    /// The string followed by `char` repeated `usize` times.
    Long(&'static str, char, usize),
    /// The string percent-encoded (for path segments that must arrive so).
    Enc(&'static str),
    /// A whole body, for the requests whose body is [`Body::Input`].
    Body(Body),
}

/// A request body and how it is sent.
#[derive(Debug)]
pub enum Body {
    /// No content type, no body.
    None,
    /// A JSON template (see the module doc).
    Json(&'static str),
    Bytes(&'static str, &'static [u8]),
    Data(&'static str, Blob),
    /// Sent with chunked transfer encoding (no content-length).
    Chunked(&'static str, Blob),
    /// Only the head, declaring this content-length.
    HeadOnly(&'static str, u64),
    /// The input's body ([`Val::Body`]).
    Input,
}

/// Bodies made at run time.
#[derive(Debug, Clone, Copy)]
pub enum Blob {
    /// A good Parquet file of the table's schema (2 rows).
    Parquet,
    /// [`Blob::Parquet`] without its last 10 bytes.
    Truncated,
    /// The first half of [`Blob::Parquet`].
    FirstHalf,
    /// `PAR1`, 64 zero bytes, `PAR1`.
    MagicOnly,
    /// [`Blob::Parquet`] with a footer length of `u32::MAX`.
    LyingFooter,
    /// Parquet with one column `other: utf8`.
    WrongColumns,
    /// Parquet with `id` as utf8.
    WrongColumnType,
    /// An Arrow IPC stream of the table's schema (2 rows).
    Ipc,
    /// The first half of [`Blob::Ipc`].
    HalfIpc,
    /// [`bomb`] of that many rows.
    Bomb(usize),
    /// A namespace whose properties are that many nested lists.
    Nested(usize),
    /// A namespace with an 80 KiB description.
    BigJson,
}

/// The blank input of a family of requests that stand alone.
pub const ONE: &[Input] = &[Input {
    label: "",
    value: Val::Str(""),
    expect: None,
}];

pub const fn family(
    category: &'static str,
    inputs: &'static [Input],
    requests: &'static [Req],
) -> Family {
    Family {
        category,
        inputs,
        every: 1,
        requests,
    }
}

/// Requests that stand alone.
pub const fn rows(category: &'static str, requests: &'static [Req]) -> Family {
    family(category, ONE, requests)
}

impl Family {
    pub const fn every(self, n: usize) -> Self {
        Self { every: n, ..self }
    }
}

pub const fn req(
    label: &'static str,
    method: &'static str,
    target: &'static str,
    body: Body,
    status: u16,
    code: &'static str,
) -> Req {
    Req {
        label,
        method,
        target,
        body,
        expect: Some((status, code)),
    }
}

/// A request whose status and code each input says.
pub const fn req_per_input(
    label: &'static str,
    method: &'static str,
    target: &'static str,
    body: Body,
) -> Req {
    Req {
        label,
        method,
        target,
        body,
        expect: None,
    }
}

pub const fn input(label: &'static str, value: Val) -> Input {
    Input {
        label,
        value,
        expect: None,
    }
}

pub const fn s(label: &'static str, value: &'static str) -> Input {
    input(label, Val::Str(value))
}

pub const fn input_expecting(
    label: &'static str,
    value: Val,
    status: u16,
    code: &'static str,
) -> Input {
    Input {
        label,
        value,
        expect: Some((status, code)),
    }
}

/// Every case of `families`, in order.
pub fn expand(families: &[Family], fx: &Fixture) -> Vec<Case> {
    let blobs = Blobs::new();
    let mut cases = Vec::new();
    for f in families {
        for input in f.inputs.iter().step_by(f.every) {
            for r in f.requests {
                cases.push(case(f.category, input, r, fx, &blobs));
            }
        }
    }
    cases
}

fn case(category: &'static str, input: &Input, r: &Req, fx: &Fixture, blobs: &Blobs) -> Case {
    let v = match &input.value {
        Val::Body(_) => None,
        text => Some(value_text(text)),
    };
    let fill = |t: &str| fill(t, input.label, v.as_deref(), fx);
    let label = fill(r.label);
    let (status, code) = match (r.expect, input.expect) {
        (Some(e), None) | (None, Some(e)) => e,
        _ => panic!("{label}: the expected status must be on the request or on the input"),
    };
    let mut c = Case {
        category,
        target: fill(r.target),
        label,
        method: r.method,
        content_type: None,
        body: Vec::new(),
        chunked: false,
        declared_only: None,
        status,
        code,
    };
    let body = match (&r.body, &input.value) {
        (Body::Input, Val::Body(b)) => b,
        (Body::Input, _) => panic!("{}: the input has no body", c.label),
        (b, _) => b,
    };
    match body {
        Body::None => {}
        Body::Json(t) => {
            let template: Value = serde_json::from_str(t)
                .unwrap_or_else(|e| panic!("{}: bad JSON template: {e}", c.label));
            c.content_type = Some(JSON);
            c.body = serde_json::to_vec(&fill_json(template, &fill, fx)).unwrap();
        }
        Body::Bytes(ct, b) => {
            c.content_type = Some(ct);
            c.body = b.to_vec();
        }
        Body::Data(ct, blob) | Body::Chunked(ct, blob) => {
            c.content_type = Some(ct);
            c.body = blobs.get(*blob);
            c.chunked = matches!(body, Body::Chunked(..));
        }
        Body::HeadOnly(ct, n) => {
            c.content_type = Some(ct);
            c.declared_only = Some(*n);
        }
        Body::Input => panic!("{}: a body input cannot be a body input", c.label),
    }
    c
}

fn value_text(v: &Val) -> String {
    match v {
        Val::Str(s) => (*s).to_owned(),
        Val::Cat(a, b) => format!("{a}{b}"),
        Val::Long(s, c, n) => format!("{s}{}", c.to_string().repeat(*n)),
        Val::Enc(s) => enc(s),
        Val::Body(_) => unreachable!("a body has no text"),
    }
}

/// Replaces every `{name}` of `t` (one pass: what is spliced in is not read again).
fn fill(t: &str, label: &str, v: Option<&str>, fx: &Fixture) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .unwrap_or_else(|| panic!("unclosed brace in {t:?}"))
            + open;
        let name = &rest[open + 1..close];
        let value = |v: Option<&str>| {
            v.unwrap_or_else(|| panic!("{t:?}: no value for {{{name}}}"))
                .to_owned()
        };
        out.push_str(&match name {
            "label" => label.to_owned(),
            "v" => value(v),
            "v%" => enc(&value(v)),
            "tp" => TP.to_owned(),
            "good" => fx.good.clone(),
            "other_partition" => fx.other_partition.clone(),
            "other_table" => fx.other_table.clone(),
            "other_table_staged" => fx.other_table_staged.clone(),
            "staged" => fx.staged.clone(),
            "staged_other_partition" => fx.staged_other_partition.clone(),
            _ => panic!("{t:?}: unknown placeholder {{{name}}}"),
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn fill_json(v: Value, fill: &dyn Fn(&str) -> String, fx: &Fixture) -> Value {
    let many = || {
        (0..101)
            .map(|i| format!("date=2016-10-31/region=r{i}"))
            .collect::<Vec<_>>()
    };
    match v {
        Value::String(s) if s == "{many}" => json!(many()),
        Value::String(s) if s == "{many_items}" => json!(
            many()
                .iter()
                .map(|p| json!({"partition": p, "batch_id": fx.staged}))
                .collect::<Vec<_>>()
        ),
        Value::String(s) => Value::String(fill(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| fill_json(x, fill, fx)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, fill_json(x, fill, fx)))
                .collect(),
        ),
        other => other,
    }
}

/// The bodies that are made once per expansion.
struct Blobs {
    parquet: Vec<u8>,
    ipc: Vec<u8>,
}

impl Blobs {
    fn new() -> Self {
        Self {
            parquet: parquet_of(&frame(0, 2, "x")),
            ipc: ipc_of(&frame(0, 2, "x")),
        }
    }

    fn get(&self, b: Blob) -> Vec<u8> {
        let ok = &self.parquet;
        match b {
            Blob::Parquet => ok.clone(),
            Blob::Truncated => ok[..ok.len() - 10].to_vec(),
            Blob::FirstHalf => ok[..ok.len() / 2].to_vec(),
            Blob::MagicOnly => [&b"PAR1"[..], &[0u8; 64], b"PAR1"].concat(),
            Blob::LyingFooter => [&ok[..ok.len() - 8], &u32::MAX.to_le_bytes(), b"PAR1"].concat(),
            Blob::WrongColumns => {
                let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
                    "other",
                    arrow_schema::DataType::Utf8,
                    true,
                )]));
                parquet_of(
                    &RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec!["x"]))])
                        .unwrap(),
                )
            }
            Blob::WrongColumnType => {
                let schema = Arc::new(arrow_schema::Schema::new(vec![
                    arrow_schema::Field::new("id", arrow_schema::DataType::Utf8, false),
                    arrow_schema::Field::new("value", arrow_schema::DataType::Utf8, true),
                ]));
                parquet_of(
                    &RecordBatch::try_new(
                        schema,
                        vec![
                            Arc::new(StringArray::from(vec!["1"])),
                            Arc::new(StringArray::from(vec!["x"])),
                        ],
                    )
                    .unwrap(),
                )
            }
            Blob::Ipc => self.ipc.clone(),
            Blob::HalfIpc => self.ipc[..self.ipc.len() / 2].to_vec(),
            Blob::Bomb(rows) => bomb(rows),
            Blob::Nested(depth) => format!(
                "{{\"name\": \"x\", \"properties\": {}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes(),
            Blob::BigJson => {
                serde_json::to_vec(&json!({"name": "x", "description": "d".repeat(80 * 1024)}))
                    .unwrap()
            }
        }
    }
}

pub fn parquet_of(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    out
}

/// A Parquet file of the table's schema whose `id` column is `rows` zeros,
/// plain-encoded and zstd-compressed: tiny on the wire, `8 * rows` bytes
/// declared uncompressed.
pub fn bomb(rows: usize) -> Vec<u8> {
    use parquet::basic::{Compression, Encoding, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    let batch = RecordBatch::try_new(
        small_schema(),
        vec![
            Arc::new(Int64Array::from(vec![0i64; rows])),
            Arc::new(StringArray::from(vec![None::<&str>; rows])),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_encoding(Encoding::PLAIN)
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap()))
        .set_data_page_size_limit(8 << 20)
        .build();
    let mut out = Vec::new();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

fn ipc_of(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    out
}
