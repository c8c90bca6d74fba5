//! Pins.

use axum::extract::State;
use axum::http::StatusCode;

use super::{partition, table};
use crate::Code;
use crate::api::CreatePinBody;
use crate::model::{BatchId, NewPin, Pin, PinName, PinTarget, time};
use crate::server::AppState;
use crate::server::auth::Authenticated;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json, Path};

/// Lists a table's pins.
#[utoipa::path(operation_id = "list_pins", get, path = "/v1/namespaces/{namespace}/tables/{table}/pins", tag = "pins",
    params(("namespace" = String, Path), ("table" = String, Path)),
    responses((status = 200, body = Vec<Pin>), (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Pin>>> {
    Ok(Json(s.ms.pins(Some(&table(&ns, &t)?)).await?))
}

/// Lists every pin of every table.
#[utoipa::path(operation_id = "list_all_pins", get, path = "/v1/pins", tag = "pins", responses((status = 200, body = Vec<Pin>)))]
pub(crate) async fn list_all(
    State(s): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<Pin>>> {
    let mut all = s.ms.pins(None).await?;
    if let Some(readable) = auth.readable() {
        all.retain(|p| readable.contains(&p.table.namespace));
    }
    Ok(Json(all))
}

/// Creates a pin on a batch (`partition` + `batch_id`) or on the table as of a time.
#[utoipa::path(operation_id = "create_pin", post, path = "/v1/namespaces/{namespace}/tables/{table}/pins", tag = "pins",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = CreatePinBody,
    responses((status = 201, body = Pin), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Json(body): Json<CreatePinBody>,
) -> ApiResult<(StatusCode, Json<Pin>)> {
    let ident = table(&ns, &t)?;
    let target = match (&body.partition, &body.batch_id, &body.as_of) {
        (Some(p), Some(b), None) => PinTarget::Batch {
            partition: s.ms.partition(&ident, &partition(p)?).await?,
            batch: BatchId::parse(b)?,
        },
        (None, None, Some(at)) => PinTarget::AsOf {
            at: time::parse_past(at)?,
        },
        _ => {
            return Err(ApiError::bad_request(
                Code::InvalidPin,
                "pin a batch with `partition` and `batch_id`, or the whole table with `as_of`",
            ));
        }
    };
    let pin = NewPin {
        name: PinName::new(body.name)?,
        owner: body.owner,
        reason: body.reason,
        target,
        expires_at: body
            .expires_at
            .as_deref()
            .map(time::parse_future)
            .transpose()?,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.ms.create_pin(&ctx, &ident, &pin).await?),
    ))
}

/// Gets a pin.
#[utoipa::path(operation_id = "get_pin", get, path = "/v1/namespaces/{namespace}/tables/{table}/pins/{pin}", tag = "pins",
    params(("namespace" = String, Path), ("table" = String, Path), ("pin" = String, Path)),
    responses((status = 200, body = Pin), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path((ns, t, p)): Path<(String, String, String)>,
) -> ApiResult<Json<Pin>> {
    Ok(Json(s.ms.pin(&table(&ns, &t)?, &PinName::new(p)?).await?))
}

/// Deletes a pin.
#[utoipa::path(operation_id = "delete_pin", delete, path = "/v1/namespaces/{namespace}/tables/{table}/pins/{pin}", tag = "pins",
    params(("namespace" = String, Path), ("table" = String, Path), ("pin" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn delete(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t, p)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.ms.delete_pin(&ctx, &table(&ns, &t)?, &PinName::new(p)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
