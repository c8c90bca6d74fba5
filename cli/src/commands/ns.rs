//! `meta ns create|ls|show`.

use batchmeta::Result;
use batchmeta::model::{NamespaceName, NewNamespace};
use serde_json::json;

use crate::args::NsCommand;
use crate::output::views::{NamespaceView, TableView};
use crate::output::{Table, cell, time};
use crate::settings::Session;

pub(crate) async fn run(s: &Session, cmd: &NsCommand) -> Result<()> {
    match cmd {
        NsCommand::Create {
            name,
            description,
            owner,
        } => {
            let ns = NewNamespace {
                name: NamespaceName::new(name.as_str())?,
                description: description.clone(),
                owner: owner.clone(),
                properties: Default::default(),
            };
            let created = s.ms.create_namespace(&s.ctx, &ns).await?;
            if s.out.json() {
                s.out.value(&NamespaceView::from(&created))
            } else {
                s.out
                    .text(&format!("created namespace {}\n", created.name))?;
                s.out.note(&format!(
                    "next: meta table create {}.TABLE --columns 'id:int64,price:float64'",
                    created.name
                ));
                Ok(())
            }
        }
        NsCommand::Ls => {
            let all = s.ms.namespaces().await?;
            if s.out.json() {
                let v: Vec<_> = all.iter().map(NamespaceView::from).collect();
                return s.out.value(&v);
            }
            let mut t = Table::new(&["NAME", "OWNER", "DESCRIPTION", "CREATED"]);
            for n in &all {
                t.row(vec![
                    n.name.to_string(),
                    cell(n.owner.as_ref()),
                    cell(n.description.as_ref()),
                    time::show(n.created_at),
                ]);
            }
            s.out.table(
                &t,
                "no namespaces yet; create one with `meta ns create NAME`",
            )
        }
        NsCommand::Show { name } => {
            let name = NamespaceName::new(name.as_str())?;
            let ns = s.ms.namespace(&name).await?;
            let tables = s.ms.tables(&name).await?;
            if s.out.json() {
                let mut v = serde_json::to_value(NamespaceView::from(&ns))
                    .map_err(|e| batchmeta::Error::Internal(e.to_string()))?;
                v["tables"] = json!(
                    tables
                        .iter()
                        .map(|t| TableView::from(t).table)
                        .collect::<Vec<_>>()
                );
                return s.out.value(&v);
            }
            let mut text = format!(
                "namespace:    {}\ndescription:  {}\nowner:        {}\ncreated:      {}\n",
                ns.name,
                cell(ns.description.as_ref()),
                cell(ns.owner.as_ref()),
                time::show(ns.created_at)
            );
            text.push_str(&format!("tables:       {}\n", tables.len()));
            for t in &tables {
                text.push_str(&format!("  {}\n", t.ident));
            }
            s.out.text(&text)
        }
        NsCommand::Set { name, retention } => {
            let name = NamespaceName::new(name.as_str())?;
            let update = batchmeta::catalog::retention::parse_policy_update(retention)?;
            let ns = s.ms.update_namespace(&s.ctx, &name, &update).await?;
            if s.out.json() {
                return s.out.value(&NamespaceView::from(&ns));
            }
            s.out.text(&format!(
                "namespace {name} (the default of its tables): {}\n",
                crate::commands::table::retention_text(&ns.properties)
            ))
        }
    }
}
