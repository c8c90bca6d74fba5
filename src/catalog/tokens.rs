//! API tokens, behind their own small traits split from [`Catalog`]:
//! [`Tokens`] is what an edge administers (a remote catalog asks the
//! server), [`TokenStore`] where the hashes live, for authentication (only
//! a catalog that holds the database has one).
//!
//! [`Catalog`]: super::Catalog

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{Context, IssuedToken, NewToken, StoredToken, Token};

/// Issuing, listing and revoking tokens.
#[async_trait]
pub trait Tokens: Send + Sync + std::fmt::Debug {
    /// Mints a token, stores its hash and returns it with its secret (shown
    /// once). A remote catalog asks the server, which mints it.
    async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken>;
    /// Lists tokens by name; revoked ones too when `include_revoked`.
    async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>>;
    /// Revokes the live token of this name (`token_not_found` if none).
    async fn revoke_token(&self, ctx: &Context, name: &str) -> Result<Token>;
}

/// Where token hashes are kept.
#[async_trait]
pub trait TokenStore: Tokens {
    /// Stores a token the facade minted (only its secret's hash). The
    /// catalog's clock sets `created_at`; a live token of the same name is
    /// `token_exists`.
    async fn create_token(&self, token: &StoredToken) -> Result<Token>;
    /// The token with this public id, for authentication.
    async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>>;
}

/// [`Tokens::issue_token`] of a store: mints the token and stores its hash.
pub(crate) async fn issue(
    store: &dyn TokenStore,
    ctx: &Context,
    new: &NewToken,
) -> Result<IssuedToken> {
    new.validate()?;
    let minted = crate::auth::mint()?;
    let token = store
        .create_token(&StoredToken {
            token: Token {
                id: minted.id,
                name: new.name.clone(),
                grants: new.grants.clone(),
                created_at: chrono::Utc::now(),
                created_by: ctx.principal.clone(),
                expires_at: new.expires_at,
                revoked_at: None,
            },
            secret_hash: minted.secret_hash,
        })
        .await?;
    Ok(IssuedToken {
        token,
        secret: minted.bearer,
    })
}

/// The token calls on a catalog, so that its callers need not tell its
/// parts apart: [`Catalog::tokens`] and [`Catalog::token_store`].
///
/// [`Catalog::tokens`]: super::Catalog::tokens
/// [`Catalog::token_store`]: super::Catalog::token_store
impl dyn super::Catalog + '_ {
    /// See [`Tokens::issue_token`].
    pub async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken> {
        self.tokens().issue_token(ctx, new).await
    }
    /// See [`Tokens::list_tokens`].
    pub async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        self.tokens().list_tokens(include_revoked).await
    }
    /// See [`Tokens::revoke_token`].
    pub async fn revoke_token(&self, ctx: &Context, name: &str) -> Result<Token> {
        self.tokens().revoke_token(ctx, name).await
    }
    /// See [`TokenStore::create_token`]; refused where the hashes are not kept.
    pub async fn create_token(&self, token: &StoredToken) -> Result<Token> {
        self.store()?.create_token(token).await
    }
    /// See [`TokenStore::token_by_id`]; refused where the hashes are not kept.
    pub async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.store()?.token_by_id(id).await
    }

    fn store(&self) -> Result<&dyn TokenStore> {
        self.token_store()
            .ok_or_else(super::errors::tokens_stay_on_the_server)
    }
}
