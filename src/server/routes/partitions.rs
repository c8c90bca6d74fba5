//! Partitions: listing, resolve, history, wait and reads.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{partition, table};
use crate::Code;
use crate::api::{PartitionPageParams, PartitionsParams, ReadBody, ResolveBody, WaitParams};
use crate::model::{BatchId, Event, Page, PartitionInfo, PartitionQuery, Resolved};
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};
use crate::server::{AppState, limits};
use crate::{ReadRequest, encode_ipc};

/// The media type of Arrow IPC streams.
pub(crate) const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// Lists published partitions in key order, a page at a time.
#[utoipa::path(operation_id = "list_partitions", get, path = "/v1/namespaces/{namespace}/tables/{table}/partitions", tag = "partitions",
    params(("namespace" = String, Path), ("table" = String, Path), PartitionsParams),
    responses((status = 200, body = Page<PartitionInfo>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<PartitionsParams>,
) -> ApiResult<Json<Page<PartitionInfo>>> {
    let query = PartitionQuery {
        prefix: q.prefix,
        from: q.from,
        to: q.to,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(s.ms.partitions(&table(&ns, &t)?, &query).await?))
}

/// Resolves partitions to batches and their files (current, `batch_id`, `as_of` or `pin`).
#[utoipa::path(operation_id = "resolve", post, path = "/v1/namespaces/{namespace}/tables/{table}/resolve", tag = "partitions",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = ResolveBody,
    responses((status = 200, body = Vec<Resolved>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn resolve(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<ResolveBody>,
) -> ApiResult<Json<Vec<Resolved>>> {
    limits::check_count(
        &s,
        "partitions",
        body.partitions.as_ref().map_or(0, Vec::len),
    )?;
    Ok(Json(
        s.ms.resolve(&table(&ns, &t)?, &body.request()?).await?,
    ))
}

/// The pointer moves of one partition, newest first.
#[utoipa::path(operation_id = "history", get, path = "/v1/namespaces/{namespace}/tables/{table}/history", tag = "partitions",
    params(("namespace" = String, Path), ("table" = String, Path), PartitionPageParams),
    responses((status = 200, body = Page<Event>), (status = 404, body = ErrorBody)))]
pub(crate) async fn history(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<PartitionPageParams>,
) -> ApiResult<Json<Page<Event>>> {
    let page =
        s.ms.history(
            &table(&ns, &t)?,
            &partition(&q.partition)?,
            q.cursor.as_deref(),
            q.limit,
        )
        .await?;
    Ok(Json(page))
}

/// Long-polls until the partition is published with a batch other than
/// `after`; 408 `wait_timeout` when nothing happens in time.
#[utoipa::path(operation_id = "wait", get, path = "/v1/namespaces/{namespace}/tables/{table}/wait", tag = "partitions",
    params(("namespace" = String, Path), ("table" = String, Path), WaitParams),
    responses((status = 200, body = Resolved), (status = 408, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn wait(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<WaitParams>,
) -> ApiResult<Json<Resolved>> {
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(30_000).min(300_000));
    let after = q.after.as_deref().map(BatchId::parse).transpose()?;
    match s
        .ms
        .wait(
            &table(&ns, &t)?,
            &partition(&q.partition)?,
            after.as_ref(),
            timeout,
        )
        .await?
    {
        Some(r) => Ok(Json(r)),
        None => Err(ApiError::http(
            StatusCode::REQUEST_TIMEOUT,
            Code::WaitTimeout,
            format!(
                "no new publish of {} within {} ms; wait again",
                q.partition,
                timeout.as_millis()
            ),
        )),
    }
}

/// Reads resolved partitions as one Arrow IPC stream (partition columns
/// restored), for clients without storage credentials.
#[utoipa::path(operation_id = "read", post, path = "/v1/namespaces/{namespace}/tables/{table}/read", tag = "partitions",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = ReadBody,
    responses((status = 200, description = "The rows as one Arrow IPC stream", content(("application/vnd.apache.arrow.stream"))), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn read(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<ReadBody>,
) -> ApiResult<Response> {
    limits::check_count(
        &s,
        "partitions",
        body.resolve.partitions.as_ref().map_or(0, Vec::len),
    )?;
    let req = ReadRequest {
        resolve: body.resolve.request()?,
        columns: body.columns,
        filters: body.filters,
    };
    let (schema, batches) = s.ms.read(&table(&ns, &t)?, &req).await?;
    let body = Body::from_stream(encode_ipc(schema, batches));
    Ok(([(header::CONTENT_TYPE, ARROW_STREAM)], body).into_response())
}
