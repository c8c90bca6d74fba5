//! The audit trail.

use axum::extract::State;

use crate::VerifyReport;
use crate::metastore::VerifyScope;
use axum::http::StatusCode;

use crate::Code;
use crate::api::EventsParams;
use crate::model::{Event, EventQuery, NamespaceName, Page, PartitionValues};
use crate::server::AppState;
use crate::server::auth::Authenticated;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Json, Query};

/// Queries the audit trail: filters, cursor pages newest first, or a change
/// feed with `after=<event id>` in id order.
#[utoipa::path(operation_id = "list_events", get, path = "/v1/events", tag = "events", params(EventsParams),
    responses((status = 200, body = Page<Event>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    auth: Authenticated,
    Query(q): Query<EventsParams>,
) -> ApiResult<Json<Page<Event>>> {
    let (mut query, partition) = q.query()?;
    if let Some(readable) = auth.readable() {
        scope_to(&mut query, &readable)?;
    }
    if let Some(p) = partition {
        let t = query.table.as_ref().ok_or_else(|| {
            ApiError::bad_request(
                Code::InvalidQuery,
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

/// Keeps a query of a caller who reads only some namespaces inside them:
/// a named namespace must be one of them; none named means the only one.
fn scope_to(query: &mut EventQuery, readable: &[NamespaceName]) -> Result<(), ApiError> {
    let forbidden = |m: String| ApiError::http(StatusCode::FORBIDDEN, Code::Forbidden, m);
    let names = || {
        readable
            .iter()
            .map(NamespaceName::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&query.namespace, readable) {
        (Some(ns), _) if readable.contains(ns) => Ok(()),
        (Some(ns), _) => Err(forbidden(format!(
            "this token may not read the events of namespace {ns}; it reads: {}",
            names()
        ))),
        (None, [only]) => {
            query.namespace = Some(only.clone());
            Ok(())
        }
        (None, _) => Err(forbidden(format!(
            "this token reads only some namespaces: add namespace=<name> to the query (it reads: {})",
            names()
        ))),
    }
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
        Some("catalog") => Ok(Json(s.ms.verify_scoped(VerifyScope::Catalog).await?)),
        Some(other) => Err(ApiError::bad_request(
            Code::InvalidQuery,
            format!("unknown verify scope {other:?}: use all or catalog"),
        )),
    }
}
