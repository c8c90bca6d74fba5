//! The Thrift binary protocol, by hand: message headers, a generic value
//! reader (arguments arrive as field id → [`Value`]; unknown fields are
//! kept or skipped, never an error) and a writer for replies.
//!
//! Reading works on a complete buffer and says [`Decode::Incomplete`] when
//! more bytes are needed, so one decoder serves framed and unframed
//! transports: the connection keeps reading until a message parses.

use std::collections::BTreeMap;

/// Thrift type ids of the binary protocol.
pub(crate) mod ttype {
    pub(crate) const STOP: u8 = 0;
    pub(crate) const BOOL: u8 = 2;
    pub(crate) const BYTE: u8 = 3;
    pub(crate) const DOUBLE: u8 = 4;
    pub(crate) const I16: u8 = 6;
    pub(crate) const I32: u8 = 8;
    pub(crate) const I64: u8 = 10;
    pub(crate) const STRING: u8 = 11;
    pub(crate) const STRUCT: u8 = 12;
    pub(crate) const MAP: u8 = 13;
    pub(crate) const SET: u8 = 14;
    pub(crate) const LIST: u8 = 15;
}

/// Message types.
pub(crate) const CALL: u8 = 1;
pub(crate) const REPLY: u8 = 2;
pub(crate) const EXCEPTION: u8 = 3;
pub(crate) const ONEWAY: u8 = 4;

const VERSION_1: u32 = 0x8001_0000;
/// Deepest nesting of structs and containers accepted in a request.
const MAX_DEPTH: usize = 32;

/// Why a buffer did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decode {
    /// The message continues past the end of the buffer.
    Incomplete,
    /// The bytes are not a Thrift binary message.
    Invalid(String),
}

type DResult<T> = std::result::Result<T, Decode>;

fn invalid<T>(why: impl Into<String>) -> DResult<T> {
    Err(Decode::Invalid(why.into()))
}

/// A decoded Thrift value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    Byte(i8),
    Double(f64),
    I16(i16),
    I32(i32),
    I64(i64),
    Binary(Vec<u8>),
    Struct(Fields),
    Map(Vec<(Value, Value)>),
    List(Vec<Value>),
}

/// A struct's fields by id.
pub(crate) type Fields = BTreeMap<i16, Value>;

/// A message header and its argument struct.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub(crate) name: String,
    pub(crate) kind: u8,
    pub(crate) seq: i32,
    pub(crate) args: Fields,
}

/// A cursor over a complete buffer.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> DResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(Decode::Incomplete)?;
        let s = self.buf.get(self.pos..end).ok_or(Decode::Incomplete)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> DResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> DResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn i16(&mut self) -> DResult<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> DResult<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> DResult<i64> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// A length prefix, checked against what a buffer can hold.
    fn len(&mut self, what: &str) -> DResult<usize> {
        let n = self.i32()?;
        usize::try_from(n).or_else(|_| invalid(format!("negative {what} length {n}")))
    }

    fn binary(&mut self) -> DResult<Vec<u8>> {
        let n = self.len("string")?;
        Ok(self.take(n)?.to_vec())
    }

    /// A message: strict version-1 header, then the argument struct.
    pub(crate) fn message(&mut self) -> DResult<Message> {
        let word = self.i32()? as u32;
        if word & 0xffff_0000 != VERSION_1 {
            return invalid(format!(
                "not a Thrift binary protocol message (header {word:#010x}); this port speaks the Hive Metastore Thrift API"
            ));
        }
        let kind = (word & 0xff) as u8;
        let name = self.binary()?;
        let name = String::from_utf8(name).or_else(|_| invalid("method name is not UTF-8"))?;
        let seq = self.i32()?;
        let args = self.fields(0)?;
        Ok(Message {
            name,
            kind,
            seq,
            args,
        })
    }

    /// A struct's fields up to its STOP.
    fn fields(&mut self, depth: usize) -> DResult<Fields> {
        if depth > MAX_DEPTH {
            return invalid("nesting too deep");
        }
        let mut out = Fields::new();
        loop {
            let t = self.u8()?;
            if t == ttype::STOP {
                return Ok(out);
            }
            let id = self.i16()?;
            let v = self.value(t, depth + 1)?;
            out.insert(id, v);
        }
    }

    fn value(&mut self, t: u8, depth: usize) -> DResult<Value> {
        if depth > MAX_DEPTH {
            return invalid("nesting too deep");
        }
        Ok(match t {
            ttype::BOOL => Value::Bool(self.u8()? != 0),
            ttype::BYTE => Value::Byte(self.u8()? as i8),
            ttype::DOUBLE => Value::Double(f64::from_bits(self.i64()? as u64)),
            ttype::I16 => Value::I16(self.i16()?),
            ttype::I32 => Value::I32(self.i32()?),
            ttype::I64 => Value::I64(self.i64()?),
            ttype::STRING => Value::Binary(self.binary()?),
            ttype::STRUCT => Value::Struct(self.fields(depth)?),
            ttype::MAP => {
                let k = self.u8()?;
                let v = self.u8()?;
                let n = self.len("map")?;
                // Each entry takes at least one byte: a count beyond the
                // buffer is a lie or a partial message, not an allocation.
                self.need(n)?;
                let mut out = Vec::new();
                for _ in 0..n {
                    out.push((self.value(k, depth + 1)?, self.value(v, depth + 1)?));
                }
                Value::Map(out)
            }
            ttype::LIST | ttype::SET => {
                let e = self.u8()?;
                let n = self.len("list")?;
                self.need(n)?;
                let mut out = Vec::new();
                for _ in 0..n {
                    out.push(self.value(e, depth + 1)?);
                }
                Value::List(out)
            }
            other => return invalid(format!("unknown Thrift type id {other}")),
        })
    }

    fn need(&self, n: usize) -> DResult<()> {
        if self.buf.len() - self.pos < n {
            Err(Decode::Incomplete)
        } else {
            Ok(())
        }
    }
}

/// Accessors on argument structs. A missing or mistyped field reads as
/// absent; handlers decide whether that is an error.
pub(crate) trait FieldsExt {
    fn string(&self, id: i16) -> Option<String>;
    fn i64_of(&self, id: i16) -> Option<i64>;
    fn strings(&self, id: i16) -> Option<Vec<String>>;
    fn record(&self, id: i16) -> Option<&Fields>;
}

impl FieldsExt for Fields {
    fn string(&self, id: i16) -> Option<String> {
        match self.get(&id) {
            Some(Value::Binary(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    fn i64_of(&self, id: i16) -> Option<i64> {
        match self.get(&id) {
            Some(Value::Byte(v)) => Some(i64::from(*v)),
            Some(Value::I16(v)) => Some(i64::from(*v)),
            Some(Value::I32(v)) => Some(i64::from(*v)),
            Some(Value::I64(v)) => Some(*v),
            _ => None,
        }
    }

    fn strings(&self, id: i16) -> Option<Vec<String>> {
        match self.get(&id) {
            Some(Value::List(items)) => Some(
                items
                    .iter()
                    .map(|v| match v {
                        Value::Binary(b) => String::from_utf8_lossy(b).into_owned(),
                        _ => String::new(),
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    fn record(&self, id: i16) -> Option<&Fields> {
        match self.get(&id) {
            Some(Value::Struct(f)) => Some(f),
            _ => None,
        }
    }
}

/// Writes binary-protocol bytes.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn message_begin(&mut self, name: &str, kind: u8, seq: i32) {
        self.i32((VERSION_1 | u32::from(kind)) as i32);
        self.string(name);
        self.i32(seq);
    }

    pub(crate) fn field(&mut self, t: u8, id: i16) {
        self.buf.push(t);
        self.buf.extend_from_slice(&id.to_be_bytes());
    }

    pub(crate) fn stop(&mut self) {
        self.buf.push(ttype::STOP);
    }

    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    pub(crate) fn string(&mut self, s: &str) {
        // Strings here are names and paths: far below 2 GiB.
        self.i32(s.len() as i32);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn list_begin(&mut self, elem: u8, n: usize) {
        self.buf.push(elem);
        self.i32(n as i32);
    }

    pub(crate) fn map_begin(&mut self, k: u8, v: u8, n: usize) {
        self.buf.push(k);
        self.buf.push(v);
        self.i32(n as i32);
    }

    /// A string field.
    pub(crate) fn string_field(&mut self, id: i16, s: &str) {
        self.field(ttype::STRING, id);
        self.string(s);
    }

    /// An optional string field (absent when `None`).
    pub(crate) fn opt_string_field(&mut self, id: i16, s: Option<&str>) {
        if let Some(s) = s {
            self.string_field(id, s);
        }
    }

    pub(crate) fn i32_field(&mut self, id: i16, v: i32) {
        self.field(ttype::I32, id);
        self.i32(v);
    }

    pub(crate) fn bool_field(&mut self, id: i16, v: bool) {
        self.field(ttype::BOOL, id);
        self.bool(v);
    }

    /// A `list<string>` field.
    pub(crate) fn strings_field<S: AsRef<str>>(&mut self, id: i16, items: &[S]) {
        self.field(ttype::LIST, id);
        self.strings(items);
    }

    pub(crate) fn strings<S: AsRef<str>>(&mut self, items: &[S]) {
        self.list_begin(ttype::STRING, items.len());
        for s in items {
            self.string(s.as_ref());
        }
    }

    /// A `map<string,string>` field.
    pub(crate) fn string_map_field<'a>(
        &mut self,
        id: i16,
        entries: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    ) {
        self.field(ttype::MAP, id);
        self.map_begin(ttype::STRING, ttype::STRING, entries.len());
        for (k, v) in entries {
            self.string(k);
            self.string(v);
        }
    }
}

/// TApplicationException type codes.
pub(crate) mod app_error {
    pub(crate) const UNKNOWN_METHOD: i32 = 1;
    pub(crate) const INVALID_MESSAGE_TYPE: i32 = 2;
    pub(crate) const INTERNAL_ERROR: i32 = 6;
    pub(crate) const PROTOCOL_ERROR: i32 = 7;
}

/// A whole EXCEPTION message carrying a TApplicationException.
pub(crate) fn application_exception(name: &str, seq: i32, code: i32, message: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.message_begin(name, EXCEPTION, seq);
    w.string_field(1, message);
    w.i32_field(2, code);
    w.stop();
    w.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, body: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::default();
        w.message_begin(name, CALL, 7);
        body(&mut w);
        w.stop();
        w.buf
    }

    #[test]
    fn a_call_round_trips() {
        let bytes = call("get_table", |w| {
            w.string_field(1, "sales");
            w.string_field(2, "sold_items");
            w.strings_field(3, &["a", "b"]);
            w.string_map_field(4, [("k", "v")].into_iter());
            w.field(ttype::STRUCT, 5);
            w.i32_field(1, -3);
            w.bool_field(2, true);
            w.stop();
        });
        let mut r = Reader::new(&bytes);
        let m = r.message().unwrap();
        assert_eq!(r.position(), bytes.len());
        assert_eq!(m.name, "get_table");
        assert_eq!((m.kind, m.seq), (CALL, 7));
        assert_eq!(m.args.string(1).as_deref(), Some("sales"));
        assert_eq!(m.args.string(2).as_deref(), Some("sold_items"));
        assert_eq!(m.args.strings(3), Some(vec!["a".into(), "b".into()]));
        let inner = m.args.record(5).unwrap();
        assert_eq!(inner.i64_of(1), Some(-3));
        assert_eq!(inner.get(&2), Some(&Value::Bool(true)));
        // A mistyped field reads as absent.
        assert_eq!(m.args.string(5), None);
    }

    #[test]
    fn every_prefix_of_a_message_is_incomplete() {
        let bytes = call("get_partitions", |w| {
            w.string_field(1, "db");
            w.strings_field(3, &["x", "y"]);
        });
        for n in 0..bytes.len() {
            assert_eq!(
                Reader::new(&bytes[..n]).message(),
                Err(Decode::Incomplete),
                "prefix of {n} bytes"
            );
        }
    }

    #[test]
    fn garbage_is_invalid_not_incomplete() {
        let e = Reader::new(b"GET / HTTP/1.1\r\n\r\n")
            .message()
            .unwrap_err();
        assert!(matches!(e, Decode::Invalid(m) if m.contains("not a Thrift")));
        // A negative string length.
        let mut w = Writer::default();
        w.message_begin("x", CALL, 1);
        w.field(ttype::STRING, 1);
        w.i32(-5);
        assert!(matches!(
            Reader::new(&w.buf).message(),
            Err(Decode::Invalid(_))
        ));
        // An unknown type id.
        let mut w = Writer::default();
        w.message_begin("x", CALL, 1);
        w.field(99, 1);
        assert!(matches!(
            Reader::new(&w.buf).message(),
            Err(Decode::Invalid(m)) if m.contains("type id 99")
        ));
    }

    #[test]
    fn a_huge_list_count_does_not_allocate() {
        let mut w = Writer::default();
        w.message_begin("x", CALL, 1);
        w.field(ttype::LIST, 1);
        w.list_begin(ttype::STRUCT, i32::MAX as usize);
        assert_eq!(Reader::new(&w.buf).message(), Err(Decode::Incomplete));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut w = Writer::default();
        w.message_begin("x", CALL, 1);
        for _ in 0..100 {
            w.field(ttype::STRUCT, 1);
        }
        for _ in 0..101 {
            w.stop();
        }
        assert!(matches!(
            Reader::new(&w.buf).message(),
            Err(Decode::Invalid(m)) if m.contains("deep")
        ));
    }

    #[test]
    fn application_exceptions_are_well_formed() {
        let bytes = application_exception(
            "nope",
            3,
            app_error::UNKNOWN_METHOD,
            "invalid method name: 'nope'",
        );
        let m = Reader::new(&bytes).message().unwrap();
        assert_eq!((m.kind, m.seq, m.name.as_str()), (EXCEPTION, 3, "nope"));
        assert_eq!(m.args.i64_of(2), Some(1));
        assert_eq!(
            m.args.string(1).as_deref(),
            Some("invalid method name: 'nope'")
        );
    }
}
