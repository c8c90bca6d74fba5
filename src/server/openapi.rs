//! What every operation of the OpenAPI document shares, added in one place
//! rather than on each route: the security requirement, the error statuses
//! that come from the layers around the handlers (authentication, the rate
//! limit, request decoding) rather than from the handlers themselves, a
//! description on every response, and the schema of binary bodies.

use axum::http::StatusCode;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// The media types of binary bodies: Parquet and Arrow IPC uploads, and
/// the Arrow IPC stream `POST .../read` answers with.
const BINARY_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.apache.parquet",
    "application/vnd.apache.arrow.stream",
];

use super::auth::{Need, policy};

fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

/// Documents `status` with the error body, unless the route already does.
fn add(op: &mut Operation, status: &str) {
    add_described(op, status, default_description(status));
}

/// [`add`] with a description of its own.
fn add_described(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| error(description));
}

/// A 503 of an API operation: a dependency, not the server, is down.
const DEPENDENCY_UNAVAILABLE: &str = "The catalog database or the object store is unreachable or read-only (`database_unavailable`, `storage_unavailable`): nothing was changed; retry after `Retry-After` seconds";

fn operations(item: &mut PathItem) -> Vec<(axum::http::Method, &mut Operation)> {
    use axum::http::Method;
    [
        (Method::GET, item.get.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The description of a response the route did not describe.
fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "Success",
        "201" => "Created",
        "204" => "Done; no body",
        "400" => "Invalid path, query or body",
        "401" => {
            "No token, or a malformed, unknown, revoked or expired one (with `WWW-Authenticate: Bearer`)"
        }
        "403" => "The token's roles do not allow this",
        "404" => "No such namespace, table or other object",
        "408" => "Timed out waiting",
        "409" => {
            "Conflict: the object exists, or the partition moved (the body names its current batch)"
        }
        "413" => "The request body is too large",
        "415" => "Wrong content type",
        "422" => "The data does not fit the table (schema or files)",
        "429" => "The token is over its request rate; retry after `Retry-After` seconds",
        "500" => "Internal error (the body carries only the request id)",
        "503" => "Not ready",
        "507" => {
            "The disk or quota under the catalog or the warehouse is full (`insufficient_storage`): nothing was published"
        }
        other => other
            .parse::<u16>()
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Response"),
    }
}

/// A binary body of `media_type`: a string of bytes (`format: binary` for
/// OpenAPI 3.0 tools, `contentMediaType` for 3.1).
fn binary(media_type: &str) -> Content {
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .content_media_type(media_type),
        ))
        .build()
}

/// Adds the shared statuses, descriptions, binary schemas and the security
/// requirement to `doc`.
pub(super) fn document_common_responses(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("bm_<id>_<secret>".to_owned());
        http.description = Some(
            "A token from `meta token create`, on a server started with `--auth tokens`.".into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
    // A token is needed only on a server started with `--auth tokens`, so
    // the requirement is "none, or bearer" and it is declared once for the
    // document: generators then give every operation a client that may or
    // may not carry a token, instead of forcing an authenticated one on a
    // loopback server without tokens. Public operations opt out with `[]`.
    doc.security = Some(vec![
        SecurityRequirement::default(),
        SecurityRequirement::new("bearer", Vec::<String>::new()),
    ]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for (method, op) in operations(item) {
            let public = policy(&method, path) == Some(Need::Public);
            if public {
                op.security = Some(Vec::new());
            } else {
                add(op, "401");
                add(op, "403");
                add(op, "429");
            }
            let has_query = op.parameters.as_ref().is_some_and(|ps| !ps.is_empty());
            if has_path_params || has_query || op.request_body.is_some() {
                add(op, "400");
            }
            if has_path_params {
                add(op, "404");
            }
            if op.request_body.is_some() {
                add(op, "413");
                add(op, "415");
            }
            add(op, "500");
            // Every API operation reads the catalog; every change may
            // also meet a full disk.
            if path.starts_with("/v1/") {
                add_described(op, "503", DEPENDENCY_UNAVAILABLE);
                if method != axum::http::Method::GET {
                    add(op, "507");
                }
            }
            describe_and_type(op);
        }
    }
}

/// Gives every response a description (OpenAPI requires one) and every
/// binary body its schema.
fn describe_and_type(op: &mut Operation) {
    let mut binaries: Vec<(&String, &mut RefOr<Content>)> = Vec::new();
    if let Some(RefOr::T(body)) = op.request_body.as_mut() {
        binaries.extend(body.content.iter_mut());
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                response.description = default_description(status).to_owned();
            }
            binaries.extend(response.content.iter_mut());
        }
    }
    for (media_type, content) in binaries {
        if BINARY_MEDIA_TYPES.contains(&media_type.as_str()) {
            *content = RefOr::T(binary(media_type));
        }
    }
}
