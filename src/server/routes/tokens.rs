//! API tokens. A global admin manages every token; a namespace admin only
//! tokens whose every grant is on namespaces it administers.

use axum::extract::State;
use axum::http::StatusCode;

use crate::Code;
use crate::model::{IssuedToken, NewToken, Token};
use crate::server::AppState;
use crate::server::auth::Authenticated;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json, Path, Query};

/// `GET /v1/tokens`.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListTokensParams {
    /// Also list revoked tokens.
    include_revoked: Option<bool>,
}

fn out_of_scope(what: &str) -> ApiError {
    ApiError::http(
        StatusCode::FORBIDDEN,
        Code::Forbidden,
        format!(
            "{what}: an admin of a namespace manages only tokens whose every role is on namespaces it administers; ask a global admin"
        ),
    )
}

/// Lists the tokens the caller administers (never their secrets).
#[utoipa::path(operation_id = "list_tokens", get, path = "/v1/tokens", tag = "tokens", params(ListTokensParams),
    responses((status = 200, body = Vec<Token>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    auth: Authenticated,
    Query(q): Query<ListTokensParams>,
) -> ApiResult<Json<Vec<Token>>> {
    let all = s.ms.list_tokens(q.include_revoked.unwrap_or(false)).await?;
    Ok(Json(
        all.into_iter()
            .filter(|t| auth.access.covers(&t.grants))
            .collect(),
    ))
}

/// Creates a token; the response holds its secret, shown this once.
#[utoipa::path(operation_id = "create_token", post, path = "/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = IssuedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(s): State<AppState>,
    auth: Authenticated,
    Caller(ctx): Caller,
    Json(body): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    body.validate()?;
    if !auth.access.covers(&body.grants) {
        return Err(out_of_scope("this token may not grant those roles"));
    }
    let issued = s.ms.issue_token(&ctx, &body).await?;
    tracing::info!(token = %issued.token.name, by = %ctx.principal, "token created");
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Revokes a token by name; it stops working at once.
#[utoipa::path(operation_id = "revoke_token", delete, path = "/v1/tokens/{name}", tag = "tokens",
    params(("name" = String, Path)),
    responses((status = 200, body = Token), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn revoke(
    State(s): State<AppState>,
    auth: Authenticated,
    Caller(ctx): Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Token>> {
    crate::model::check_token_name(&name)?;
    let live = s.ms.list_tokens(false).await?;
    if live
        .iter()
        .any(|t| t.name == name && !auth.access.covers(&t.grants))
    {
        return Err(out_of_scope("this token may not revoke that token"));
    }
    let revoked = s.ms.revoke_token(&ctx, &name).await?;
    tracing::info!(token = %revoked.name, by = %ctx.principal, "token revoked");
    Ok(Json(revoked))
}
