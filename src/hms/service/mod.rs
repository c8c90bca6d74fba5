//! The `ThriftHiveMetastore` methods batchmeta answers, each one facade
//! call (or a page loop of one) and a reply. Reads resolve exactly as
//! [`Metastore::resolve`] does; writes answer a `MetaException` and change
//! nothing; any other method answers "unknown method".

use std::sync::Arc;
use std::time::Instant;

mod partitions;
mod tables;

use partitions::{Select, parse_filter};
#[cfg(test)]
mod tests;

use super::codec::{self, Fields, FieldsExt, Message, Writer, app_error, ttype};
use super::filter::{self, Expr, KeyRange};
use super::idl;
use super::mapping::{self, Part};
use crate::error::{Error, ErrorKind};
use crate::model::{
    MAX_PAGE, NamespaceName, PartitionQuery, PartitionSpec, PartitionValues, Table, TableIdent,
    Version, VirtualTable,
};
use crate::server::Metrics;
use crate::{Metastore, ResolveRequest, storage};

/// The text every refused write carries: what to do instead.
pub(crate) const READ_ONLY: &str = "batchmeta serves the Hive Metastore API read-only and changed nothing. \
Write with batchmeta instead: bm.store_dataframe(df, \"<db>\", \"<table>\", partitions=[...]) in Python, \
or `meta put <db>.<table> <partition> FILE` on the command line (a new batch per write; roll back with `meta rollback`)";

/// Metadata-writing methods: they are refused with a `MetaException`.
fn is_write(method: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "create_",
        "drop_",
        "alter_",
        "add_",
        "append_",
        "exchange_",
        "rename_",
        "update_",
        "delete_",
        "grant_",
        "revoke_",
        "set_aggr_",
        "setMetaConf",
        "markPartitionForEvent",
    ];
    PREFIXES.iter().any(|p| method.starts_with(p))
        && idl::exception_id(method, "MetaException").is_some()
}

/// Why a call failed, as the exception its method declares.
#[derive(Debug)]
struct Fail {
    /// Preferred exceptions, best first; `MetaException` is the fallback.
    prefer: &'static [&'static str],
    message: String,
}

const NOT_FOUND: &[&str] = &[
    "NoSuchObjectException",
    "UnknownTableException",
    "UnknownDBException",
];

impl Fail {
    fn meta(message: impl Into<String>) -> Self {
        Self {
            prefer: &[],
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self {
            prefer: NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Fail::not_found(e.to_string()),
            // Internals stay out of replies (as for HTTP 5xx).
            ErrorKind::Internal => {
                tracing::error!(error = %e, "hms call failed");
                Fail::meta("internal error in batchmeta; see the server log")
            }
            _ => Fail::meta(e.to_string()),
        }
    }
}

type Outcome = Result<Writer, Fail>;

/// A table as a client named it: `t`, `t@<pin>` or `t@<ISO time>`.
#[derive(Debug)]
struct TableRef {
    db: String,
    /// The name as asked (kept in replies, so virtual tables stay virtual).
    name: String,
    table: Table,
    version: Version,
}

/// The Thrift edge's handle on the facade.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) ms: Metastore,
    pub(crate) metrics: Arc<Metrics>,
}

impl Service {
    /// Answers one call; `None` for a oneway call.
    pub(crate) async fn call(&self, m: &Message) -> Option<Vec<u8>> {
        let start = Instant::now();
        let (reply, outcome) = self.answer(m).await;
        let label = if outcome == "unknown_method" {
            "unknown"
        } else {
            m.name.as_str()
        };
        self.metrics.hms_call(label, outcome, start.elapsed());
        if m.kind == codec::ONEWAY {
            return None;
        }
        Some(reply)
    }

    async fn answer(&self, m: &Message) -> (Vec<u8>, &'static str) {
        if is_write(&m.name) {
            let msg = format!("{}: {READ_ONLY}", m.name);
            return (reply(m, Err(Fail::meta(msg))), "refused");
        }
        let out = match m.name.as_str() {
            "set_ugi" => Ok(set_ugi(&m.args)),
            "get_config_value" => Ok(config_value(&m.args)),
            "get_database" => self.get_database(&m.args).await,
            "get_databases" => self.get_databases(m.args.string(1).as_deref()).await,
            "get_all_databases" => self.get_databases(None).await,
            "get_tables" => {
                self.get_tables(&m.args, m.args.string(2).as_deref(), None)
                    .await
            }
            "get_tables_by_type" => {
                let ty = m.args.string(3);
                self.get_tables(&m.args, m.args.string(2).as_deref(), ty.as_deref())
                    .await
            }
            "get_all_tables" => self.get_tables(&m.args, None, None).await,
            "get_table_meta" => self.get_table_meta(&m.args).await,
            "get_table" => self.get_table(&m.args, false).await,
            "get_table_req" => match m.args.record(1) {
                Some(req) => self.get_table(req, true).await,
                None => Err(Fail::meta("get_table_req needs a request")),
            },
            "get_table_objects_by_name" => self.table_objects(&m.args, false).await,
            "get_table_objects_by_name_req" => match m.args.record(1) {
                Some(req) => self.table_objects(req, true).await,
                None => Err(Fail::meta("get_table_objects_by_name_req needs a request")),
            },
            "get_fields" | "get_fields_with_environment_context" => {
                self.get_fields(&m.args, false).await
            }
            "get_schema" | "get_schema_with_environment_context" => {
                self.get_fields(&m.args, true).await
            }
            "get_partitions" | "get_partitions_with_auth" => {
                self.partitions(&m.args, Select::All, 3).await
            }
            "get_partition_names" => self.partition_names(&m.args, Select::All, 3).await,
            "get_partitions_ps" | "get_partitions_ps_with_auth" => {
                let vals = m.args.strings(3).unwrap_or_default();
                self.partitions(&m.args, Select::Values(vals), 4).await
            }
            "get_partition_names_ps" => {
                let vals = m.args.strings(3).unwrap_or_default();
                self.partition_names(&m.args, Select::Values(vals), 4).await
            }
            "get_partitions_by_filter" => match parse_filter(&m.args) {
                Ok(e) => self.partitions(&m.args, Select::from_filter(e), 4).await,
                Err(f) => Err(f),
            },
            "get_num_partitions_by_filter" => match parse_filter(&m.args) {
                Ok(e) => self.count_partitions(&m.args, Select::from_filter(e)).await,
                Err(f) => Err(f),
            },
            "get_partitions_by_names" => {
                let names = m.args.strings(3).unwrap_or_default();
                self.partitions(&m.args, Select::Names(names), 0).await
            }
            "get_partition" | "get_partition_with_auth" => {
                let vals = m.args.strings(3).unwrap_or_default();
                self.one_partition(&m.args, PartitionSpec::Positional(vals))
                    .await
            }
            "get_partition_by_name" => {
                match PartitionSpec::parse(&m.args.string(3).unwrap_or_default()) {
                    Ok(spec) => self.one_partition(&m.args, spec).await,
                    Err(e) => Err(e.into()),
                }
            }
            "partition_name_to_vals" => partition_name(&m.args, false),
            "partition_name_to_spec" => partition_name(&m.args, true),
            // Statistics: none are kept; engines then plan without them.
            "get_table_statistics_req" => Ok(empty_struct_list(0, 1)),
            "get_partitions_statistics_req" => Ok(success_struct(|w| {
                w.field(ttype::MAP, 1);
                w.map_begin(ttype::STRING, ttype::LIST, 0);
            })),
            "get_aggr_stats_for" => Ok(success_struct(|w| {
                w.field(ttype::LIST, 1);
                w.list_begin(ttype::STRUCT, 0);
                w.field(ttype::I64, 2);
                w.i64(0);
            })),
            // A Hive metastore without statistics answers no result at all
            // (its clients raise MISSING_RESULT): the same here.
            "get_table_column_statistics" | "get_partition_column_statistics" => {
                Ok(Writer::default())
            }
            "get_all_functions" => Ok(empty_struct_list(0, 1)),
            "get_functions" => Ok(strings_success(&[] as &[&str])),
            "get_primary_keys" | "get_foreign_keys" => Ok(empty_struct_list(0, 1)),
            _ => {
                let msg = format!("Invalid method name: '{}'", m.name);
                return (
                    codec::application_exception(&m.name, m.seq, app_error::UNKNOWN_METHOD, &msg),
                    "unknown_method",
                );
            }
        };
        let outcome = if out.is_ok() { "ok" } else { "exception" };
        (reply(m, out), outcome)
    }
}

fn no_db(name: &str) -> Fail {
    Fail::not_found(format!("database {name} not found"))
}

/// Hive name patterns: `*` for any run, `|` between alternatives,
/// case-insensitive.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|alt| {
        let alt = alt.trim().to_lowercase();
        let name = name.to_lowercase();
        let pieces: Vec<&str> = alt.split('*').collect();
        if pieces.len() == 1 {
            return alt == name;
        }
        let mut rest = name.as_str();
        for (i, piece) in pieces.iter().enumerate() {
            if i == 0 {
                match rest.strip_prefix(piece) {
                    Some(r) => rest = r,
                    None => return false,
                }
            } else if i == pieces.len() - 1 {
                return rest.ends_with(piece);
            } else {
                match rest.find(piece) {
                    Some(at) => rest = &rest[at + piece.len()..],
                    None => return false,
                }
            }
        }
        true
    })
}

fn set_ugi(args: &Fields) -> Writer {
    let groups = args.strings(2).unwrap_or_default();
    strings_success(&groups)
}

fn config_value(args: &Fields) -> Writer {
    let mut w = Writer::default();
    w.string_field(0, &args.string(2).unwrap_or_default());
    w
}

fn partition_name(args: &Fields, as_map: bool) -> Outcome {
    let name = args.string(1).unwrap_or_default();
    let pairs = match PartitionSpec::parse(&name)? {
        PartitionSpec::Named(p) => p,
        PartitionSpec::Positional(_) => {
            return Err(Fail::meta(format!(
                "invalid partition name {name:?}: write key=value pairs joined by '/'"
            )));
        }
    };
    let mut w = Writer::default();
    if as_map {
        w.string_map_field(0, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    } else {
        let vals: Vec<&str> = pairs.iter().map(|(_, v)| v.as_str()).collect();
        w.strings_field(0, &vals);
    }
    Ok(w)
}

fn strings_success<S: AsRef<str>>(items: &[S]) -> Writer {
    let mut w = Writer::default();
    w.strings_field(0, items);
    w
}

/// A success struct whose fields `body` writes.
fn success_struct(body: impl FnOnce(&mut Writer)) -> Writer {
    let mut w = Writer::default();
    w.field(ttype::STRUCT, 0);
    body(&mut w);
    w.stop();
    w
}

/// A struct in field `id` holding an empty `list<struct>` in field `list_id`.
fn empty_struct_list(id: i16, list_id: i16) -> Writer {
    let mut w = Writer::default();
    w.field(ttype::STRUCT, id);
    w.field(ttype::LIST, list_id);
    w.list_begin(ttype::STRUCT, 0);
    w.stop();
    w
}

/// The REPLY message for an outcome: the success field or the declared
/// exception, or a TApplicationException when the method declares none.
fn reply(m: &Message, out: Outcome) -> Vec<u8> {
    match out {
        Ok(body) => {
            let mut w = Writer::default();
            w.message_begin(&m.name, codec::REPLY, m.seq);
            w.buf.extend_from_slice(&body.buf);
            w.stop();
            w.buf
        }
        Err(f) => {
            let declared = f
                .prefer
                .iter()
                .chain(std::iter::once(&"MetaException"))
                .find_map(|e| idl::exception_id(&m.name, e));
            match declared {
                Some(id) => {
                    let mut w = Writer::default();
                    w.message_begin(&m.name, codec::REPLY, m.seq);
                    w.field(ttype::STRUCT, id);
                    w.string_field(1, &f.message);
                    w.stop();
                    w.stop();
                    w.buf
                }
                None => codec::application_exception(
                    &m.name,
                    m.seq,
                    app_error::INTERNAL_ERROR,
                    &f.message,
                ),
            }
        }
    }
}
