//! API tokens (hashes only).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::SqliteCatalog;
use super::connect::{Durability, Tx};
use super::rows::{micros, time};
use super::statements as sql;
use crate::catalog::row::{self, to_json};
use crate::catalog::{TokenStore, Tokens, errors, tokens};
use crate::error::{Object, Result};
use crate::model::{Context, IssuedToken, NewToken, StoredToken, Token};

impl Tx<'_> {
    pub(super) fn create_token(&self, now: DateTime<Utc>, t: &StoredToken) -> Result<Token> {
        let inserted = self.run(
            sql::INSERT_TOKEN,
            (
                &t.token.id,
                &t.token.name,
                &t.secret_hash,
                to_json(&t.token.grants)?,
                micros(now),
                &t.token.created_by,
                t.token.expires_at.map(micros),
            ),
        )?;
        if inserted == 0 {
            return Err(errors::already_exists(Object::Token, t.token.name.clone()));
        }
        Ok(Token {
            created_at: time(micros(now)),
            revoked_at: None,
            ..t.token.clone()
        })
    }

    pub(super) fn token(&self, id: &str) -> Result<Option<StoredToken>> {
        self.first(sql::TOKEN, [id], |r| row::token(r))
    }

    pub(super) fn tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        let statement = if include_revoked {
            sql::TOKENS
        } else {
            sql::LIVE_TOKENS
        };
        self.all(statement, [], |r| Ok(row::token(r)?.token))
    }

    pub(super) fn revoke_token(&self, now: DateTime<Utc>, name: &str) -> Result<Token> {
        self.first(sql::REVOKE_TOKEN, (micros(now), name), |r| {
            Ok(row::token(r)?.token)
        })?
        .ok_or_else(|| errors::token_not_found(name))
    }
}

#[async_trait]
impl Tokens for SqliteCatalog {
    async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken> {
        tokens::issue(self, ctx, new).await
    }
    async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        self.conns.read(|r| r.tokens(include_revoked))
    }
    async fn revoke_token(&self, _ctx: &Context, name: &str) -> Result<Token> {
        self.write(Durability::Full, |w| w.revoke_token(self.now(), name))
            .await
    }
}

#[async_trait]
impl TokenStore for SqliteCatalog {
    async fn create_token(&self, token: &StoredToken) -> Result<Token> {
        self.write(Durability::Full, |w| w.create_token(self.now(), token))
            .await
    }
    async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.conns.read(|r| r.token(id))
    }
}
