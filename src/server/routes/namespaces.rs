//! Namespaces.

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::CreateNamespace;
use crate::model::{MetadataUpdate, Namespace, NamespaceName, NewNamespace};
use crate::server::AppState;
use crate::server::auth::Authenticated;
use crate::server::error::{ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json, Path};

/// Lists namespaces.
#[utoipa::path(operation_id = "list_namespaces", get, path = "/v1/namespaces", tag = "namespaces",
    responses((status = 200, body = Vec<Namespace>)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<Namespace>>> {
    let mut all = s.ms.namespaces().await?;
    if let Some(readable) = auth.readable() {
        all.retain(|n| readable.contains(&n.name));
    }
    Ok(Json(all))
}

/// Creates a namespace.
#[utoipa::path(operation_id = "create_namespace", post, path = "/v1/namespaces", tag = "namespaces", request_body = CreateNamespace,
    responses((status = 201, body = Namespace), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Json(body): Json<CreateNamespace>,
) -> ApiResult<(StatusCode, Json<Namespace>)> {
    let new = NewNamespace {
        name: NamespaceName::new(body.name)?,
        description: body.description,
        owner: body.owner,
        properties: body.properties,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.ms.create_namespace(&ctx, &new).await?),
    ))
}

/// Gets a namespace.
#[utoipa::path(operation_id = "get_namespace", get, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path)),
    responses((status = 200, body = Namespace), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(ns): Path<String>,
) -> ApiResult<Json<Namespace>> {
    Ok(Json(s.ms.namespace(&NamespaceName::new(ns)?).await?))
}

/// Updates a namespace's description, owner or properties.
#[utoipa::path(operation_id = "update_namespace", patch, path = "/v1/namespaces/{namespace}", tag = "namespaces",
    params(("namespace" = String, Path)), request_body = MetadataUpdate,
    responses((status = 200, body = Namespace), (status = 404, body = ErrorBody)))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(ns): Path<String>,
    Json(update): Json<MetadataUpdate>,
) -> ApiResult<Json<Namespace>> {
    Ok(Json(
        s.ms.update_namespace(&ctx, &NamespaceName::new(ns)?, &update)
            .await?,
    ))
}
