//! Batches: stage, upload or register files, publish, store, roll back.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use futures::{StreamExt, TryStreamExt};

use super::{partition, table};
use crate::Code;
use crate::api::{
    AddFilesBody, CommittedParams, PartitionPageParams, PublishBody, RollbackBody, StageBody,
    StoreParams, UploadParams,
};
use crate::metastore::{Part, StoreMode, StoreOutcome};
use crate::model::{Batch, BatchId, Commit, Expect, Pin, RollbackRequest, TableIdent};
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json, Path, Query};
use crate::server::{AppState, limits};
use crate::{Error, PublishOptions, PublishSpec, RolledBack, StageOptions, StoreOptions, Stored};

/// Stages one batch per partition.
#[utoipa::path(operation_id = "stage", post, path = "/v1/namespaces/{namespace}/tables/{table}/stage", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = StageBody,
    responses((status = 201, body = Vec<Batch>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn stage(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<StageBody>,
) -> ApiResult<(StatusCode, Json<Vec<Batch>>)> {
    limits::check_count(&s, "partitions", body.partitions.len())?;
    let parts = body
        .partitions
        .iter()
        .map(|p| partition(p))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = StageOptions {
        idempotency_key: body.idempotency_key,
        message: body.message,
        metadata: body.metadata,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.ms.stage(&ctx, &table(&ns, &t)?, &parts, &opts).await?),
    ))
}

/// Lists a partition's batches (staged and committed), newest first.
#[utoipa::path(operation_id = "list_batches", get, path = "/v1/namespaces/{namespace}/tables/{table}/batches", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), PartitionPageParams),
    responses((status = 200, body = Vec<Batch>), (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<PartitionPageParams>,
) -> ApiResult<Json<Vec<Batch>>> {
    Ok(Json(
        s.ms.batches(&table(&ns, &t)?, &partition(&q.partition)?)
            .await?,
    ))
}

/// Gets a batch with its files.
#[utoipa::path(operation_id = "get_batch", get, path = "/v1/namespaces/{namespace}/tables/{table}/batches/{batch_id}", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), ("batch_id" = String, Path)),
    responses((status = 200, body = Batch), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path((ns, t, b)): Path<(String, String, String)>,
) -> ApiResult<Json<Batch>> {
    Ok(Json(
        s.ms.batch(&table(&ns, &t)?, &BatchId::parse(&b)?).await?,
    ))
}

/// Forgets a staged batch that was never published (a failed write).
#[utoipa::path(operation_id = "discard_batch", delete, path = "/v1/namespaces/{namespace}/tables/{table}/batches/{batch_id}", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), ("batch_id" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn discard(
    State(s): State<AppState>,
    Path((ns, t, b)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    // Through the facade, so that the batch's files go too: a client
    // without storage access cannot remove what it uploaded.
    let ident = table(&ns, &t)?;
    let batch = s.ms.batch(&ident, &BatchId::parse(&b)?).await?;
    s.ms.discard(&ident, &batch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registers Parquet files a client wrote straight into the batch's prefix.
#[utoipa::path(operation_id = "add_files", post, path = "/v1/namespaces/{namespace}/tables/{table}/batches/{batch_id}/files", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), ("batch_id" = String, Path)), request_body = AddFilesBody,
    responses((status = 200, body = Batch), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn add_files(
    State(s): State<AppState>,
    Path((ns, t, b)): Path<(String, String, String)>,
    Json(body): Json<AddFilesBody>,
) -> ApiResult<Json<Batch>> {
    limits::check_count(&s, "files", body.paths.len())?;
    Ok(Json(
        s.ms.add_files(&table(&ns, &t)?, &BatchId::parse(&b)?, &body.paths)
            .await?,
    ))
}

/// The kind of data in a request body, from its content type.
#[derive(Debug, Clone, Copy)]
enum Upload {
    Parquet,
    Arrow,
}

fn upload_kind(req: &Request) -> Result<Upload, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim();
    match ct {
        "application/vnd.apache.parquet" | "application/x-parquet" | "application/parquet" => {
            Ok(Upload::Parquet)
        }
        "application/vnd.apache.arrow.stream" => Ok(Upload::Arrow),
        other => Err(ApiError::http(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            format!(
                "unsupported content type {other:?}: send a Parquet file as application/vnd.apache.parquet or an Arrow IPC stream as application/vnd.apache.arrow.stream"
            ),
        )),
    }
}

async fn upload(
    s: &AppState,
    ident: &TableIdent,
    batch: &BatchId,
    mode: crate::model::SchemaMode,
    req: Request,
) -> ApiResult<Batch> {
    let kind = upload_kind(&req)?;
    let body = limits::upload_body(&s.config, req).await?;
    let result = match kind {
        Upload::Parquet => {
            let body = limits::spool_parquet(&s.config, body).await?;
            s.ms.upload_parquet(ident, batch, body, mode).await
        }
        Upload::Arrow => s.ms.upload_arrow(ident, batch, body, mode).await,
    };
    result.map_err(|e| limits::timeout_status(e.into()))
}

/// Why the body of a store was refused, kept as the HTTP error it is.
type Refused = Arc<Mutex<Option<ApiError>>>;

/// A request body as the data of a store, read only once the store has
/// staged its batch (the client has sent the body by the time a refusal is
/// answered, so it reads the answer instead of a reset connection): a
/// Parquet file spooled and checked against the limits, or an Arrow IPC
/// stream. A refusal (413, 408, ...) is kept in `refused`, and the handler
/// answers it as it is.
fn upload_part(s: &AppState, kind: Upload, req: Request, refused: &Refused) -> Part<'static> {
    let (config, refused) = (s.config.clone(), refused.clone());
    let body = futures::stream::once(async move {
        let body = match limits::upload_body(&config, req).await {
            Ok(body) if matches!(kind, Upload::Parquet) => {
                limits::spool_parquet(&config, body).await
            }
            other => other,
        };
        body.map_err(|e| {
            if let Ok(mut slot) = refused.lock() {
                *slot = Some(e);
            }
            Error::invalid(Code::InvalidDataFile, "the upload was refused")
        })
    })
    .try_flatten()
    .boxed();
    match kind {
        Upload::Parquet => Part::Parquet(body),
        Upload::Arrow => Part::Arrow(body),
    }
}

/// Uploads data to a staged batch: a Parquet file or an Arrow IPC stream,
/// streamed to the warehouse (413 past the server's limit).
#[utoipa::path(operation_id = "upload_data", put, path = "/v1/namespaces/{namespace}/tables/{table}/batches/{batch_id}/data", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), ("batch_id" = String, Path), UploadParams),
    request_body(description = "A Parquet file or an Arrow IPC stream",
        content(("application/vnd.apache.parquet"), ("application/vnd.apache.arrow.stream"))),
    responses((status = 200, body = Batch), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn upload_data(
    State(s): State<AppState>,
    Path((ns, t, b)): Path<(String, String, String)>,
    Query(q): Query<UploadParams>,
    req: Request,
) -> ApiResult<Json<Batch>> {
    let (ident, batch) = (table(&ns, &t)?, BatchId::parse(&b)?);
    Ok(Json(
        upload(&s, &ident, &batch, q.schema_mode.unwrap_or_default(), req).await?,
    ))
}

/// Stores one partition in one call: stage, upload the body, publish.
#[utoipa::path(operation_id = "store", post, path = "/v1/namespaces/{namespace}/tables/{table}/store", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path), StoreParams),
    request_body(description = "A Parquet file or an Arrow IPC stream",
        content(("application/vnd.apache.parquet"), ("application/vnd.apache.arrow.stream"))),
    responses((status = 201, body = Stored), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn store(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<StoreParams>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Stored>)> {
    let ident = table(&ns, &t)?;
    let part = partition(&q.partition)?;
    let options = StoreOptions {
        expect: Expect::parse_opt(q.expected_batch.as_deref())?,
        schema_mode: q.schema_mode.unwrap_or_default(),
        message: q.message,
        metadata: super::lineage::run_metadata(q.run_id, q.job)?,
        idempotency_key: q.idempotency_key,
        inputs: super::lineage::store_inputs(q.inputs.as_deref())?,
    };
    let refused = Refused::default();
    let data = upload_part(&s, upload_kind(&req)?, req, &refused);
    let stored =
        s.ms.store_parts(
            &ctx,
            &ident,
            &part,
            vec![data],
            &options,
            StoreMode::default(),
        )
        .await
        .and_then(StoreOutcome::published);
    match stored {
        Ok(stored) => {
            s.metrics.publish(stored.commit.events.len());
            Ok((StatusCode::CREATED, Json(stored)))
        }
        Err(e) => {
            if let Some(refusal) = refused.lock().ok().and_then(|mut r| r.take()) {
                return Err(refusal);
            }
            if matches!(e, Error::Conflict { .. }) {
                s.metrics.conflict();
            }
            Err(limits::timeout_status(e.into()))
        }
    }
}

/// Publishes staged batches in one all-or-nothing transaction.
#[utoipa::path(operation_id = "publish", post, path = "/v1/namespaces/{namespace}/tables/{table}/publish", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = PublishBody,
    responses((status = 200, body = Commit), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn publish(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<PublishBody>,
) -> ApiResult<Json<Commit>> {
    limits::check_count(&s, "partitions", body.items.len())?;
    let specs = body
        .items
        .iter()
        .map(|i| {
            Ok(PublishSpec {
                partition: partition(&i.partition)?,
                batch: BatchId::parse(&i.batch_id)?,
                expect: Expect::parse_opt(i.expected_batch.as_deref())?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let opts = PublishOptions {
        schema_mode: body.schema_mode.unwrap_or_default(),
        message: body.message,
        inputs: body
            .inputs
            .iter()
            .map(|b| BatchId::parse(b))
            .collect::<crate::Result<_>>()?,
    };
    match s.ms.publish(&ctx, &table(&ns, &t)?, &specs, &opts).await {
        Ok(c) => {
            s.metrics.publish(c.events.len());
            Ok(Json(c))
        }
        Err(e) => {
            if matches!(e, Error::Conflict { .. }) {
                s.metrics.conflict();
            }
            Err(e.into())
        }
    }
}

/// Moves a partition back to its current batch's parent, or to `to`.
#[utoipa::path(operation_id = "rollback", post, path = "/v1/namespaces/{namespace}/tables/{table}/rollback", tag = "batches",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = RollbackBody,
    responses((status = 200, body = RolledBack), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn rollback(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<RollbackBody>,
) -> ApiResult<Json<RolledBack>> {
    let req = rollback_request(&body)?;
    match s
        .ms
        .rollback_with_impact(&ctx, &table(&ns, &t)?, &partition(&body.partition)?, &req)
        .await
    {
        Ok(e) => {
            s.metrics.rollback();
            Ok(Json(e))
        }
        Err(e) => {
            if matches!(e, Error::Conflict { .. }) {
                s.metrics.conflict();
            }
            Err(e.into())
        }
    }
}

/// A rollback request from its body.
pub(super) fn rollback_request(body: &RollbackBody) -> Result<RollbackRequest, ApiError> {
    Ok(RollbackRequest {
        to: body.to.as_deref().map(BatchId::parse).transpose()?,
        expect: body
            .expected_batch
            .as_deref()
            .map(BatchId::parse)
            .transpose()?,
        message: body.message.clone(),
    })
}

/// The unexpired pins that hold a batch ("who depends on it?").
#[utoipa::path(operation_id = "pins_holding_batch", get, path = "/v1/namespaces/{namespace}/tables/{table}/batches/{batch_id}/pins", tag = "pins",
    params(("namespace" = String, Path), ("table" = String, Path), ("batch_id" = String, Path)),
    responses((status = 200, body = Vec<Pin>), (status = 404, body = ErrorBody)))]
pub(crate) async fn holders(
    State(s): State<AppState>,
    Path((ns, t, b)): Path<(String, String, String)>,
) -> ApiResult<Json<Vec<Pin>>> {
    Ok(Json(
        s.ms.pins_holding(&table(&ns, &t)?, &BatchId::parse(&b)?)
            .await?,
    ))
}

/// Committed batches of every table in batch-ID order, for verification.
#[utoipa::path(operation_id = "list_committed_batches", get, path = "/v1/batches", tag = "verify",
    params(CommittedParams),
    responses((status = 200, body = Vec<Batch>), (status = 400, body = ErrorBody)))]
pub(crate) async fn committed(
    State(s): State<AppState>,
    Query(q): Query<CommittedParams>,
) -> ApiResult<Json<Vec<Batch>>> {
    let after = q.after.as_deref().map(BatchId::parse).transpose()?;
    let limit = q
        .limit
        .unwrap_or(crate::model::DEFAULT_PAGE)
        .clamp(1, crate::model::MAX_PAGE);
    Ok(Json(s.ms.committed_batches(after.as_ref(), limit).await?))
}
