//! API tokens (hashes only).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteCatalog;
use super::rows::{from_json, micros, time, to_json};
use crate::error::{Error, Object, Result};
use crate::model::{StoredToken, Token};

const COLUMNS: &str =
    "id, name, secret_hash, grants, created_at, created_by, expires_at, revoked_at";

fn from_row(row: &SqliteRow) -> Result<StoredToken> {
    Ok(StoredToken {
        token: Token {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            grants: from_json(&row.try_get::<String, _>("grants")?)?,
            created_at: time(row.try_get("created_at")?),
            created_by: row.try_get("created_by")?,
            expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(time),
            revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(time),
        },
        secret_hash: row.try_get("secret_hash")?,
    })
}

impl SqliteCatalog {
    pub(super) async fn create_token_impl(&self, t: &StoredToken) -> Result<Token> {
        let mut w = self.write().await?;
        let now = self.now();
        let inserted = sqlx::query(
            "INSERT INTO tokens (id, name, secret_hash, grants, created_at, created_by, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(&t.token.id)
        .bind(&t.token.name)
        .bind(&t.secret_hash)
        .bind(to_json(&t.token.grants)?)
        .bind(micros(now))
        .bind(&t.token.created_by)
        .bind(t.token.expires_at.map(micros))
        .execute(&mut *w.tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::AlreadyExists {
                object: Object::Token,
                name: t.token.name.clone(),
            });
        }
        w.tx.commit().await?;
        Ok(Token {
            created_at: time(micros(now)),
            revoked_at: None,
            ..t.token.clone()
        })
    }

    pub(super) async fn token_by_id_impl(&self, id: &str) -> Result<Option<StoredToken>> {
        let sql = format!("SELECT {COLUMNS} FROM tokens WHERE id = ?");
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
        let mut w = self.write().await?;
        let sql = format!(
            "UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(micros(self.now()))
            .bind(name)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| crate::catalog::rules::token_not_found(name))?;
        let out = from_row(&row)?.token;
        w.tx.commit().await?;
        Ok(out)
    }
}
