//! The audit trail.

use axum::extract::State;

use crate::VerifyReport;
use crate::model::{Event, Page, PartitionValues};
use crate::server::AppState;
use crate::server::api::EventsParams;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Query};

/// Queries the audit trail: filters, cursor pages newest first, or a change
/// feed with `after=<event id>` in id order.
#[utoipa::path(operation_id = "list_events", get, path = "/v1/events", tag = "events", params(EventsParams),
    responses((status = 200, body = Page<Event>), (status = 400, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Query(q): Query<EventsParams>,
) -> ApiResult<Json<Page<Event>>> {
    let (mut query, partition) = q.query()?;
    if let Some(p) = partition {
        let t = query.table.as_ref().ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                "a partition filter needs namespace and table filters",
            )
        })?;
        // Events outlive dropped tables: fall back to the path as given.
        query.partition = Some(match s.ms.partition(t, &p).await {
            Ok(v) => v,
            Err(_) => PartitionValues::try_from(q.partition.clone().unwrap_or_default())?,
        });
    }
    Ok(Json(s.ms.events(&query).await?))
}

/// What `POST /v1/verify` checks.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyParams {
    /// `all` (default): the catalog and every file in the warehouse;
    /// `catalog`: the catalog's own invariants only.
    scope: Option<String>,
}

/// Checks every invariant over the whole catalog and warehouse.
#[utoipa::path(operation_id = "verify", post, path = "/v1/verify", tag = "verify", params(VerifyParams),
    responses((status = 200, body = VerifyReport), (status = 400, body = ErrorBody)))]
pub(crate) async fn verify(
    State(s): State<AppState>,
    Query(q): Query<VerifyParams>,
) -> ApiResult<Json<VerifyReport>> {
    match q.scope.as_deref() {
        None | Some("all") => Ok(Json(s.ms.verify().await?)),
        Some("catalog") => Ok(Json(VerifyReport {
            violations: s.ms.catalog().check_invariants().await?,
            ..VerifyReport::default()
        })),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("unknown verify scope {other:?}: use all or catalog"),
        )),
    }
}
