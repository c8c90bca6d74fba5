//! `meta pin create|ls|rm`: consumers' claims on batches.

use batchmeta::Result;
use batchmeta::metastore::PinRequest;
use batchmeta::model::{BatchId, PartitionSpec, PinName, PinTarget, TableIdent};
use serde_json::json;

use crate::args::PinCommand;
use crate::output::views::PinView;
use crate::output::{Table, cell, time};
use crate::settings::Session;

pub(crate) async fn run(s: &Session, cmd: &PinCommand) -> Result<()> {
    match cmd {
        PinCommand::Create {
            table,
            name,
            partition,
            batch,
            as_of,
            owner,
            reason,
            expires,
        } => {
            let ident = TableIdent::parse(table)?;
            let name = PinName::new(name.as_str())?;
            let req = PinRequest {
                partition: partition.as_deref().map(PartitionSpec::parse).transpose()?,
                batch: batch.as_deref().map(BatchId::parse).transpose()?,
                as_of: as_of.as_deref().map(time::parse_past).transpose()?,
                owner: Some(owner.clone().unwrap_or_else(|| s.ctx.principal.clone())),
                reason: reason.clone(),
                expires_at: expires.as_deref().map(time::parse_future).transpose()?,
            };
            let created = s.ms.pin_version(&s.ctx, &ident, name, &req).await?;
            if s.out.json() {
                return s.out.value(&PinView::from(&created));
            }
            let what = match &created.target {
                PinTarget::Batch { partition, batch } => format!("{partition} batch {batch}"),
                PinTarget::AsOf { at } => format!("as of {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
            };
            s.out
                .text(&format!("pinned {ident} {what} as {}\n", created.name))?;
            s.out.note(&format!(
                "readers use it with --pin {}; remove it with `meta pin rm {ident} {}`",
                created.name, created.name
            ));
            Ok(())
        }
        PinCommand::Ls { table } => {
            let ident = table.as_deref().map(TableIdent::parse).transpose()?;
            let pins = s.ms.pins(ident.as_ref()).await?;
            if s.out.json() {
                let v: Vec<_> = pins.iter().map(PinView::from).collect();
                return s.out.value(&v);
            }
            let mut t = Table::new(&[
                "TABLE",
                "NAME",
                "PARTITION",
                "BATCH",
                "OWNER",
                "REASON",
                "EXPIRES",
                "CREATED",
            ]);
            for p in &pins {
                let v = PinView::from(p);
                let partition = match (&v.partition, &v.as_of) {
                    (Some(p), _) => p.clone(),
                    (None, Some(at)) => format!("(as of {})", at.format("%Y-%m-%d %H:%M:%S UTC")),
                    _ => "-".to_owned(),
                };
                t.row(vec![
                    v.table,
                    v.name,
                    partition,
                    cell(v.batch),
                    cell(v.owner),
                    cell(v.reason),
                    cell(v.expires_at.map(|e| e.format("%Y-%m-%d %H:%M UTC"))),
                    time::show(p.created_at),
                ]);
            }
            s.out.table(
                &t,
                "no pins; create one with `meta pin create NS.TABLE NAME --partition PARTITION`",
            )
        }
        PinCommand::Rm { table, name } => {
            let ident = TableIdent::parse(table)?;
            let name = PinName::new(name.as_str())?;
            s.ms.delete_pin(&s.ctx, &ident, &name).await?;
            if s.out.json() {
                return s.out.value(&json!({
                    "table": ident.to_string(),
                    "name": name.to_string(),
                    "removed": true,
                }));
            }
            s.out.text(&format!("removed pin {name} from {ident}\n"))
        }
    }
}
