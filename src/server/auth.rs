//! Authentication, authorization and the per-token rate limit of the API.
//!
//! One middleware runs on every API route (after routing, so it knows the
//! route's template). It finds the caller, checks what the route needs
//! against the caller's grants ([`policy`]), counts the request against the
//! token's rate, and leaves an [`Authenticated`] in the request for the
//! handlers: the principal events record, and the access that list
//! endpoints filter by.
//!
//! With [`AuthMode::Off`] (the loopback default) everyone is a global admin
//! and the principal is the declared `x-batchmeta-principal` header. With
//! [`AuthMode::Tokens`] every route but health, readiness and the API
//! document needs `Authorization: Bearer bm_...`; the principal is
//! `token:<name>` and no header can change it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::PRINCIPAL_HEADER;
use crate::Code;
use crate::auth::{self, Rejection};
use crate::model::{Access, Context, Grant, NamespaceName, Role, Token};

/// Whether the server asks for tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// No authentication: every caller may do everything and names itself
    /// with `x-batchmeta-principal`. Only for loopback (`meta serve`
    /// refuses other addresses without `--insecure`).
    #[default]
    Off,
    /// Bearer tokens from the catalog (`meta token create`).
    Tokens,
}

/// Authentication settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthConfig {
    /// Off or tokens.
    pub mode: AuthMode,
    /// Requests per second per token (also the burst); 0 turns the limit off.
    pub rate_per_token: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::Off,
            rate_per_token: DEFAULT_RATE,
        }
    }
}

/// Default requests per second per token.
pub const DEFAULT_RATE: u32 = 1000;

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing: health and readiness.
    Public,
    /// Any valid token.
    AnyToken,
    /// At least this role on the route's `{namespace}`.
    Namespace(Role),
    /// At least this role on every namespace.
    Everywhere(Role),
    /// Any valid token; the handler shows only what the token may read.
    Filtered,
    /// Admin on some namespace; the handler checks the tokens concerned.
    SomeAdmin,
}

/// The access policy: what each route (method and template) needs. `None`
/// for a route the policy does not know, which is refused.
pub fn policy(method: &Method, route: &str) -> Option<Need> {
    use Need::*;
    use Role::*;
    let m = method.as_str();
    Some(match (m, route) {
        (_, "/healthz" | "/readyz") => Public,
        (_, "/metrics" | "/v1/config") => AnyToken,
        ("GET", "/v1/namespaces" | "/v1/pins" | "/v1/events") => Filtered,
        ("POST", "/v1/namespaces") => Everywhere(Admin),
        ("POST", "/v1/verify") | ("GET", "/v1/batches") => Everywhere(Admin),
        // Lineage crosses namespaces: reading it needs every namespace.
        ("POST", "/v1/lineage/edges") | ("GET", "/v1/stale") => Everywhere(Reader),
        ("GET" | "PUT", "/v1/runs/{run}/reads") => AnyToken,
        ("GET" | "POST", "/v1/tokens") | ("DELETE", "/v1/tokens/{name}") => SomeAdmin,
        // The body names the namespace: the handler checks admin there.
        ("POST", "/v1/gc") => SomeAdmin,
        ("GET", "/v1/namespaces/{namespace}") => Namespace(Reader),
        ("PATCH", "/v1/namespaces/{namespace}") => Namespace(Admin),
        ("GET", "/v1/namespaces/{namespace}/tables") => Namespace(Reader),
        ("POST", "/v1/namespaces/{namespace}/tables") => Namespace(Admin),
        ("GET", "/v1/namespaces/{namespace}/tables/{table}") => Namespace(Reader),
        ("PATCH" | "DELETE", "/v1/namespaces/{namespace}/tables/{table}") => Namespace(Admin),
        (_, r) if r.starts_with("/v1/namespaces/{namespace}/tables/{table}/") => {
            let rest = &r["/v1/namespaces/{namespace}/tables/{table}/".len()..];
            match (m, rest) {
                // Reads, whatever the method (resolve and read take bodies).
                (_, "partitions" | "resolve" | "history" | "wait" | "read") => Namespace(Reader),
                ("GET", "batches" | "batches/{batch_id}" | "batches/{batch_id}/pins") => {
                    Namespace(Reader)
                }
                ("GET", "pins" | "pins/{pin}") => Namespace(Reader),
                ("GET", "lineage") => Everywhere(Reader),
                ("POST", "rollback/impact") => Namespace(Writer),
                ("POST", "stage" | "store" | "publish" | "rollback" | "pins") => Namespace(Writer),
                ("POST", "batches/{batch_id}/files") => Namespace(Writer),
                ("POST" | "PUT", "batches/{batch_id}/data") => Namespace(Writer),
                ("DELETE", "batches/{batch_id}" | "pins/{pin}") => Namespace(Writer),
                _ => return None,
            }
        }
        (_, r) if r.starts_with("/iceberg/") => return iceberg_policy(m, r),
        _ => return None,
    })
}

/// The policy of the read-only Iceberg REST catalog (`server::iceberg`).
fn iceberg_policy(m: &str, route: &str) -> Option<Need> {
    use Need::*;
    use Role::*;
    let rest = route.strip_prefix("/iceberg/v1")?;
    Some(match (m, rest) {
        ("GET", "/config") => AnyToken,
        ("GET", "/namespaces") => Filtered,
        (
            "GET" | "HEAD",
            "/namespaces/{namespace}"
            | "/namespaces/{namespace}/tables"
            | "/namespaces/{namespace}/tables/{table}"
            | "/namespaces/{namespace}/views"
            | "/namespaces/{namespace}/views/{view}",
        ) => Namespace(Reader),
        ("POST", "/namespaces/{namespace}/tables/{table}/metrics") => Namespace(Reader),
        // Writes: their handlers refuse them (403, how to write with
        // batchmeta) and change nothing; the caller still needs a token.
        (
            "POST",
            "/namespaces"
            | "/namespaces/{namespace}/properties"
            | "/namespaces/{namespace}/tables"
            | "/namespaces/{namespace}/register"
            | "/namespaces/{namespace}/tables/{table}"
            | "/tables/rename"
            | "/transactions/commit",
        )
        | ("DELETE", "/namespaces/{namespace}" | "/namespaces/{namespace}/tables/{table}") => {
            AnyToken
        }
        _ => return None,
    })
}

/// The methods the access policy knows for a route template (empty for a
/// route it does not know at all).
fn allowed_methods(route: &str) -> Vec<&'static str> {
    if route.is_empty() {
        return Vec::new();
    }
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| Method::from_bytes(m.as_bytes()).is_ok_and(|m| policy(&m, route).is_some()))
        .collect()
}

/// The caller of a request, as the middleware established it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The principal events record.
    pub principal: String,
    /// What it may do.
    pub access: Access,
    /// The token, when the server asks for tokens.
    pub token: Option<Token>,
}

impl Authenticated {
    /// The context of the core calls.
    pub fn context(&self, request_id: Option<String>) -> Context {
        Context {
            principal: self.principal.clone(),
            request_id,
        }
    }

    /// The namespaces it may read: `None` for all.
    pub fn readable(&self) -> Option<Vec<NamespaceName>> {
        self.access.namespaces(Role::Reader)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .cloned()
            .ok_or_else(|| {
                ApiError::http(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Code::InternalError,
                    "internal error: the request was not authenticated",
                )
            })
    }
}

/// Token buckets, one per token id.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one request from `key`'s bucket (`rate` per second, burst
    /// `rate`); on refusal, how long until one is available.
    pub fn take(&self, key: &str, rate: u32) -> Result<(), Duration> {
        if rate == 0 {
            return Ok(());
        }
        let rate = f64::from(rate);
        let now = Instant::now();
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < rate
            });
        }
        let (tokens, at) = map.entry(key.to_owned()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

fn unauthorized(code: Code, message: String, bearer_error: Option<&str>) -> Response {
    let mut res = ApiError::http(StatusCode::UNAUTHORIZED, code, message).into_response();
    let challenge = match bearer_error {
        Some(e) => format!("Bearer realm=\"batchmeta\", error=\"{e}\""),
        None => "Bearer realm=\"batchmeta\"".to_owned(),
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

fn forbidden(message: String) -> Response {
    ApiError::http(StatusCode::FORBIDDEN, Code::Forbidden, message).into_response()
}

/// The declared principal of an unauthenticated deployment.
fn declared_principal(parts: &Parts) -> Result<String, ApiError> {
    let principal = parts
        .headers
        .get(PRINCIPAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("anonymous");
    if principal.len() > 256 || principal.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            Code::InvalidPrincipal,
            "the principal header must be at most 256 printable characters",
        ));
    }
    Ok(principal.to_owned())
}

/// The bearer token of a request: `Ok(None)` when there is no
/// `Authorization` header.
fn bearer(parts: &Parts) -> Result<Option<&str>, Rejection> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Rejection::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Rejection::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::Malformed);
    }
    Ok(Some(token.trim()))
}

fn rejection_code(r: Rejection) -> Code {
    match r {
        Rejection::Malformed => Code::MalformedToken,
        Rejection::Unknown => Code::InvalidToken,
        Rejection::Revoked => Code::TokenRevoked,
        Rejection::Expired => Code::TokenExpired,
    }
}

/// The route's `{namespace}`, as sent.
async fn namespace_param(parts: &mut Parts) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    params
        .iter()
        .find(|(k, _)| *k == "namespace")
        .map(|(_, v)| v.to_owned())
}

fn describe(need: Need, namespace: Option<&str>) -> String {
    match (need, namespace) {
        (Need::Namespace(role), Some(ns)) => format!("{role} on namespace {ns}"),
        (Need::Everywhere(role), _) => format!("{role} on every namespace (--role {role})"),
        (Need::SomeAdmin, _) => "admin on a namespace".to_owned(),
        _ => "a role".to_owned(),
    }
}

/// Decides whether `access` meets `need` for a request on `namespace`.
fn allowed(access: &Access, need: Need, namespace: Option<&str>) -> bool {
    match need {
        Need::Public | Need::AnyToken | Need::Filtered => true,
        Need::Everywhere(role) => access.allows_everywhere(role),
        Need::SomeAdmin => access
            .grants()
            .iter()
            .any(|g: &Grant| g.role == Role::Admin),
        Need::Namespace(role) => {
            access.allows_everywhere(role)
                || namespace
                    .and_then(|ns| NamespaceName::new(ns).ok())
                    .is_some_and(|ns| access.allows(role, &ns))
        }
    }
}

/// The middleware: authenticate, authorize, rate-limit.
pub(crate) async fn authenticate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(need) = policy(&parts.method, &route) else {
        let allow = allowed_methods(&route);
        if !allow.is_empty() {
            // A route that exists, with a method it does not have.
            let mut resp = ApiError::http(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::MethodNotAllowed,
                format!(
                    "{} is not a method of {route}; it allows {}",
                    parts.method,
                    allow.join(", ")
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return resp;
        }
        tracing::error!(route = %route, method = %parts.method, "route missing from the access policy");
        return forbidden("this endpoint is not covered by the access policy".to_owned());
    };

    let caller = match s.auth.mode {
        AuthMode::Off => match declared_principal(&parts) {
            Ok(principal) => Authenticated {
                principal,
                access: Access::new(vec![Grant {
                    role: Role::Admin,
                    namespace: None,
                }]),
                token: None,
            },
            Err(e) => return e.into_response(),
        },
        AuthMode::Tokens if need == Need::Public => Authenticated {
            principal: "anonymous".to_owned(),
            access: Access::default(),
            token: None,
        },
        AuthMode::Tokens => {
            let token = match bearer(&parts) {
                Ok(None) => {
                    return unauthorized(
                        Code::Unauthorized,
                        "this server needs a token: send the header Authorization: Bearer <token> \
                         (the CLI and Python read BATCHMETA_TOKEN); an admin creates one with meta token create"
                            .to_owned(),
                        None,
                    );
                }
                Ok(Some(t)) => t,
                Err(r) => {
                    return unauthorized(
                        rejection_code(r),
                        r.error().to_string(),
                        Some("invalid_token"),
                    );
                }
            };
            let Some(presented) = auth::parse(token) else {
                let r = Rejection::Malformed;
                return unauthorized(
                    rejection_code(r),
                    r.error().to_string(),
                    Some("invalid_token"),
                );
            };
            let stored = match s.ms.token_by_id(presented.id).await {
                Ok(t) => t,
                Err(e) => return ApiError::from(e).into_response(),
            };
            let token = match auth::check(&presented, stored, chrono::Utc::now()) {
                Ok(t) => t,
                Err(r) => {
                    return unauthorized(
                        rejection_code(r),
                        r.error().to_string(),
                        Some("invalid_token"),
                    );
                }
            };
            if let Err(wait) = s.limiter.take(&token.id, s.auth.rate_per_token) {
                let secs = wait.as_secs_f64().ceil().max(1.0);
                let mut res = ApiError::http(
                    StatusCode::TOO_MANY_REQUESTS,
                    Code::RateLimited,
                    format!(
                        "token {} is over its limit of {} requests per second: retry after {secs} s",
                        token.name, s.auth.rate_per_token
                    ),
                )
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("{secs}")) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return res;
            }
            Authenticated {
                principal: token.principal(),
                access: token.access(),
                token: Some(token),
            }
        }
    };

    let namespace = namespace_param(&mut parts).await;
    if !allowed(&caller.access, need, namespace.as_deref())
        && !crate::faults::active("skip_authorization")
    {
        let who = caller
            .token
            .as_ref()
            .map_or_else(|| caller.principal.clone(), |t| format!("token {}", t.name));
        let needs = describe(need, namespace.as_deref());
        return forbidden(format!(
            "{who} may not {} {}: it needs {needs}; ask an admin for a token with that role (meta token create --role ...)",
            parts.method,
            parts.uri.path()
        ));
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_route_is_in_the_policy() {
        let doc = super::super::openapi();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                if op.is_some() {
                    assert!(
                        policy(&method, path).is_some(),
                        "{method} {path} has no access policy"
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_routes_are_refused() {
        assert_eq!(policy(&Method::GET, "/v1/something_new"), None);
        assert_eq!(
            policy(
                &Method::PATCH,
                "/v1/namespaces/{namespace}/tables/{table}/publish"
            ),
            None
        );
    }

    #[test]
    fn rate_limiter_refuses_past_the_burst() {
        let l = RateLimiter::default();
        for _ in 0..5 {
            assert!(l.take("t", 5).is_ok());
        }
        let wait = l.take("t", 5).err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(200));
        assert!(l.take("other", 5).is_ok());
        assert!(l.take("t", 0).is_ok());
    }
}
