//! `meta token create|ls|revoke`: the API tokens of `meta serve --auth tokens`.
//!
//! Embedded (no --url, or a database URL) this manages the catalog's tokens
//! directly, as the operator who holds the database; with a server URL it
//! asks the server, with the caller's own token.

use batchmeta::Result;
use batchmeta::model::{Grant, NewToken, Token};

use crate::args::TokenCommand;
use crate::output::{Table, cell, time};
use crate::settings::Session;

fn grants(t: &Token) -> String {
    t.grants
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) async fn run(s: &Session, cmd: &TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create {
            name,
            roles,
            expires,
        } => {
            let new = NewToken {
                name: name.clone(),
                grants: roles
                    .iter()
                    .map(|r| Grant::parse(r))
                    .collect::<Result<_>>()?,
                expires_at: expires.as_deref().map(time::parse_future).transpose()?,
            };
            let issued = s.ms.issue_token(&s.ctx, &new).await?;
            if s.out.json() {
                return s.out.value(&issued);
            }
            // The secret alone on stdout, so that TOKEN=$(meta token create ...) works.
            s.out.text(&format!("{}\n", issued.secret.expose()))?;
            s.out.note(&format!(
                "created token {} ({}); this is the only time its secret is shown: store it now, then use it with BATCHMETA_TOKEN=... or --token",
                issued.token.name,
                grants(&issued.token)
            ));
            Ok(())
        }
        TokenCommand::Ls { all } => {
            let tokens = s.ms.list_tokens(*all).await?;
            if s.out.json() {
                return s.out.value(&tokens);
            }
            let mut t = Table::new(&["NAME", "ID", "ROLES", "CREATED", "BY", "EXPIRES", "REVOKED"]);
            for tok in &tokens {
                t.row(vec![
                    tok.name.clone(),
                    tok.id.clone(),
                    grants(tok),
                    time::show(tok.created_at),
                    tok.created_by.clone(),
                    cell(tok.expires_at.map(time::show)),
                    cell(tok.revoked_at.map(time::show)),
                ]);
            }
            s.out.table(
                &t,
                "no tokens; create one with `meta token create NAME --role admin`",
            )
        }
        TokenCommand::Revoke { name } => {
            batchmeta::model::check_token_name(name)?;
            let revoked = s.ms.revoke_token(&s.ctx, name).await?;
            if s.out.json() {
                return s.out.value(&revoked);
            }
            s.out.text(&format!("revoked token {}\n", revoked.name))
        }
    }
}
