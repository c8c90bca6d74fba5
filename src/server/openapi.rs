//! What every operation of the OpenAPI document shares, added in one place
//! rather than on each route: the bearer scheme, and the error statuses that
//! come from the layers around the handlers (authentication, the rate limit,
//! request decoding) rather than from the handlers themselves.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

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

fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| error(description));
}

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

/// Adds the shared statuses and the bearer scheme to `doc`.
pub(super) fn document_common_responses(doc: &mut OpenApi) {
    if let Some(components) = doc.components.as_mut() {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("bm_<id>_<secret>".to_owned());
        http.description = Some(
            "A token from `meta token create`, on a server started with `--auth tokens`.".into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for (method, op) in operations(item) {
            let public = policy(&method, path) == Some(Need::Public);
            if !public {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                add(
                    op,
                    "401",
                    "No token, or a malformed, unknown, revoked or expired one (with `WWW-Authenticate: Bearer`)",
                );
                add(op, "403", "The token's roles do not allow this");
                add(
                    op,
                    "429",
                    "The token is over its request rate; retry after `Retry-After` seconds",
                );
            }
            let has_query = op.parameters.as_ref().is_some_and(|ps| !ps.is_empty());
            if has_path_params || has_query || op.request_body.is_some() {
                add(op, "400", "Invalid path, query or body");
            }
            if has_path_params {
                add(op, "404", "No such namespace, table or other object");
            }
            if op.request_body.is_some() {
                add(op, "413", "The request body is too large");
                add(op, "415", "Wrong content type");
            }
            add(
                op,
                "500",
                "Internal error (the body carries only the request id)",
            );
        }
    }
}
