//! Tables.

use arrow_schema::{Field, Schema};
use axum::extract::State;
use axum::http::StatusCode;

use super::table;
use crate::Code;
use crate::api::CreateTable;
use crate::model::{
    KeyType, MetadataUpdate, NamespaceName, NewTable, PartitionKey, Table, TableIdent,
    check_identifier, parse_data_type,
};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult, ErrorBody};
use crate::server::extract::{Caller, Json, Path};

/// Lists the tables of a namespace.
#[utoipa::path(operation_id = "list_tables", get, path = "/v1/namespaces/{namespace}/tables", tag = "tables",
    params(("namespace" = String, Path)),
    responses((status = 200, body = Vec<Table>), (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    State(s): State<AppState>,
    Path(ns): Path<String>,
) -> ApiResult<Json<Vec<Table>>> {
    Ok(Json(s.ms.tables(&NamespaceName::new(ns)?).await?))
}

fn schema_of(body: &CreateTable) -> Result<Schema, ApiError> {
    match (&body.columns, &body.schema) {
        (Some(cols), None) => {
            let mut fields = Vec::with_capacity(cols.len());
            for c in cols {
                check_identifier("column", &c.name)?;
                fields.push(Field::new(
                    &c.name,
                    parse_data_type(&c.kind)?,
                    c.nullable.unwrap_or(true),
                ));
            }
            Ok(Schema::new(fields))
        }
        (None, Some(schema)) => Ok(schema.clone()),
        _ => Err(ApiError::bad_request(
            Code::InvalidSchema,
            "give the table's columns as `columns` ([{\"name\": \"id\", \"type\": \"int64\"}]) or an Arrow `schema`, not both",
        )),
    }
}

/// Creates a table.
#[utoipa::path(operation_id = "create_table", post, path = "/v1/namespaces/{namespace}/tables", tag = "tables",
    params(("namespace" = String, Path)), request_body = CreateTable,
    responses((status = 201, body = Table), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(ns): Path<String>,
    Json(body): Json<CreateTable>,
) -> ApiResult<(StatusCode, Json<Table>)> {
    let keys = body
        .partition_keys
        .iter()
        .map(|k| PartitionKey::new(&k.name, KeyType::parse(&k.kind)?))
        .collect::<crate::Result<Vec<_>>>()?;
    let new = NewTable {
        ident: TableIdent::new(&ns, &body.name)?,
        schema: schema_of(&body)?,
        partition_keys: keys,
        description: body.description,
        owner: body.owner,
        properties: body.properties,
    };
    Ok((
        StatusCode::CREATED,
        Json(s.ms.create_table(&ctx, &new).await?),
    ))
}

/// Gets a table.
#[utoipa::path(operation_id = "get_table", get, path = "/v1/namespaces/{namespace}/tables/{table}", tag = "tables",
    params(("namespace" = String, Path), ("table" = String, Path)),
    responses((status = 200, body = Table), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(s): State<AppState>,
    Path((ns, t)): Path<(String, String)>,
) -> ApiResult<Json<Table>> {
    Ok(Json(s.ms.table(&table(&ns, &t)?).await?))
}

/// Updates a table's description, owner or properties.
#[utoipa::path(operation_id = "update_table", patch, path = "/v1/namespaces/{namespace}/tables/{table}", tag = "tables",
    params(("namespace" = String, Path), ("table" = String, Path)), request_body = MetadataUpdate,
    responses((status = 200, body = Table), (status = 404, body = ErrorBody)))]
pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
    Json(update): Json<MetadataUpdate>,
) -> ApiResult<Json<Table>> {
    Ok(Json(
        s.ms.update_table(&ctx, &table(&ns, &t)?, &update).await?,
    ))
}

/// Drops a table: it leaves listings; its data and history stay.
#[utoipa::path(operation_id = "drop_table", delete, path = "/v1/namespaces/{namespace}/tables/{table}", tag = "tables",
    params(("namespace" = String, Path), ("table" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(crate) async fn drop(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((ns, t)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.ms.drop_table(&ctx, &table(&ns, &t)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
