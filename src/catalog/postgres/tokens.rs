//! API tokens (hashes only).

use async_trait::async_trait;
use sqlx::types::Json;

use super::PostgresCatalog;
use super::statements as sql;
use crate::catalog::row::{self, micros};
use crate::catalog::{TokenStore, Tokens, errors, tokens};
use crate::error::{Object, Result};
use crate::model::{Context, IssuedToken, NewToken, StoredToken, Token};

#[async_trait]
impl Tokens for PostgresCatalog {
    async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken> {
        tokens::issue(self, ctx, new).await
    }

    async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        let statement = if include_revoked {
            sql::TOKENS
        } else {
            sql::LIVE_TOKENS
        };
        sqlx::query(statement)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| row::token(r).map(|s| s.token))
            .collect()
    }

    async fn revoke_token(&self, _ctx: &Context, name: &str) -> Result<Token> {
        let r = sqlx::query(sql::REVOKE_TOKEN)
            .bind(micros(self.now()))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| errors::token_not_found(name))?;
        Ok(row::token(&r)?.token)
    }
}

#[async_trait]
impl TokenStore for PostgresCatalog {
    async fn create_token(&self, t: &StoredToken) -> Result<Token> {
        let now = micros(self.now());
        let inserted = sqlx::query(sql::INSERT_TOKEN)
            .bind(&t.token.id)
            .bind(&t.token.name)
            .bind(&t.secret_hash)
            .bind(Json(&t.token.grants))
            .bind(now)
            .bind(&t.token.created_by)
            .bind(t.token.expires_at.map(micros))
            .execute(&self.pool)
            .await?;
        if inserted.rows_affected() == 0 {
            return Err(errors::already_exists(Object::Token, t.token.name.clone()));
        }
        Ok(Token {
            created_at: now,
            revoked_at: None,
            expires_at: t.token.expires_at.map(micros),
            ..t.token.clone()
        })
    }

    async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        sqlx::query(sql::TOKEN)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| row::token(&r))
            .transpose()
    }
}
