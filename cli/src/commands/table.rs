//! `meta table create|ls|show|drop`.

use batchmeta::model::{NamespaceName, NewTable, PartitionKey, TableIdent, parse_columns};
use batchmeta::{Code, Error, Result};
use serde_json::json;

use crate::args::TableCommand;
use crate::local;
use crate::output::views::TableView;
use crate::output::{Table, cell, time};
use crate::settings::Session;

pub(crate) async fn run(s: &Session, cmd: &TableCommand) -> Result<()> {
    match cmd {
        TableCommand::Create {
            table,
            columns,
            schema_from,
            schema_json,
            partition_by,
            description,
            owner,
        } => {
            let ident = TableIdent::parse(table)?;
            let mut keys_from_json = None;
            let schema = match (columns, schema_from, schema_json) {
                (Some(c), _, _) => parse_columns(c)?,
                (_, Some(f), _) => local::parquet_schema(f)?,
                (_, _, Some(f)) => {
                    let (schema, keys) = local::schema_json(f)?;
                    keys_from_json = keys;
                    schema
                }
                _ => {
                    return Err(Error::invalid(
                        Code::MissingSchema,
                        "a table needs columns; hint: pass --columns 'id:int64,price:float64', --schema-from FILE.parquet or --schema-json FILE.json",
                    ));
                }
            };
            let keys = match partition_by {
                Some(p) => p
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(PartitionKey::parse)
                    .collect::<Result<Vec<_>>>()?,
                None => keys_from_json.unwrap_or_default(),
            };
            // Partition keys live in paths, not in files: a schema taken from
            // a file that has the key columns drops them.
            let schema = local::without_columns(
                &schema,
                &keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
                columns.is_none(),
            );
            let new = NewTable {
                ident,
                schema,
                partition_keys: keys,
                description: description.clone(),
                owner: owner.clone(),
                properties: Default::default(),
            };
            let created = s.ms.create_table(&s.ctx, &new).await?;
            if s.out.json() {
                return s.out.value(&TableView::from(&created));
            }
            s.out.text(&format!("created table {}\n", created.ident))?;
            let example = if created.partition_keys.is_empty() {
                "''".to_owned()
            } else {
                created
                    .partition_keys
                    .iter()
                    .map(|k| format!("{}=VALUE", k.name))
                    .collect::<Vec<_>>()
                    .join("/")
            };
            s.out.note(&format!(
                "next: meta put {} {example} data.parquet",
                created.ident
            ));
            Ok(())
        }
        TableCommand::Ls { namespace } => {
            let namespaces = match namespace {
                Some(n) => vec![NamespaceName::new(n.as_str())?],
                None => {
                    s.ms.namespaces()
                        .await?
                        .into_iter()
                        .map(|n| n.name)
                        .collect()
                }
            };
            let mut tables = Vec::new();
            for n in &namespaces {
                tables.extend(s.ms.tables(n).await?);
            }
            if s.out.json() {
                let v: Vec<_> = tables.iter().map(TableView::from).collect();
                return s.out.value(&v);
            }
            let mut t = Table::new(&["TABLE", "PARTITION KEYS", "COLUMNS", "OWNER", "CREATED"]);
            for tb in &tables {
                t.row(vec![
                    tb.ident.to_string(),
                    keys_text(&tb.partition_keys),
                    tb.schema.fields().len().to_string(),
                    cell(tb.owner.as_ref()),
                    time::show(tb.created_at),
                ]);
            }
            s.out.table(
                &t,
                "no tables yet; create one with `meta table create NS.TABLE --columns 'id:int64'`",
            )
        }
        TableCommand::Show { table } => {
            let t = s.ms.table(&TableIdent::parse(table)?).await?;
            if s.out.json() {
                return s.out.value(&TableView::from(&t));
            }
            let mut text = format!(
                "table:           {}\npartition keys:  {}\nschema version:  {}\nlocation:        {}\ndescription:     {}\nowner:           {}\ncreated:         {}\n\n",
                t.ident,
                keys_text(&t.partition_keys),
                t.schema_version,
                t.location,
                cell(t.description.as_ref()),
                cell(t.owner.as_ref()),
                time::show(t.created_at),
            );
            let mut cols = Table::new(&["COLUMN", "TYPE", "NULLABLE"]);
            for f in t.schema.fields() {
                cols.row(vec![
                    f.name().clone(),
                    f.data_type().to_string(),
                    if f.is_nullable() { "yes" } else { "no" }.to_owned(),
                ]);
            }
            text.push_str(&cols.render());
            s.out.text(&text)
        }
        TableCommand::Set { table, retention } => {
            let ident = TableIdent::parse(table)?;
            let update = batchmeta::catalog::retention::parse_policy_update(retention)?;
            let t = s.ms.update_table(&s.ctx, &ident, &update).await?;
            if s.out.json() {
                return s.out.value(&TableView::from(&t));
            }
            s.out.text(&format!(
                "table {ident}: {}\n",
                retention_text(&t.properties)
            ))
        }
        TableCommand::Drop { table } => {
            let ident = TableIdent::parse(table)?;
            s.ms.drop_table(&s.ctx, &ident).await?;
            if s.out.json() {
                return s
                    .out
                    .value(&json!({ "table": ident.to_string(), "dropped": true }));
            }
            s.out.text(&format!("dropped table {ident}\n"))?;
            s.out
                .note("its data files and history stay; `meta audit --action drop_table` shows who dropped it");
            Ok(())
        }
    }
}

/// The retention properties, `keep_last=3, max_age=30d`, or `no retention policy`.
pub(crate) fn retention_text(p: &batchmeta::model::Properties) -> String {
    let set: Vec<String> = p
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("retention.")
                .map(|short| format!("{short}={v}"))
        })
        .collect();
    if set.is_empty() {
        "no retention policy".to_owned()
    } else {
        format!("retention {}", set.join(", "))
    }
}

/// `date:date, region:string`, or `-` for an unpartitioned table.
fn keys_text(keys: &[PartitionKey]) -> String {
    if keys.is_empty() {
        "-".to_owned()
    } else {
        keys.iter()
            .map(|k| format!("{}:{}", k.name, k.kind))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
