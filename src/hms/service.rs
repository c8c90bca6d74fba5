//! The `ThriftHiveMetastore` methods batchmeta answers, each one facade
//! call (or a page loop of one) and a reply. Reads resolve exactly as
//! [`Metastore::resolve`] does; writes answer a `MetaException` and change
//! nothing; any other method answers "unknown method".

use std::sync::Arc;
use std::time::Instant;

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

    // ---- databases -------------------------------------------------------

    fn db_location(&self, db: &str) -> String {
        storage::uri(self.ms.warehouse_url(), db)
    }

    async fn get_database(&self, args: &Fields) -> Outcome {
        let name = args.string(1).unwrap_or_default().to_lowercase();
        let ns = NamespaceName::new(&name).map_err(|_| no_db(&name))?;
        match self.ms.namespace(&ns).await {
            Ok(ns) => Ok(success_struct(|w| {
                mapping::namespace_database(w, &ns, &self.db_location(ns.name.as_str()));
            })),
            // Hive clients check for `default` on every connection.
            Err(e) if e.kind() == ErrorKind::NotFound && name == "default" => {
                Ok(success_struct(|w| {
                    mapping::default_database(w, self.ms.warehouse_url());
                }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Err(no_db(&name)),
            Err(e) => Err(e.into()),
        }
    }

    async fn database_names(&self) -> Result<Vec<String>, Fail> {
        let mut names: Vec<String> = self
            .ms
            .namespaces()
            .await?
            .into_iter()
            .map(|n| n.name.to_string())
            .collect();
        if !names.iter().any(|n| n == "default") {
            names.push("default".into());
            names.sort();
        }
        Ok(names)
    }

    async fn get_databases(&self, pattern: Option<&str>) -> Outcome {
        let names: Vec<String> = self
            .database_names()
            .await?
            .into_iter()
            .filter(|n| pattern.is_none_or(|p| pattern_matches(p, n)))
            .collect();
        Ok(strings_success(&names))
    }

    // ---- tables ----------------------------------------------------------

    /// The tables of `db` (none for a stand-in `default`).
    async fn db_tables(&self, db: &str) -> Result<Vec<Table>, Fail> {
        let db = db.to_lowercase();
        let ns = NamespaceName::new(&db).map_err(|_| no_db(&db))?;
        match self.ms.tables(&ns).await {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == ErrorKind::NotFound && db == "default" => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    async fn get_tables(&self, args: &Fields, pattern: Option<&str>, ty: Option<&str>) -> Outcome {
        let db = args.string(1).unwrap_or_default();
        let wanted_type =
            ty.is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("EXTERNAL_TABLE"));
        let names: Vec<String> = if wanted_type {
            self.db_tables(&db)
                .await?
                .into_iter()
                .map(|t| t.ident.name.to_string())
                .filter(|n| pattern.is_none_or(|p| pattern_matches(p, n)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(strings_success(&names))
    }

    async fn get_table_meta(&self, args: &Fields) -> Outcome {
        let db_pattern = args.string(1).unwrap_or_else(|| "*".into());
        let tbl_pattern = args.string(2).unwrap_or_else(|| "*".into());
        let types = args.strings(3).unwrap_or_default();
        let mut rows = Vec::new();
        if types.is_empty()
            || types
                .iter()
                .any(|t| t.eq_ignore_ascii_case("EXTERNAL_TABLE"))
        {
            for db in self.database_names().await? {
                if !pattern_matches(&db_pattern, &db) {
                    continue;
                }
                for t in self.db_tables(&db).await? {
                    if pattern_matches(&tbl_pattern, t.ident.name.as_str()) {
                        rows.push(t);
                    }
                }
            }
        }
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        w.list_begin(ttype::STRUCT, rows.len());
        for t in &rows {
            w.string_field(1, t.ident.namespace.as_str());
            w.string_field(2, t.ident.name.as_str());
            w.string_field(3, "EXTERNAL_TABLE");
            w.opt_string_field(4, t.description.as_deref());
            w.stop();
        }
        Ok(w)
    }

    /// Resolves a table name, virtual ones included.
    async fn table_ref(&self, db: &str, name: &str) -> Result<TableRef, Fail> {
        let db = db.to_lowercase();
        let asked = name.to_lowercase();
        let not_found = || Fail::not_found(format!("table {db}.{asked} not found"));
        let parsed = match VirtualTable::parse(&asked) {
            Ok(v) => v,
            Err(e) if asked.contains('@') => {
                return Err(Fail::not_found(format!(
                    "table {db}.{asked} not found: {e}"
                )));
            }
            Err(_) => return Err(not_found()),
        };
        let version = parsed.version;
        let ident = TableIdent::new(&db, parsed.table.as_str()).map_err(|_| not_found())?;
        let table = self.ms.table(&ident).await?;
        if let Version::Pin(p) = &version {
            // An unknown pin is an unknown (virtual) table.
            self.ms.pin(&ident, p).await?;
        }
        Ok(TableRef {
            db,
            name: asked,
            table,
            version,
        })
    }

    async fn args_table(&self, args: &Fields) -> Result<TableRef, Fail> {
        let db = args.string(1).unwrap_or_default();
        let name = args.string(2).unwrap_or_default();
        self.table_ref(&db, &name).await
    }

    /// The table's location: its prefix, or for an unpartitioned table the
    /// batch prefix it reads under the requested version.
    async fn table_location(&self, tr: &TableRef) -> Result<String, Fail> {
        if tr.table.partition_keys.is_empty() {
            let parts = self.resolved(tr).await?;
            if let Some(p) = parts.into_iter().next() {
                return Ok(p.location);
            }
        }
        Ok(storage::uri(self.ms.warehouse_url(), &tr.table.location))
    }

    async fn write_table(&self, w: &mut Writer, tr: &TableRef) -> Result<(), Fail> {
        let location = self.table_location(tr).await?;
        mapping::table(w, &tr.db, &tr.name, &tr.table, &location);
        Ok(())
    }

    async fn get_table(&self, args: &Fields, wrapped: bool) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut w = Writer::default();
        w.field(ttype::STRUCT, 0);
        if wrapped {
            w.field(ttype::STRUCT, 1);
        }
        self.write_table(&mut w, &tr).await?;
        if wrapped {
            w.stop();
        }
        Ok(w)
    }

    async fn table_objects(&self, args: &Fields, wrapped: bool) -> Outcome {
        let db = args.string(1).unwrap_or_default();
        let names = args.strings(2).unwrap_or_default();
        let mut found = Vec::new();
        for n in &names {
            match self.table_ref(&db, n).await {
                Ok(tr) => found.push(tr),
                Err(f) if f.prefer == NOT_FOUND => {}
                Err(f) => return Err(f),
            }
        }
        let mut w = Writer::default();
        if wrapped {
            w.field(ttype::STRUCT, 0);
            w.field(ttype::LIST, 1);
        } else {
            w.field(ttype::LIST, 0);
        }
        w.list_begin(ttype::STRUCT, found.len());
        for tr in &found {
            self.write_table(&mut w, tr).await?;
        }
        if wrapped {
            w.stop();
        }
        Ok(w)
    }

    async fn get_fields(&self, args: &Fields, with_keys: bool) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut cols = Writer::default();
        mapping::columns(&mut cols, &tr.table);
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        if with_keys {
            // Columns then keys in one list: rebuild the header with the sum.
            let n = tr.table.schema.fields().len() + tr.table.partition_keys.len();
            let mut keys = Writer::default();
            mapping::key_columns(&mut keys, &tr.table.partition_keys);
            w.list_begin(ttype::STRUCT, n);
            w.buf.extend_from_slice(&cols.buf[5..]);
            w.buf.extend_from_slice(&keys.buf[5..]);
        } else {
            w.buf.extend_from_slice(&cols.buf);
        }
        Ok(w)
    }

    // ---- partitions ------------------------------------------------------

    /// Every partition under the requested version, resolved through the
    /// facade (pins and as-of times), in partition order.
    async fn resolved(&self, tr: &TableRef) -> Result<Vec<Part>, Fail> {
        let req = ResolveRequest {
            partitions: None,
            version: tr.version.clone(),
        };
        let mut parts: Vec<Part> = self
            .ms
            .resolve(&tr.table.ident, &req)
            .await?
            .into_iter()
            .map(|r| Part {
                location: storage::uri(self.ms.warehouse_url(), &r.batch.location),
                updated: r.batch.committed_at.unwrap_or(r.batch.created_at),
                batch: r.batch.id.to_string(),
                values: r.partition,
            })
            .collect();
        parts.sort_by(|a, b| a.values.cmp(&b.values));
        Ok(parts)
    }

    /// The current partitions in `range` of the first key (all when
    /// `None`), a page at a time through the catalog's index.
    async fn listed(
        &self,
        tr: &TableRef,
        range: Option<&KeyRange>,
        out: &mut Vec<Part>,
    ) -> Result<(), Fail> {
        let mut cursor = None;
        loop {
            let q = PartitionQuery {
                prefix: None,
                from: range.and_then(|r| r.from.clone()),
                to: range.and_then(|r| r.to.clone()),
                cursor: cursor.take(),
                limit: Some(MAX_PAGE),
            };
            let page = self.ms.partitions(&tr.table.ident, &q).await?;
            for p in page.items {
                let loc = storage::batch_location(&tr.table.location, &p.partition, &p.current);
                out.push(Part {
                    location: storage::uri(self.ms.warehouse_url(), &loc),
                    updated: p.updated_at,
                    batch: p.current.to_string(),
                    values: p.partition,
                });
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    /// The partitions a selection picks, in partition order.
    async fn select(&self, tr: &TableRef, sel: &Select) -> Result<Vec<Part>, Fail> {
        let keys = &tr.table.partition_keys;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sel = sel.checked(keys)?;
        let mut parts = Vec::new();
        if tr.version == Version::Current {
            match sel.ranges(keys) {
                Some(ranges) => {
                    for r in &ranges {
                        self.listed(tr, Some(r), &mut parts).await?;
                    }
                }
                None => self.listed(tr, None, &mut parts).await?,
            }
        } else {
            parts = self.resolved(tr).await?;
        }
        parts.retain(|p| sel.matches(keys, &p.values));
        Ok(parts)
    }

    async fn partitions(&self, args: &Fields, sel: Select, max_id: i16) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut parts = self.select(&tr, &sel).await?;
        truncate(&mut parts, args, max_id);
        let mut w = Writer::default();
        w.field(ttype::LIST, 0);
        w.list_begin(ttype::STRUCT, parts.len());
        for p in &parts {
            mapping::partition(&mut w, &tr.db, &tr.name, &tr.table, p);
        }
        Ok(w)
    }

    async fn partition_names(&self, args: &Fields, sel: Select, max_id: i16) -> Outcome {
        let tr = self.args_table(args).await?;
        let mut parts = self.select(&tr, &sel).await?;
        truncate(&mut parts, args, max_id);
        let names: Vec<String> = parts.iter().map(|p| p.values.path()).collect();
        Ok(strings_success(&names))
    }

    async fn count_partitions(&self, args: &Fields, sel: Select) -> Outcome {
        let tr = self.args_table(args).await?;
        let n = self.select(&tr, &sel).await?.len();
        let mut w = Writer::default();
        w.i32_field(0, i32::try_from(n).unwrap_or(i32::MAX));
        Ok(w)
    }

    async fn one_partition(&self, args: &Fields, spec: PartitionSpec) -> Outcome {
        let tr = self.args_table(args).await?;
        let values = PartitionValues::resolve(&tr.table.partition_keys, &spec)?;
        let parts = self
            .select(&tr, &Select::Exact(vec![values.clone()]))
            .await?;
        let p = parts.into_iter().next().ok_or_else(|| {
            Fail::not_found(format!(
                "partition {} of {}.{} not found (never published, or not in this version)",
                values.path(),
                tr.db,
                tr.name
            ))
        })?;
        let mut w = Writer::default();
        w.field(ttype::STRUCT, 0);
        mapping::partition(&mut w, &tr.db, &tr.name, &tr.table, &p);
        Ok(w)
    }
}

/// Which partitions a call asks for.
#[derive(Debug)]
enum Select {
    All,
    Filter(Expr),
    /// Partition names, `k=v/k2=v2`.
    Names(Vec<String>),
    /// Leading values, `""` for any (`get_partitions_ps`).
    Values(Vec<String>),
    Exact(Vec<PartitionValues>),
}

impl Select {
    fn from_filter(e: Option<Expr>) -> Self {
        e.map_or(Select::All, Select::Filter)
    }

    /// Validates the selection against the keys; names become values.
    fn checked(&self, keys: &[crate::model::PartitionKey]) -> Result<Select, Fail> {
        Ok(match self {
            Select::All => Select::All,
            Select::Filter(e) => {
                e.check_keys(keys)?;
                Select::Filter(e.clone())
            }
            Select::Names(names) => Select::Exact(
                names
                    .iter()
                    // A name that does not parse names no partition.
                    .filter_map(|n| {
                        PartitionSpec::parse(n)
                            .and_then(|s| PartitionValues::resolve(keys, &s))
                            .ok()
                    })
                    .collect(),
            ),
            Select::Values(vals) => {
                if vals.len() > keys.len() {
                    return Err(Fail::meta(format!(
                        "{} partition values given; the table has {} keys",
                        vals.len(),
                        keys.len()
                    )));
                }
                Select::Values(vals.clone())
            }
            Select::Exact(v) => Select::Exact(v.clone()),
        })
    }

    /// First-key ranges that hold every match, for the catalog's index.
    fn ranges(&self, keys: &[crate::model::PartitionKey]) -> Option<Vec<KeyRange>> {
        match self {
            Select::All => None,
            Select::Filter(e) => e.first_key_ranges(keys),
            Select::Exact(vs) => {
                let mut firsts: Vec<String> = vs
                    .iter()
                    .filter_map(|v| v.values().next().map(str::to_owned))
                    .collect();
                firsts.sort();
                firsts.dedup();
                Some(
                    firsts
                        .into_iter()
                        .map(|v| KeyRange {
                            from: Some(v.clone()),
                            to: Some(v),
                        })
                        .collect(),
                )
            }
            Select::Values(vals) => {
                let first = vals.first().filter(|v| !v.is_empty())?;
                let spec = PartitionSpec::value(first.clone());
                let v = PartitionValues::resolve(&keys[..1], &spec).ok()?;
                let v = v.values().next()?.to_owned();
                Some(vec![KeyRange {
                    from: Some(v.clone()),
                    to: Some(v),
                }])
            }
            Select::Names(_) => None,
        }
    }

    fn matches(&self, keys: &[crate::model::PartitionKey], values: &PartitionValues) -> bool {
        match self {
            Select::All | Select::Names(_) => true,
            Select::Filter(e) => e.matches(keys, values),
            Select::Exact(vs) => vs.contains(values),
            Select::Values(vals) => {
                vals.iter()
                    .zip(keys)
                    .zip(values.values())
                    .all(|((want, k), got)| {
                        want.is_empty()
                            || PartitionValues::resolve(
                                std::slice::from_ref(k),
                                &PartitionSpec::value(want.clone()),
                            )
                            .ok()
                            .and_then(|c| c.values().next().map(|c| c == got))
                            .unwrap_or(want == got)
                    })
            }
        }
    }
}

fn parse_filter(args: &Fields) -> Result<Option<Expr>, Fail> {
    Ok(filter::parse(&args.string(3).unwrap_or_default())?)
}

fn truncate(parts: &mut Vec<Part>, args: &Fields, max_id: i16) {
    if max_id == 0 {
        return;
    }
    if let Some(max) = args.i64_of(max_id).filter(|m| *m >= 0) {
        parts.truncate(usize::try_from(max).unwrap_or(usize::MAX));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_reply_is_one_whole_message() {
        let m = Message {
            name: "get_database".into(),
            kind: codec::CALL,
            seq: 1,
            args: Fields::new(),
        };
        let body = success_struct(|w| {
            mapping::database(
                w,
                "default",
                Some("d"),
                "file:///w",
                Some(("ann", mapping::PrincipalType::User)),
                &[("k", "v")],
            );
        });
        let bytes = reply(&m, Ok(body));
        let mut r = codec::Reader::new(&bytes);
        let got = r.message().unwrap();
        // Nothing may be left over: the next reply would start mid-stream.
        assert_eq!(r.position(), bytes.len());
        let db = got.args.record(0).unwrap();
        assert_eq!(db.string(1).as_deref(), Some("default"));
        assert_eq!(db.string(3).as_deref(), Some("file:///w"));
        assert_eq!(db.string(6).as_deref(), Some("ann"));
    }

    #[test]
    fn writes_are_recognised_from_the_idl() {
        for m in [
            "create_table",
            "create_table_with_environment_context",
            "add_partitions_req",
            "drop_partition_with_environment_context",
            "alter_table",
            "drop_database",
            "alter_partitions",
        ] {
            assert!(is_write(m), "{m}");
        }
        for m in [
            "get_table",
            "get_partitions",
            "set_ugi",
            "lock",
            "create_nonsense",
        ] {
            assert!(!is_write(m), "{m}");
        }
    }

    #[test]
    fn virtual_names_are_the_models() {
        // Spark lowercases names: the `t` and `z` of a time come lowercase.
        let v = VirtualTable::parse("t@2016-11-01t00:00:00z").unwrap();
        let t = chrono::DateTime::parse_from_rfc3339("2016-11-01T00:00:00Z").unwrap();
        assert_eq!(v.version, Version::AsOf(t.with_timezone(&chrono::Utc)));
        assert!(VirtualTable::parse("t@no/slashes").is_err());
    }

    #[test]
    fn hive_patterns() {
        assert!(pattern_matches("*", "sales"));
        assert!(pattern_matches("sa*", "sales"));
        assert!(pattern_matches("*les", "sales"));
        assert!(pattern_matches("s*l*s", "sales"));
        assert!(pattern_matches("x|sales", "sales"));
        assert!(pattern_matches("SALES", "sales"));
        assert!(!pattern_matches("sa", "sales"));
        assert!(!pattern_matches("*x*", "sales"));
    }

    #[test]
    fn an_exception_goes_to_the_field_its_method_declares() {
        let m = Message {
            name: "get_table".into(),
            kind: codec::CALL,
            seq: 9,
            args: Fields::new(),
        };
        let bytes = reply(&m, Err(Fail::not_found("nope")));
        let got = codec::Reader::new(&bytes).message().unwrap();
        assert_eq!(got.kind, codec::REPLY);
        // get_table: 1 MetaException, 2 NoSuchObjectException.
        assert_eq!(
            got.args.record(2).and_then(|e| e.string(1)).as_deref(),
            Some("nope")
        );
        let m = Message {
            name: "get_partition_names".into(),
            ..m
        };
        let bytes = reply(&m, Err(Fail::not_found("nope")));
        let got = codec::Reader::new(&bytes).message().unwrap();
        // Only a MetaException (id 1) is declared.
        assert!(got.args.record(1).is_some());
        let m = Message {
            name: "get_config_value".into(),
            ..m
        };
        let bytes = reply(&m, Err(Fail::meta("x")));
        let got = codec::Reader::new(&bytes).message().unwrap();
        assert_eq!(got.kind, codec::EXCEPTION);
    }
}
