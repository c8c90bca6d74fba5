//! Lineage: one step of edges (for remote catalogs and retention), a
//! batch's lineage, a rollback's impact, stale batches, and the reads of a
//! run that spans processes.

use axum::extract::State;

use super::batches::rollback_request;
use super::{partition, table};
use crate::Code;
use crate::Inputs;
use crate::api::{LineageEdgesBody, LineageParams, RollbackBody, StaleParams};
use crate::metastore::{JOB_KEY, RUN_ID_KEY};
use crate::model::{
    BatchId, Lineage, LineageEdge, MAX_INPUTS, NamespaceName, Properties, RollbackImpact, RunReads,
    StaleBatch, TableIdent,
};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Path, Query};

/// The metadata a store through `POST .../store` records of its run.
pub(super) fn run_metadata(
    run_id: Option<String>,
    job: Option<String>,
) -> Result<Properties, ApiError> {
    let mut m = Properties::new();
    if let Some(r) = run_id {
        crate::Run::in_memory(r.clone(), job.clone())?;
        m.insert(RUN_ID_KEY.into(), r);
    }
    if let Some(j) = job {
        m.insert(JOB_KEY.into(), j);
    }
    Ok(m)
}

/// The inputs a store through `POST .../store` names (comma-separated).
pub(super) fn store_inputs(inputs: Option<&str>) -> Result<Inputs, ApiError> {
    Ok(match inputs {
        None => Inputs::Tracked,
        Some(list) => Inputs::Only(
            list.split(',')
                .filter(|s| !s.is_empty())
                .map(BatchId::parse)
                .collect::<crate::Result<_>>()?,
        ),
    })
}

/// One step of lineage from a set of batches: their inputs (`up`) or what
/// was built from them (`down`).
#[utoipa::path(operation_id = "lineage_edges", post, path = "/v1/lineage/edges", tag = "lineage",
    request_body = LineageEdgesBody,
    responses((status = 200, body = Vec<LineageEdge>), (status = 400, body = ErrorBody)))]
pub(crate) async fn edges(
    State(s): State<AppState>,
    Json(body): Json<LineageEdgesBody>,
) -> ApiResult<Json<Vec<LineageEdge>>> {
    if body.batches.len() > MAX_INPUTS {
        return Err(ApiError::bad_request(
            Code::TooManyInputs,
            format!("ask about at most {MAX_INPUTS} batches per request"),
        ));
    }
    let batches = body
        .batches
        .iter()
        .map(|b| BatchId::parse(b))
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(Json(s.ms.lineage_edges(&batches, body.direction).await?))
}

/// What built a partition's batch (`up`), or what was built from it (`down`).
#[utoipa::path(operation_id = "lineage", get, path = "/v1/namespaces/{namespace}/tables/{table}/lineage", tag = "lineage",
    params(("namespace" = String, Path), ("table" = String, Path), LineageParams),
    responses((status = 200, body = Lineage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn lineage(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Query(q): Query<LineageParams>,
) -> ApiResult<Json<Lineage>> {
    let batch = q.batch.as_deref().map(BatchId::parse).transpose()?;
    Ok(Json(
        s.ms.lineage(
            &table(&ns, &t)?,
            &partition(&q.partition)?,
            batch.as_ref(),
            q.direction.unwrap_or_default(),
            q.depth,
        )
        .await?,
    ))
}

/// What a rollback would retire and which current batches downstream were
/// built from it, without moving anything (a dry run).
#[utoipa::path(operation_id = "rollback_impact", post, path = "/v1/namespaces/{namespace}/tables/{table}/rollback/impact", tag = "lineage",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = RollbackBody,
    responses((status = 200, body = RollbackImpact), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn rollback_impact(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<RollbackBody>,
) -> ApiResult<Json<RollbackImpact>> {
    let req = rollback_request(&body)?;
    Ok(Json(
        s.ms.rollback_impact(&table(&ns, &t)?, &partition(&body.partition)?, &req)
            .await?,
    ))
}

/// Current batches built from inputs that are no longer current.
#[utoipa::path(operation_id = "stale", get, path = "/v1/stale", tag = "lineage", params(StaleParams),
    responses((status = 200, body = Vec<StaleBatch>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn stale(
    State(s): State<AppState>,
    Query(q): Query<StaleParams>,
) -> ApiResult<Json<Vec<StaleBatch>>> {
    let ns = q.namespace.map(NamespaceName::new).transpose()?;
    let t = match (&ns, &q.table) {
        (Some(ns), Some(t)) => Some(TableIdent::new(ns.as_str(), t)?),
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                Code::InvalidQuery,
                "a table filter needs a namespace filter",
            ));
        }
        _ => None,
    };
    Ok(Json(s.ms.stale(ns.as_ref(), t.as_ref()).await?))
}

/// What a run has read since its last store.
#[utoipa::path(operation_id = "get_run_reads", get, path = "/v1/runs/{run}/reads", tag = "lineage",
    params(("run" = String, Path)),
    responses((status = 200, body = RunReads), (status = 400, body = ErrorBody)))]
pub(crate) async fn get_run_reads(
    State(s): State<AppState>,
    Path(run): Path<String>,
) -> ApiResult<Json<RunReads>> {
    crate::Run::durable(run.clone(), None)?;
    Ok(Json(s.ms.run_reads(&run).await?.unwrap_or_default()))
}

/// Saves what a run has read.
#[utoipa::path(operation_id = "save_run_reads", put, path = "/v1/runs/{run}/reads", tag = "lineage",
    params(("run" = String, Path)), request_body = RunReads,
    responses((status = 200, body = RunReads), (status = 400, body = ErrorBody)))]
pub(crate) async fn save_run_reads(
    State(s): State<AppState>,
    Path(run): Path<String>,
    Json(reads): Json<RunReads>,
) -> ApiResult<Json<RunReads>> {
    crate::Run::durable(run.clone(), None)?;
    if reads.reads.len() > MAX_INPUTS {
        return Err(ApiError::bad_request(
            Code::TooManyInputs,
            format!("a run records at most {MAX_INPUTS} reads"),
        ));
    }
    s.ms.save_run_reads(&run, &reads).await?;
    Ok(Json(reads))
}
