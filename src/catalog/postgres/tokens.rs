//! API tokens (hashes only).

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use super::PostgresCatalog;
use super::rows::{json_col, micros};
use crate::error::{Error, Object, Result};
use crate::model::{StoredToken, Token};

const COLUMNS: &str =
    "id, name, secret_hash, grants, created_at, created_by, expires_at, revoked_at";

fn from_row(row: &PgRow) -> Result<StoredToken> {
    Ok(StoredToken {
        token: Token {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            grants: json_col(row, "grants")?,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
            expires_at: row.try_get::<Option<DateTime<Utc>>, _>("expires_at")?,
            revoked_at: row.try_get::<Option<DateTime<Utc>>, _>("revoked_at")?,
        },
        secret_hash: row.try_get("secret_hash")?,
    })
}

impl PostgresCatalog {
    pub(super) async fn create_token_impl(&self, t: &StoredToken) -> Result<Token> {
        let now = micros(self.now());
        let inserted = sqlx::query(
            "INSERT INTO tokens (id, name, secret_hash, grants, created_at, created_by, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
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
            return Err(Error::AlreadyExists {
                object: Object::Token,
                name: t.token.name.clone(),
            });
        }
        Ok(Token {
            created_at: now,
            revoked_at: None,
            expires_at: t.token.expires_at.map(micros),
            ..t.token.clone()
        })
    }

    pub(super) async fn token_by_id_impl(&self, id: &str) -> Result<Option<StoredToken>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()
    }

    pub(super) async fn list_tokens_impl(&self, include_revoked: bool) -> Result<Vec<Token>> {
        let filter = if include_revoked {
            ""
        } else {
            "WHERE revoked_at IS NULL"
        };
        let sql = format!("SELECT {COLUMNS} FROM tokens {filter} ORDER BY name, created_at");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| from_row(r).map(|s| s.token))
            .collect()
    }

    pub(super) async fn revoke_token_impl(&self, name: &str) -> Result<Token> {
        let sql = format!(
            "UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(micros(self.now()))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| crate::catalog::rules::token_not_found(name))?;
        Ok(from_row(&row)?.token)
    }
}
