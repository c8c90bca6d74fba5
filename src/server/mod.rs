//! The HTTP service (`meta serve`): the v1 REST API over the [`Metastore`]
//! facade, OpenAPI at `/openapi.json`, Swagger UI at `/docs`, health,
//! readiness and Prometheus metrics.
//!
//! `app()` builds the router (tested in-process); `serve()` binds it with
//! graceful shutdown: in-flight requests, publishes included, finish first.

pub mod auth;
mod body_pace;
pub mod error;
pub mod extract;
mod iceberg;
pub mod limits;
mod metrics;
mod openapi;
pub mod openlineage;
mod ready;
mod routes;
pub(crate) mod schemas;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use metrics::Metrics;

use crate::Metastore;
use crate::error::{Code, Result};

/// Default upload limit: 8 GiB.
pub const DEFAULT_MAX_UPLOAD: u64 = 8 << 30;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest upload body, in bytes (413 beyond it).
    pub max_upload_bytes: u64,
    /// Largest JSON request body, in bytes (413 `payload_too_large`).
    pub max_json_bytes: usize,
    /// Deepest nesting of a JSON body (400 `json_too_deep`).
    pub max_json_depth: usize,
    /// Most partitions one request may name (400 `too_many_partitions`).
    pub max_partitions_per_request: usize,
    /// Most data a Parquet upload may declare uncompressed (413 `decompression_limit`).
    pub max_uncompressed_bytes: u64,
    /// Highest declared compression ratio of a Parquet upload (413 `decompression_limit`).
    pub max_compression_ratio: u64,
    /// Time a client has to send its request head (the connection is closed).
    pub header_read_timeout: std::time::Duration,
    /// Longest pause between two chunks of a request body (408 `body_timeout`).
    pub body_read_timeout: std::time::Duration,
    /// Slowest average rate of a request body once its first
    /// `body_read_timeout` is over, in bytes a second; 0 turns it off (408
    /// `body_timeout`).
    pub min_body_rate: u64,
    /// Tokens or no authentication, and the per-token rate.
    pub auth: auth::AuthConfig,
    /// Most main-history snapshots one Iceberg loadTable carries.
    pub iceberg_max_snapshots: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: DEFAULT_MAX_UPLOAD,
            max_json_bytes: limits::DEFAULT_MAX_JSON_BYTES,
            max_json_depth: limits::DEFAULT_MAX_JSON_DEPTH,
            max_partitions_per_request: limits::DEFAULT_MAX_PARTITIONS,
            max_uncompressed_bytes: limits::DEFAULT_MAX_UNCOMPRESSED,
            max_compression_ratio: limits::DEFAULT_MAX_COMPRESSION_RATIO,
            header_read_timeout: limits::DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: limits::DEFAULT_BODY_READ_TIMEOUT,
            min_body_rate: limits::DEFAULT_MIN_BODY_RATE,
            auth: auth::AuthConfig::default(),
            iceberg_max_snapshots: crate::iceberg::DEFAULT_MAX_SNAPSHOTS,
        }
    }
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The facade.
    pub ms: Metastore,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Authentication settings (a copy of `config.auth`).
    pub auth: auth::AuthConfig,
    /// The per-token rate limit's buckets.
    pub limiter: Arc<auth::RateLimiter>,
    /// The last readiness probe.
    pub(crate) readiness: Arc<ready::Readiness>,
}

#[derive(OpenApi)]
#[openapi(
    components(schemas(crate::model::Order, crate::model::SchemaMode)),
    info(
        title = "batchmeta",
        description = "A versioned table metastore: batch-ID partitions, atomic publish, rollback, audit trail, pins, time travel."
    ),
    tags(
        (name = "namespaces"), (name = "tables"), (name = "partitions"), (name = "batches"),
        (name = "pins"), (name = "events"), (name = "verify"), (name = "retention"), (name = "tokens"), (name = "system")
    )
)]
struct ApiDoc;

/// The routes and the OpenAPI document they produce.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let parts = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            routes::namespaces::list,
            routes::namespaces::create
        ))
        .routes(routes!(routes::namespaces::get, routes::namespaces::update))
        .routes(routes!(routes::tables::list, routes::tables::create))
        .routes(routes!(
            routes::tables::get,
            routes::tables::update,
            routes::tables::drop
        ))
        .routes(routes!(routes::partitions::list))
        .routes(routes!(routes::partitions::resolve))
        .routes(routes!(routes::partitions::history))
        .routes(routes!(routes::partitions::wait))
        .routes(routes!(routes::partitions::read))
        .routes(routes!(routes::batches::stage))
        .routes(routes!(routes::batches::list))
        .routes(routes!(routes::batches::get, routes::batches::discard))
        .routes(routes!(routes::batches::add_files))
        .routes(routes!(routes::batches::upload_data))
        .routes(routes!(routes::batches::store))
        .routes(routes!(routes::batches::publish))
        .routes(routes!(routes::batches::rollback))
        .routes(routes!(routes::batches::holders))
        .routes(routes!(routes::batches::committed))
        .routes(routes!(routes::lineage::edges))
        .routes(routes!(routes::lineage::lineage))
        .routes(routes!(routes::lineage::rollback_impact))
        .routes(routes!(routes::lineage::stale))
        .routes(routes!(
            routes::lineage::get_run_reads,
            routes::lineage::save_run_reads
        ))
        .routes(routes!(routes::pins::list, routes::pins::create))
        .routes(routes!(routes::pins::list_all))
        .routes(routes!(routes::pins::get, routes::pins::delete))
        .routes(routes!(routes::events::list))
        .routes(routes!(routes::events::verify))
        .routes(routes!(routes::gc::gc))
        .routes(routes!(routes::system::healthz))
        .routes(routes!(routes::system::readyz))
        .routes(routes!(routes::system::metrics))
        .routes(routes!(routes::system::config))
        .routes(routes!(routes::tokens::list, routes::tokens::create))
        .routes(routes!(routes::tokens::revoke))
        .split_for_parts();
    let (router, mut doc) = parts;
    openapi::document_common_responses(&mut doc);
    // The Iceberg REST catalog is documented by the Iceberg spec, not here.
    (router.merge(iceberg::router()), doc)
}

/// The OpenAPI 3.1 document of the API, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// Counts every request by its route template and status.
async fn track(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    s.metrics
        .request(&method, &route, res.status().as_u16(), start.elapsed());
    res
}

/// Fallback for unknown routes, with the shared error body.
async fn not_found() -> error::ApiError {
    error::ApiError::http(
        axum::http::StatusCode::NOT_FOUND,
        Code::RouteNotFound,
        "no such endpoint; see /docs for the API",
    )
}

/// The whole application: API, OpenAPI document, Swagger UI and middleware.
pub fn app(ms: Metastore, config: ServerConfig) -> Router {
    app_with_metrics(ms, config, Arc::new(Metrics::default()))
}

/// [`app`] with metrics shared with another edge of the same process (the
/// Hive Metastore Thrift listener), so `/metrics` shows both.
pub fn app_with_metrics(ms: Metastore, config: ServerConfig, metrics: Arc<Metrics>) -> Router {
    let state = AppState {
        ms,
        metrics,
        auth: config.auth,
        config: Arc::new(config),
        limiter: Arc::new(auth::RateLimiter::default()),
        readiness: Arc::default(),
    };
    let (api, doc) = routes();
    let doc_json = doc.clone();
    // Route layers run outermost last: `track` counts the 401s and 403s too.
    api.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ))
    .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(doc_json.clone()) }))
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/docs/openapi.json", doc))
        .fallback(not_found)
        .layer(middleware::from_fn(iceberg::error_bodies))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::json_limits,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_json_bytes,
        ))
        .with_state(state)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish; slow clients get the default header read
/// timeout (see [`limits::serve_with`] to choose it).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    limits::serve_with(listener, app, shutdown, &ServerConfig::default()).await
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: a server that answers
/// before its shutdown future runs must not die of a SIGTERM's default
/// action (the race `sigterm_shuts_down_gracefully` hit on a loaded
/// machine). Call it inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn recv(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = recv(interrupt) => {},
                () = recv(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
