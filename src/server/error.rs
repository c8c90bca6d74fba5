//! The one mapping from core errors to HTTP: a status and the body
//! `{"error": {"code": "...", "message": "..."}}`. Internal errors never
//! leak SQL, paths or secrets: the body says "internal error" and carries the
//! request id; the detail goes to the server log.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::{Code, Error, ErrorKind};
use crate::model::{BatchId, Edge, Hint};

/// The error body of every non-2xx response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable code, a message that says what to do, and for conflicts the
/// partition's current batch.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `conflict`, `table_not_found`.
    pub code: String,
    /// What went wrong and what to do next.
    pub message: String,
    /// For `conflict`: the partition's current batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub current_batch: Option<BatchId>,
    /// What to do next, as a structure (the message words it for HTTP), so
    /// that a client can word it for its own users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::server::schemas::ErrorHint>)]
    pub hint: Option<Hint>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub enum ApiError {
    /// A core error.
    Core(Error),
    /// An HTTP-level error (413, 415, 408, malformed JSON...).
    Http {
        /// The status.
        status: StatusCode,
        /// Stable code.
        code: Code,
        /// Message.
        message: String,
    },
}

impl ApiError {
    /// An HTTP-level error.
    pub fn http(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        ApiError::Http {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400 with `invalid_input`-style code.
    pub fn bad_request(code: Code, message: impl Into<String>) -> Self {
        Self::http(StatusCode::BAD_REQUEST, code, message)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

/// How long a client should wait before retrying a 503, in seconds.
pub(crate) const RETRY_AFTER_SECS: u64 = 1;

/// The status for a core error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        // The API fuzzing's negative control: bad input answered as a crash.
        ErrorKind::InvalidInput if crate::faults::active("invalid_input_as_500") => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::AlreadyExists | ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::SchemaMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiError::Http {
                status,
                code,
                message,
            } => (
                status,
                ErrorDetail {
                    code: code.as_str().to_owned(),
                    message,
                    current_batch: None,
                    hint: None,
                },
            ),
            ApiError::Core(e) => {
                // The fault harness's negative control: a dependency that is
                // down answered as a success.
                if e.is(Code::DatabaseUnavailable)
                    && crate::faults::active("unavailable_as_success")
                {
                    return (StatusCode::OK, Json(serde_json::json!({}))).into_response();
                }
                let status = status_of(e.kind());
                let current_batch = match &e {
                    Error::Conflict { current, .. } => current.clone(),
                    _ => None,
                };
                let dependency = matches!(
                    e.kind(),
                    ErrorKind::Unavailable | ErrorKind::InsufficientStorage
                );
                let (message, hint) = if dependency {
                    // Our own words, never the driver's; the cause is logged.
                    tracing::warn!(error = %e, code = e.code(), "dependency failed");
                    (e.message_for(Edge::Http), e.hint())
                } else if status.is_server_error() {
                    tracing::error!(error = %e, code = e.code(), "request failed");
                    ("internal error: the server could not complete the request; it is logged with this request's id (x-request-id)".to_owned(), None)
                } else {
                    (e.message_for(Edge::Http), e.hint())
                };
                let detail = ErrorDetail {
                    code: e.code().to_owned(),
                    message,
                    current_batch,
                    hint,
                };
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    return (
                        status,
                        [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())],
                        Json(ErrorBody { error: detail }),
                    )
                        .into_response();
                }
                (status, detail)
            }
        };
        (status, Json(ErrorBody { error: detail })).into_response()
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
