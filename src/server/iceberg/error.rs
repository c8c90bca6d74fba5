//! The Iceberg REST error body, `{"error": {"message", "type", "code"}}`,
//! for every non-2xx answer under `/iceberg` (DuckDB shows the message
//! verbatim; pyiceberg maps the status to its exceptions).

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::server::error::status_of;

/// The error body of the Iceberg REST spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IcebergErrorBody {
    pub(crate) error: IcebergErrorModel,
}

/// `ErrorModel` of the spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IcebergErrorModel {
    pub(crate) message: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) code: u16,
}

/// An error on its way to an Iceberg error response.
#[derive(Debug)]
pub(crate) struct IcebergError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl IcebergError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }
}

/// The exception type a status stands for (by batchmeta code when it
/// tells namespaces from tables).
fn kind_of(status: StatusCode, code: &str) -> &'static str {
    match status.as_u16() {
        400 | 422 => "BadRequestException",
        401 => "NotAuthorizedException",
        403 => "ForbiddenException",
        404 if code == "namespace_not_found" => "NoSuchNamespaceException",
        404 if code == "route_not_found" => "NotFoundException",
        404 => "NoSuchTableException",
        405 => "MethodNotAllowedException",
        406 => "UnsupportedOperationException",
        409 => "AlreadyExistsException",
        413 => "BadRequestException",
        429 => "TooManyRequestsException",
        503 => "ServiceUnavailableException",
        _ => "InternalServerError",
    }
}

impl From<Error> for IcebergError {
    fn from(e: Error) -> Self {
        let status = status_of(e.kind());
        let message = if status.is_server_error() {
            tracing::error!(error = %e, code = e.code(), "iceberg request failed");
            "internal error: the server could not complete the request; it is logged with this request's id (x-request-id)".to_owned()
        } else {
            e.to_string()
        };
        Self {
            status,
            kind: kind_of(status, e.code()),
            message,
        }
    }
}

impl IntoResponse for IcebergError {
    fn into_response(self) -> Response {
        let body = IcebergErrorBody {
            error: IcebergErrorModel {
                message: self.message,
                kind: self.kind.to_owned(),
                code: self.status.as_u16(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Handler result.
pub(crate) type IcebergResult<T> = Result<T, IcebergError>;

/// Turns the API's own error bodies (from authentication, limits, unknown
/// routes) into Iceberg ones for requests under `/iceberg/`.
pub(crate) async fn error_bodies(req: Request, next: Next) -> Response {
    let iceberg = req.uri().path().starts_with("/iceberg/") || req.uri().path() == "/iceberg";
    let res = next.run(req).await;
    if !iceberg || res.status().is_success() || res.status().is_redirection() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return IcebergError::new(parts.status, kind_of(parts.status, ""), "request failed")
            .into_response();
    };
    if serde_json::from_slice::<IcebergErrorBody>(&bytes).is_ok() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let (code, message) = match serde_json::from_slice::<crate::server::error::ErrorBody>(&bytes) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (
            String::new(),
            String::from_utf8_lossy(&bytes).trim().to_owned(),
        ),
    };
    let status = parts.status;
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    let body = IcebergErrorBody {
        error: IcebergErrorModel {
            message,
            kind: kind_of(status, &code).to_owned(),
            code: status.as_u16(),
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(bytes))
}
