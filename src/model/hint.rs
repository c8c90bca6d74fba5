//! What to do after an error, worded once for every edge.
//!
//! The core knows *what* the user should do next ("list the namespace's
//! tables"); only the edge knows *how* its users do it (`meta table ls
//! sales`, `bm.tables("sales")`, `GET /v1/namespaces/sales/tables`). A
//! [`Hint`] carries the what, and [`Hint::render`] words it for an [`Edge`].
//! Over HTTP a hint travels as this structure too (beside the message worded
//! for HTTP), so the remote client can word it again for the CLI or Python.

use serde::{Deserialize, Serialize};

/// Where an error is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The Rust library (the `Metastore` facade).
    Rust,
    /// The `meta` command line.
    Cli,
    /// The Python package (`import batchmeta as bm`).
    Python,
    /// The HTTP API.
    Http,
    /// The R package (`library(batchmeta)`); hints name `batchmeta::` calls,
    /// which work whether or not the package is attached.
    R,
}

/// The next step after an error, independent of the edge that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Hint {
    /// See which namespaces exist, or create one.
    ListNamespaces,
    /// A namespace is created on purpose; a close existing name may be meant.
    CreateNamespace {
        /// The missing namespace.
        namespace: String,
        /// An existing namespace with a close name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        did_you_mean: Option<String>,
    },
    /// See the tables of a namespace.
    ListTables {
        /// The namespace.
        namespace: String,
    },
    /// See a table's published partitions.
    ListPartitions {
        /// The namespace.
        namespace: String,
        /// The table.
        table: String,
    },
    /// See a partition's batches and pointer moves.
    History {
        /// The namespace.
        namespace: String,
        /// The table.
        table: String,
        /// The partition (`key=value/...`), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition: Option<String>,
    },
    /// Roll back to a batch picked from the partition's history.
    RollbackTo {
        /// The namespace.
        namespace: String,
        /// The table.
        table: String,
        /// The partition (`key=value/...`).
        partition: String,
    },
    /// See a table's pins.
    ListPins {
        /// The namespace.
        namespace: String,
        /// The table.
        table: String,
    },
    /// See the live tokens.
    ListTokens,
    /// Another writer won: look at the current batch, then retry expecting it.
    ExpectCurrent {
        /// The partition's current batch; none when it was never published.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_batch: Option<String>,
    },
    /// Words every edge says alike, or that only one edge ever says.
    Text {
        /// The hint.
        text: String,
    },
    /// The name is taken.
    NameTaken,
    /// How names are written.
    NameRules,
    /// How a partition is written.
    PartitionSyntax,
    /// Our bug or the environment's fault.
    Internal,
    /// A dependency is down or refuses writes: check it, then retry.
    Unavailable {
        /// Which one (`catalog database`, `object store`).
        dependency: String,
    },
    /// A disk or quota is full: free space, then retry.
    FreeSpace,
    /// A pin needs a target: a partition's batch or a time.
    PinTarget,
    /// A write into a table that does not exist names no partition keys,
    /// so it cannot create the table.
    FirstWrite,
    /// The data's columns differ from the table's: compare, or merge new ones.
    SchemaMerge {
        /// The namespace.
        namespace: String,
        /// The table.
        table: String,
    },
}

impl Hint {
    /// The hint as the users of `edge` act on it.
    pub fn render(&self, edge: Edge) -> String {
        use Edge::{Cli, Http, Python, R, Rust};
        match self {
            Hint::ListNamespaces => match edge {
                Cli => "list namespaces with `meta ns ls`, or create one with `meta ns create NAME`"
                    .into(),
                Python => "list namespaces with `bm.namespaces()`, or create one with `bm.create_namespace(\"NAME\")`".into(),
                Http => "list namespaces with GET /v1/namespaces, or create one with POST /v1/namespaces".into(),
                Rust => "list namespaces with `Metastore::namespaces`, or create one with `Metastore::create_namespace`".into(),
                R => "list namespaces with `batchmeta::namespaces()`, or create one with `batchmeta::create_namespace(\"NAME\")`".into(),
            },
            Hint::CreateNamespace {
                namespace,
                did_you_mean,
            } => {
                let create = match edge {
                    Cli => format!("`meta ns create {namespace}`"),
                    Python => format!("`bm.create_namespace(\"{namespace}\")`"),
                    Http => format!("POST /v1/namespaces {{\"name\": \"{namespace}\"}}"),
                    Rust => "`Metastore::create_namespace`".into(),
                    R => format!("`batchmeta::create_namespace(\"{namespace}\")`"),
                };
                match did_you_mean {
                    Some(c) => format!(
                        "did you mean `{c}`? a new namespace is created on purpose, with {create}"
                    ),
                    None => format!("create it first with {create}"),
                }
            }
            Hint::ListTables { namespace } => match edge {
                Cli => format!("list the tables with `meta table ls {namespace}`"),
                Python => format!("list the tables with `bm.tables(\"{namespace}\")`"),
                Http => format!("list the tables with GET /v1/namespaces/{namespace}/tables"),
                Rust => format!("list the tables with `Metastore::tables(\"{namespace}\")`"),
                R => format!("list the tables with `batchmeta::tables(\"{namespace}\")`"),
            },
            Hint::ListPartitions { namespace, table } => {
                let how = match edge {
                    Cli => format!("`meta partitions {namespace}.{table}`"),
                    Python => format!("`bm.partitions(\"{namespace}\", \"{table}\")`"),
                    Http => format!("GET /v1/namespaces/{namespace}/tables/{table}/partitions"),
                    Rust => "`Metastore::partitions`".into(),
                    R => format!("`batchmeta::partitions(\"{namespace}\", \"{table}\")`"),
                };
                format!("list the table's published partitions with {how}")
            }
            Hint::History {
                namespace,
                table,
                partition,
            } => format!(
                "see the partition's batches with {}",
                history(edge, namespace, table, partition.as_deref())
            ),
            Hint::RollbackTo {
                namespace,
                table,
                partition,
            } => {
                let to = match edge {
                    Cli => "pass --to BATCH",
                    Python => "pass `to=\"BATCH\"`",
                    Http => "send `\"to\": \"BATCH\"`",
                    Rust => "set `RollbackRequest::to`",
                    R => "pass `to = \"BATCH\"`",
                };
                format!(
                    "{to}, a batch from {}",
                    history(edge, namespace, table, Some(partition))
                )
            }
            Hint::ListPins { namespace, table } => match edge {
                Cli => format!("list pins with `meta pin ls {namespace}.{table}`"),
                Python => format!("list pins with `bm.pins(\"{namespace}\", \"{table}\")`"),
                Http => format!("list pins with GET /v1/namespaces/{namespace}/tables/{table}/pins"),
                Rust => "list pins with `Metastore::pins`".into(),
                R => format!("list pins with `batchmeta::pins(\"{namespace}\", \"{table}\")`"),
            },
            Hint::ListTokens => match edge {
                Cli | Python | R => "list live tokens with `meta token ls`".into(),
                Http => "list live tokens with GET /v1/tokens".into(),
                Rust => "list live tokens with `Metastore::tokens`".into(),
            },
            Hint::ExpectCurrent { current_batch } => {
                let expect = match (edge, current_batch) {
                    (Cli, Some(c)) => format!("--expect {c}"),
                    (Cli, None) => "--expect none".into(),
                    (Python, Some(c)) => format!("`expected_batch=\"{c}\"`"),
                    (Python, None) => "`expected_batch=bm.NO_BATCH`".into(),
                    (Http, Some(c)) => format!("`\"expected_batch\": \"{c}\"`"),
                    (Http, None) => "`\"expected_batch\": \"none\"`".into(),
                    (Rust, Some(c)) => format!("`Expect::Batch({c})`"),
                    (Rust, None) => "`Expect::Empty`".into(),
                    (R, Some(c)) => format!("`expected_batch = \"{c}\"`"),
                    (R, None) => "`expected_batch = batchmeta::NO_BATCH`".into(),
                };
                match current_batch {
                    Some(c) => format!(
                        "the current batch is {c}; look at it first, then retry with {expect}"
                    ),
                    None => format!("the partition has no current batch; retry with {expect}"),
                }
            }
            Hint::Text { text } => text.clone(),
            Hint::NameTaken => "pick another name, or use the existing one".into(),
            Hint::NameRules => match edge {
                Cli => "names are lowercase letters, digits and '_', starting with a letter; a table is NS.TABLE, e.g. sales.sold_items".into(),
                Python | Http | Rust | R => "names are lowercase letters, digits and '_', starting with a letter, e.g. sales and sold_items".into(),
            },
            Hint::PartitionSyntax => match edge {
                Cli => "write a partition as key=value joined by '/', e.g. date=2016-10-31; see the table's keys with `meta table show NS.TABLE`".into(),
                Python => "give a partition as its value (\"2016-10-31\"), a tuple, a dict ({\"date\": \"2016-10-31\"}) or key=value joined by '/'; see the table's keys with `bm.table(db, table)`".into(),
                Http => "write a partition as key=value joined by '/', e.g. date=2016-10-31 (percent-encoded in a query string); see the table's keys with GET /v1/namespaces/{namespace}/tables/{table}".into(),
                Rust => "write a partition as key=value joined by '/', e.g. date=2016-10-31; see the table's keys with `Metastore::table`".into(),
                R => "give a partition as its value (\"2016-10-31\"), a named list (list(date = \"2016-10-31\")) or key=value joined by '/'; see the table's keys with `batchmeta::table_info(namespace, table)`".into(),
            },
            Hint::Internal => match edge {
                Cli => "this is a bug or a problem with the environment (disk, network, database); rerun with BATCHMETA_LOG=debug and report it if it persists".into(),
                Http => "the server logged it with this request's id (x-request-id); retry, and report it with that id if it persists".into(),
                Python | Rust | R => "this is a bug or a problem with the environment (disk, network, database); report it if it persists".into(),
            },
            Hint::Unavailable { dependency } => match edge {
                Cli => format!(
                    "check that the {dependency} runs and is reachable (the url given to `meta serve` or --database-url / --warehouse), then run the command again; batchmeta reconnects by itself"
                ),
                Python => format!(
                    "check that the {dependency} runs and is reachable, then call again (a `bm.Client` of a server retries this by itself for a few seconds first)"
                ),
                Http => format!(
                    "the {dependency} is down or refuses writes; retry after the seconds in the Retry-After header; GET /readyz answers 200 once the server can serve again"
                ),
                Rust => format!(
                    "check that the {dependency} runs and is reachable, then retry; the pool reconnects by itself"
                ),
                R => format!(
                    "check that the {dependency} runs and is reachable, then call again (a `batchmeta::connect(url)` client of a server retries this by itself for a few seconds first)"
                ),
            },
            Hint::FreeSpace => "free space (or raise the quota) where the catalog and the warehouse live, then retry; the failed write left nothing published".into(),
            Hint::FirstWrite => match edge {
                Python => "a first write creates the table when it can name the partition keys: pass partitions=[{\"date\": \"2016-10-31\"}] or partition_by=[\"date\"], or call bm.create_table() first".into(),
                R => "a first write creates the table when it can name the partition keys: pass partitions = list(date = \"2016-10-31\") or partition_by = \"date\", or create the table first".into(),
                Cli => "create it first with `meta table create NS.TABLE --columns ... --partition-by ...`".into(),
                Http => "create it first with POST /v1/namespaces/{namespace}/tables".into(),
                Rust => "create it with `Metastore::create_table`, or name the partition keys so that the first write creates it".into(),
            },
            Hint::PinTarget => match edge {
                Cli => "pass --partition PARTITION (its current batch, or --batch BATCH) or --as-of TIME for the whole table".into(),
                Python => "pass `bm.pin(..., partition=\"date=2016-10-31\")` (its current batch, or add batch_id=\"...\") or as_of=\"2d\" for the whole table".into(),
                R => "pass `batchmeta::pin(..., partition = \"date=2016-10-31\")` (its current batch, or add batch_id = \"...\") or as_of = \"2d\" for the whole table".into(),
                Http => "POST /v1/namespaces/{namespace}/tables/{table}/pins with a target: {\"batch\": {\"partition\": ..., \"batch\": ...}} or {\"as_of\": {\"at\": ...}}".into(),
                Rust => "give `PinRequest::partition` (and `batch`) or `as_of`".into(),
            },
            Hint::SchemaMerge { namespace, table } => match edge {
                Cli => format!(
                    "compare with `meta table show {namespace}.{table}`, or pass --schema-mode merge to add new columns"
                ),
                Python => format!(
                    "compare with `bm.table(\"{namespace}\", \"{table}\")`, or pass `schema_mode=\"merge\"` to add new columns"
                ),
                Http => format!(
                    "compare with GET /v1/namespaces/{namespace}/tables/{table}, or send `\"schema_mode\": \"merge\"` to add new columns"
                ),
                Rust => "compare with `Metastore::table`, or write with `SchemaMode::Merge` to add new columns".into(),
                R => format!(
                    "compare with `batchmeta::table_info(\"{namespace}\", \"{table}\")`, or pass `schema_mode = \"merge\"` to add new columns"
                ),
            },
        }
    }
}

/// How an edge lists a partition's history.
fn history(edge: Edge, namespace: &str, table: &str, partition: Option<&str>) -> String {
    match (edge, partition) {
        (Edge::Cli, Some(p)) => format!("`meta history {namespace}.{table} {p}`"),
        (Edge::Cli, None) => format!("`meta history {namespace}.{table} PARTITION`"),
        (Edge::Python, Some(p)) => format!("`bm.history(\"{namespace}\", \"{table}\", \"{p}\")`"),
        (Edge::Python, None) => format!("`bm.history(\"{namespace}\", \"{table}\", PARTITION)`"),
        (Edge::Http, Some(p)) => format!(
            "GET /v1/namespaces/{namespace}/tables/{table}/history?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("partition", p)
                .finish()
        ),
        (Edge::Http, None) => {
            format!("GET /v1/namespaces/{namespace}/tables/{table}/history?partition=PARTITION")
        }
        (Edge::Rust, _) => "`Metastore::history`".into(),
        (Edge::R, Some(p)) => {
            format!("`batchmeta::history(\"{namespace}\", \"{table}\", \"{p}\")`")
        }
        (Edge::R, None) => format!("`batchmeta::history(\"{namespace}\", \"{table}\", PARTITION)`"),
    }
}

/// One hint of every kind (a new kind must be added here: the `match`
/// does not compile without it), for the tests of every edge.
#[cfg(test)]
pub(crate) fn samples() -> Vec<Hint> {
    let s = |v: &str| v.to_owned();
    let all = vec![
        Hint::ListNamespaces,
        Hint::CreateNamespace {
            namespace: s("slaes"),
            did_you_mean: Some(s("sales")),
        },
        Hint::ListTables {
            namespace: s("sales"),
        },
        Hint::ListPartitions {
            namespace: s("sales"),
            table: s("sold_items"),
        },
        Hint::History {
            namespace: s("sales"),
            table: s("sold_items"),
            partition: Some(s("date=2016-10-31")),
        },
        Hint::RollbackTo {
            namespace: s("sales"),
            table: s("sold_items"),
            partition: s("date=2016-10-31"),
        },
        Hint::ListPins {
            namespace: s("sales"),
            table: s("sold_items"),
        },
        Hint::ListTokens,
        Hint::ExpectCurrent {
            current_batch: Some(s("20161102234252000000")),
        },
        Hint::SchemaMerge {
            namespace: s("sales"),
            table: s("sold_items"),
        },
        Hint::Text { text: s("retry") },
        Hint::NameTaken,
        Hint::NameRules,
        Hint::PartitionSyntax,
        Hint::Internal,
        Hint::Unavailable {
            dependency: s("catalog database"),
        },
        Hint::FreeSpace,
        Hint::PinTarget,
        Hint::FirstWrite,
    ];
    for h in &all {
        match h {
            Hint::ListNamespaces
            | Hint::CreateNamespace { .. }
            | Hint::ListTables { .. }
            | Hint::ListPartitions { .. }
            | Hint::History { .. }
            | Hint::RollbackTo { .. }
            | Hint::ListPins { .. }
            | Hint::ListTokens
            | Hint::ExpectCurrent { .. }
            | Hint::SchemaMerge { .. }
            | Hint::Text { .. }
            | Hint::NameTaken
            | Hint::NameRules
            | Hint::PartitionSyntax
            | Hint::Internal
            | Hint::Unavailable { .. }
            | Hint::FreeSpace
            | Hint::PinTarget
            | Hint::FirstWrite => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDGES: [Edge; 5] = [Edge::Rust, Edge::Cli, Edge::Python, Edge::Http, Edge::R];

    #[test]
    fn each_edge_names_only_its_own_tools() {
        // The hints that name a tool (the rest read alike everywhere).
        let tools = samples().into_iter().filter(|h| {
            !matches!(
                h,
                Hint::Text { .. }
                    | Hint::NameTaken
                    | Hint::NameRules
                    | Hint::Internal
                    | Hint::FreeSpace
                    | Hint::ListTokens
            )
        });
        for h in tools {
            for edge in EDGES {
                let text = h.render(edge);
                let cli = text.contains("meta ") || text.contains("--");
                let python = text.contains("bm.") || text.contains("=\"");
                let http =
                    text.contains("/v1/") || text.contains("`\"") || text.contains("Retry-After");
                let r = text.contains("batchmeta::") || text.contains(" = \"");
                assert_eq!(cli, edge == Edge::Cli, "{edge:?}: {text}");
                assert_eq!(r, edge == Edge::R, "{edge:?}: {text}");
                assert_eq!(python, edge == Edge::Python, "{edge:?}: {text}");
                assert_eq!(http, edge == Edge::Http, "{edge:?}: {text}");
            }
        }
    }

    #[test]
    fn r_hints_name_r_calls() {
        let create = Hint::CreateNamespace {
            namespace: "slaes".into(),
            did_you_mean: Some("sales".into()),
        };
        assert_eq!(
            create.render(Edge::R),
            "did you mean `sales`? a new namespace is created on purpose, with `batchmeta::create_namespace(\"slaes\")`"
        );
        let never = Hint::ExpectCurrent {
            current_batch: None,
        };
        assert_eq!(
            never.render(Edge::R),
            "the partition has no current batch; retry with `expected_batch = batchmeta::NO_BATCH`"
        );
        let history = Hint::RollbackTo {
            namespace: "sales".into(),
            table: "sold_items".into(),
            partition: "date=2016-10-31".into(),
        };
        assert_eq!(
            history.render(Edge::R),
            "pass `to = \"BATCH\"`, a batch from `batchmeta::history(\"sales\", \"sold_items\", \"date=2016-10-31\")`"
        );
        // R has no `bm.` and no `base::table` clash: tables are shown with table_info().
        for h in samples() {
            let text = h.render(Edge::R);
            assert!(!text.contains("bm."), "{text}");
            assert!(!text.contains("batchmeta::table("), "{text}");
        }
    }

    #[test]
    fn hints_travel_as_tagged_objects() {
        let h = Hint::CreateNamespace {
            namespace: "slaes".into(),
            did_you_mean: Some("sales".into()),
        };
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "create_namespace", "namespace": "slaes", "did_you_mean": "sales"})
        );
        assert_eq!(serde_json::from_value::<Hint>(json).unwrap(), h);
    }
}
