//! Health, readiness, metrics and configuration.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::Code;
use crate::api::ServerInfo;
use crate::server::AppState;
use crate::server::error::{ApiError, ErrorBody, RETRY_AFTER_SECS};
use crate::server::extract::Json;

/// The process is up.
#[utoipa::path(operation_id = "healthz", get, path = "/healthz", tag = "system", responses((status = 200, body = String)))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// The database and the warehouse are reachable. Answers within a second:
/// one short probe at a time, its result kept for a second.
#[utoipa::path(operation_id = "readyz", get, path = "/readyz", tag = "system",
    responses((status = 200, body = String), (status = 503, body = ErrorBody)))]
pub(crate) async fn readyz(State(s): State<AppState>) -> axum::response::Response {
    match s.readiness.check(&s.ms).await {
        Ok(()) => "ready".into_response(),
        Err(what) => (
            [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())],
            ApiError::http(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::NotReady,
                format!("the {what} is not reachable; GET /readyz again in a second"),
            ),
        )
            .into_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(operation_id = "metrics", get, path = "/metrics", tag = "system", responses((status = 200, body = String)))]
pub(crate) async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// Where the data lives, for clients that write to the warehouse directly.
#[utoipa::path(operation_id = "get_config", get, path = "/v1/config", tag = "system", responses((status = 200, body = ServerInfo)))]
pub(crate) async fn config(State(s): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        warehouse: s.ms.warehouse_url().to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
