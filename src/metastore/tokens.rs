//! API tokens through the facade: edges issue, list and revoke them, and the
//! server's authentication looks them up, without holding the catalog.

use super::Metastore;
use crate::error::Result;
use crate::model::{Context, IssuedToken, NewToken, StoredToken, Token};

impl Metastore {
    /// Mints a token (its secret is shown once, in the result). Remote: the
    /// server mints it.
    pub async fn issue_token(&self, ctx: &Context, new: &NewToken) -> Result<IssuedToken> {
        self.catalog.issue_token(ctx, new).await
    }

    /// Tokens by name; revoked ones too when `include_revoked`.
    pub async fn list_tokens(&self, include_revoked: bool) -> Result<Vec<Token>> {
        self.catalog.list_tokens(include_revoked).await
    }

    /// Revokes the live token of this name (`token_not_found` if none).
    pub async fn revoke_token(&self, ctx: &Context, name: &str) -> Result<Token> {
        self.catalog.revoke_token(ctx, name).await
    }

    /// The stored token with this public id, for authentication; refused
    /// where the hashes are not kept (a remote catalog).
    pub async fn token_by_id(&self, id: &str) -> Result<Option<StoredToken>> {
        self.catalog.token_by_id(id).await
    }
}
