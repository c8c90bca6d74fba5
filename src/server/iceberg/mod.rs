//! The read-only Iceberg REST catalog under `/iceberg` (clients are given
//! `http://host:port/iceberg`): config, namespaces (list, get, head), tables
//! (list, load, head) and virtual tables `t@<pin>` / `t@<ISO time>` (never
//! listed). Every write (create, commit, drop, rename, register, properties)
//! answers 403 with how to write with batchmeta, and changes nothing.
//!
//! Handlers parse, make one facade call ([`crate::Metastore::iceberg_table`]
//! for a load) and format; the metadata is generated in [`crate::iceberg`].
//! Authentication is the API's ([`super::auth`]), with the routes below in
//! its policy; errors are Iceberg error bodies ([`error`]).

mod error;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub(crate) use error::error_bodies;
use error::{IcebergError, IcebergResult};

use super::AppState;
use super::auth::Authenticated;
use crate::iceberg::TableMetadata;
use crate::model::{NamespaceName, TableIdent, VirtualTable};

/// Every route (method, template) this module serves, for the policy test.
#[cfg(test)]
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/iceberg/v1/config"),
    ("GET", "/iceberg/v1/namespaces"),
    ("POST", "/iceberg/v1/namespaces"),
    ("GET", "/iceberg/v1/namespaces/{namespace}"),
    ("HEAD", "/iceberg/v1/namespaces/{namespace}"),
    ("DELETE", "/iceberg/v1/namespaces/{namespace}"),
    ("POST", "/iceberg/v1/namespaces/{namespace}/properties"),
    ("GET", "/iceberg/v1/namespaces/{namespace}/tables"),
    ("POST", "/iceberg/v1/namespaces/{namespace}/tables"),
    ("POST", "/iceberg/v1/namespaces/{namespace}/register"),
    ("GET", "/iceberg/v1/namespaces/{namespace}/tables/{table}"),
    ("HEAD", "/iceberg/v1/namespaces/{namespace}/tables/{table}"),
    ("POST", "/iceberg/v1/namespaces/{namespace}/tables/{table}"),
    (
        "DELETE",
        "/iceberg/v1/namespaces/{namespace}/tables/{table}",
    ),
    (
        "POST",
        "/iceberg/v1/namespaces/{namespace}/tables/{table}/metrics",
    ),
    ("GET", "/iceberg/v1/namespaces/{namespace}/views"),
    ("GET", "/iceberg/v1/namespaces/{namespace}/views/{view}"),
    ("POST", "/iceberg/v1/tables/rename"),
    ("POST", "/iceberg/v1/transactions/commit"),
];

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/iceberg/v1/config", get(config))
        .route("/iceberg/v1/namespaces", get(list_namespaces).post(refuse))
        .route(
            "/iceberg/v1/namespaces/{namespace}",
            get(get_namespace).delete(refuse),
        )
        .route(
            "/iceberg/v1/namespaces/{namespace}/properties",
            post(refuse),
        )
        .route(
            "/iceberg/v1/namespaces/{namespace}/tables",
            get(list_tables).post(refuse),
        )
        .route("/iceberg/v1/namespaces/{namespace}/register", post(refuse))
        .route(
            "/iceberg/v1/namespaces/{namespace}/tables/{table}",
            get(load_table).post(refuse).delete(refuse),
        )
        .route(
            "/iceberg/v1/namespaces/{namespace}/tables/{table}/metrics",
            post(metrics),
        )
        .route("/iceberg/v1/namespaces/{namespace}/views", get(list_views))
        .route(
            "/iceberg/v1/namespaces/{namespace}/views/{view}",
            get(load_view),
        )
        .route("/iceberg/v1/tables/rename", post(refuse))
        .route("/iceberg/v1/transactions/commit", post(refuse))
}

/// `GET /v1/config` (clients send `?warehouse=...`; there is one warehouse).
#[derive(Debug, Serialize)]
struct ConfigResponse {
    defaults: BTreeMap<String, String>,
    overrides: BTreeMap<String, String>,
}

async fn config() -> axum::Json<ConfigResponse> {
    axum::Json(ConfigResponse {
        defaults: BTreeMap::new(),
        overrides: BTreeMap::new(),
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    parent: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct ListNamespacesResponse {
    namespaces: Vec<Vec<String>>,
    next_page_token: Option<String>,
}

/// Namespaces the caller may read (batchmeta's are one level: a `parent`
/// has no children).
async fn list_namespaces(
    State(s): State<AppState>,
    auth: Authenticated,
    Query(query): Query<ListQuery>,
) -> IcebergResult<axum::Json<ListNamespacesResponse>> {
    let mut names = Vec::new();
    if query.parent.is_none() {
        let mut all = s.ms.namespaces().await?;
        if let Some(readable) = auth.readable() {
            all.retain(|n| readable.contains(&n.name));
        }
        names = all.into_iter().map(|n| vec![n.name.to_string()]).collect();
    }
    Ok(axum::Json(ListNamespacesResponse {
        namespaces: names,
        next_page_token: None,
    }))
}

fn namespace(raw: &str) -> IcebergResult<NamespaceName> {
    if raw.contains('\u{1f}') {
        return Err(IcebergError::new(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            format!("batchmeta namespaces have one level: {raw:?} names a nested namespace"),
        ));
    }
    Ok(NamespaceName::new(raw)?)
}

#[derive(Debug, Serialize)]
struct GetNamespaceResponse {
    namespace: Vec<String>,
    properties: BTreeMap<String, String>,
}

async fn get_namespace(
    State(s): State<AppState>,
    Path(ns): Path<String>,
) -> IcebergResult<axum::Json<GetNamespaceResponse>> {
    let n = s.ms.namespace(&namespace(&ns)?).await?;
    let mut properties = n.properties.clone();
    if let Some(d) = n.description {
        properties.insert("comment".into(), d);
    }
    if let Some(o) = n.owner {
        properties.insert("owner".into(), o);
    }
    Ok(axum::Json(GetNamespaceResponse {
        namespace: vec![n.name.to_string()],
        properties,
    }))
}

#[derive(Debug, Serialize)]
struct Identifier {
    namespace: Vec<String>,
    name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct ListTablesResponse {
    identifiers: Vec<Identifier>,
    next_page_token: Option<String>,
}

async fn list_tables(
    State(s): State<AppState>,
    Path(ns): Path<String>,
) -> IcebergResult<axum::Json<ListTablesResponse>> {
    let name = namespace(&ns)?;
    s.ms.namespace(&name).await?;
    let identifiers =
        s.ms.tables(&name)
            .await?
            .into_iter()
            .map(|t| Identifier {
                namespace: vec![name.to_string()],
                name: t.ident.name.to_string(),
            })
            .collect();
    Ok(axum::Json(ListTablesResponse {
        identifiers,
        next_page_token: None,
    }))
}

/// `LoadTableResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
struct LoadTableResponse {
    metadata_location: String,
    metadata: TableMetadata,
    config: BTreeMap<String, String>,
}

async fn load_table(
    State(s): State<AppState>,
    Path((ns, table)): Path<(String, String)>,
) -> IcebergResult<axum::Json<LoadTableResponse>> {
    let ns = namespace(&ns)?;
    let v = VirtualTable::parse(&table)?;
    let ident = TableIdent {
        namespace: ns,
        name: v.table,
    };
    let t =
        s.ms.iceberg_table(&ident, &v.version, s.config.iceberg_max_snapshots)
            .await?;
    Ok(axum::Json(LoadTableResponse {
        metadata_location: t.metadata_location,
        metadata: t.metadata,
        config: BTreeMap::new(),
    }))
}

/// Scan reports: accepted and dropped (they change nothing).
async fn metrics() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn list_views(
    State(s): State<AppState>,
    Path(ns): Path<String>,
) -> IcebergResult<axum::Json<ListTablesResponse>> {
    s.ms.namespace(&namespace(&ns)?).await?;
    Ok(axum::Json(ListTablesResponse {
        identifiers: Vec::new(),
        next_page_token: None,
    }))
}

async fn load_view() -> IcebergError {
    IcebergError::new(
        StatusCode::NOT_FOUND,
        "NoSuchViewException",
        "batchmeta serves tables only, no views",
    )
}

/// The message of every refused write.
pub(crate) const READ_ONLY: &str = "this Iceberg catalog is read-only and nothing was changed: \
write batchmeta tables with batchmeta itself (Python: bm.store_dataframe(df, \"namespace\", \"table\", partitions=[...]); \
CLI: meta store / meta publish; HTTP: POST /v1/namespaces/{namespace}/tables/{table}/store), \
then read them here";

async fn refuse() -> Response {
    IcebergError::new(StatusCode::FORBIDDEN, "ForbiddenException", READ_ONLY).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn every_iceberg_route_is_in_the_policy() {
        for (m, path) in ROUTES {
            let method = Method::from_bytes(m.as_bytes()).unwrap_or(Method::GET);
            assert!(
                super::super::auth::policy(&method, path).is_some(),
                "{m} {path} has no access policy"
            );
        }
        assert_eq!(
            super::super::auth::policy(&Method::GET, "/iceberg/v1/unknown"),
            None
        );
    }
}
