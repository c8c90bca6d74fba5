//! What the server refuses before it does any work: oversized or too deeply
//! nested JSON, too many partitions in one request, Parquet uploads whose
//! footer declares more data than the server will decompress, and clients
//! that send their headers or bodies too slowly. Every refusal has a stable
//! code and the shared error body; nothing is written to the catalog or the
//! store first. The limits, their defaults and their flags: docs/limits.md.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::body_pace::{BodyPace, DRAIN_AT_MOST, Stalled, drain};
use super::error::ApiError;
use super::{AppState, ServerConfig};
use crate::Body;
use crate::error::{Code, Error, Result};

/// Largest JSON request body: 2 MiB.
pub const DEFAULT_MAX_JSON_BYTES: usize = 2 << 20;
/// Deepest nesting of arrays and objects in a JSON body.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 32;
/// Most partitions (or file paths) one request may name.
pub const DEFAULT_MAX_PARTITIONS: usize = 10_000;
/// Most data a Parquet upload may declare uncompressed: 64 GiB.
pub const DEFAULT_MAX_UNCOMPRESSED: u64 = 64 << 30;
/// Highest declared uncompressed/compressed ratio of a Parquet upload.
pub const DEFAULT_MAX_COMPRESSION_RATIO: u64 = 1000;
/// The ratio check applies only to uploads declaring at least this much
/// uncompressed data (small files may legitimately compress very well).
pub const RATIO_CHECK_FLOOR: u64 = 16 << 20;
/// Time a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest pause between two chunks of a request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Slowest average rate a request body may arrive at once its first
/// [`DEFAULT_BODY_READ_TIMEOUT`] is over, in bytes a second (Apache's
/// `mod_reqtimeout` default).
pub const DEFAULT_MIN_BODY_RATE: u64 = 500;

// ---------------------------------------------------------------- JSON

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .map(|ct| {
            let ct = ct.trim().to_ascii_lowercase();
            ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn json_too_large(limit: usize) -> ApiError {
    ApiError::http(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::PayloadTooLarge,
        format!(
            "the JSON body is larger than this server's limit of {limit} bytes: split the request (e.g. fewer partitions per call), or raise the server's --max-json-bytes"
        ),
    )
}

fn body_timeout(why: &Stalled) -> ApiError {
    ApiError::http(
        StatusCode::REQUEST_TIMEOUT,
        Code::BodyTimeout,
        why.message("the request body"),
    )
}

/// Middleware: a JSON body is read whole (refused with 413 past
/// `max_json_bytes`, 408 `body_timeout` if a chunk takes longer than
/// `body_read_timeout`) and its nesting checked (400
/// `json_too_deep`) before any handler sees it.
pub(super) async fn json_limits(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !is_json(&req) {
        return next.run(req).await;
    }
    let cfg = &s.config;
    let limit = cfg.max_json_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = req.into_parts();
    let mut data = body.into_data_stream();
    let mut pace = BodyPace::new(cfg);
    if declared.is_some_and(|n| n > limit as u64) {
        if declared.is_some_and(|n| n <= DRAIN_AT_MOST) {
            drain(&mut data, &mut pace, 0).await;
        }
        return json_too_large(limit).into_response();
    }
    let mut buf = Vec::new();
    loop {
        match pace.next(&mut data).await {
            Err(why) => return body_timeout(&why).into_response(),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return ApiError::bad_request(
                    Code::InvalidBody,
                    format!("could not read the request body: {e}"),
                )
                .into_response();
            }
            Ok(Some(Ok(chunk))) => {
                if buf.len() + chunk.len() > limit {
                    let read = (buf.len() + chunk.len()) as u64;
                    drain(&mut data, &mut pace, read).await;
                    return json_too_large(limit).into_response();
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    let bytes = bytes::Bytes::from(buf);
    if let Err(depth) = check_depth(&bytes, cfg.max_json_depth) {
        return ApiError::bad_request(
            Code::JsonTooDeep,
            format!(
                "the JSON body nests arrays and objects {depth} deep; this server accepts at most {} levels: flatten it",
                cfg.max_json_depth
            ),
        )
        .into_response();
    }
    next.run(Request::from_parts(parts, AxumBody::from(bytes)))
        .await
}

/// `Err(depth)` when `json` nests arrays/objects deeper than `max`.
/// A byte scan (no recursion), so a hostile body cannot exhaust the stack;
/// malformed JSON is left to the parser.
pub(crate) fn check_depth(json: &[u8], max: usize) -> std::result::Result<(), usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// 400 `too_many_partitions` when one request names more than the server's
/// limit of partitions (`what` says what was counted).
pub(crate) fn check_count(s: &AppState, what: &str, n: usize) -> std::result::Result<(), ApiError> {
    let max = s.config.max_partitions_per_request;
    if n > max {
        return Err(ApiError::bad_request(
            Code::TooManyPartitions,
            format!(
                "the request names {n} {what}; this server accepts at most {max} per request: split it over several requests, or raise the server's --max-partitions-per-request if they must commit together"
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- uploads

/// An upload body as a stream of chunks: 413 past `max_upload_bytes`
/// (declared or counted), `body_timeout` when the client stalls.
pub(crate) async fn upload_body(
    cfg: &ServerConfig,
    req: Request,
) -> std::result::Result<Body, ApiError> {
    let limit = cfg.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut data = req.into_body().into_data_stream();
    let mut pace = BodyPace::new(cfg);
    if declared.is_some_and(|n| n > limit) {
        if declared.is_some_and(|n| n <= DRAIN_AT_MOST) {
            drain(&mut data, &mut pace, 0).await;
        }
        return Err(upload_too_large(limit).into());
    }
    let chunks = futures::stream::unfold(
        (data, pace, 0u64, false),
        move |(mut data, mut pace, seen, done)| async move {
            if done {
                return None;
            }
            match pace.next(&mut data).await {
                Err(why) => Some((
                    Err(Error::invalid(Code::BodyTimeout, why.message("the upload"))),
                    (data, pace, seen, true),
                )),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some((
                    Err(Error::invalid(
                        Code::InvalidBody,
                        format!("could not read the request body: {e}"),
                    )),
                    (data, pace, seen, true),
                )),
                Ok(Some(Ok(chunk))) => {
                    let seen = seen + chunk.len() as u64;
                    if seen > limit {
                        drain(&mut data, &mut pace, seen).await;
                        Some((Err(upload_too_large(limit)), (data, pace, seen, true)))
                    } else {
                        Some((Ok(chunk), (data, pace, seen, false)))
                    }
                }
            }
        },
    );
    Ok(chunks.boxed())
}

fn upload_too_large(limit: u64) -> Error {
    Error::TooLarge(format!(
        "the upload is larger than this server's limit of {limit} bytes: split the data over several writes to the batch, or write to the warehouse directly"
    ))
}

/// A stalled body is a 408, whichever layer noticed it.
pub(crate) fn timeout_status(e: ApiError) -> ApiError {
    match e {
        ApiError::Core(Error::InvalidInput {
            code: Code::BodyTimeout,
            message,
            ..
        }) => ApiError::http(StatusCode::REQUEST_TIMEOUT, Code::BodyTimeout, message),
        other => other,
    }
}

/// Removes a spool file unless it was handed on.
struct Spool(Option<PathBuf>);

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn spool_error(e: std::io::Error) -> ApiError {
    // A full temporary directory is a 507 like a full warehouse.
    let what = "spooling the upload to a local file";
    crate::unavailable::io(crate::Dependency::Storage, &e, what)
        .map(|e| e.at(&std::env::temp_dir().display().to_string()))
        .unwrap_or_else(|| Error::Internal(format!("{what}: {e}")))
        .into()
}

/// Receives a whole Parquet upload into a local temporary file, reads its
/// footer and refuses it (400 `invalid_data_file` when it is not Parquet or
/// is truncated, 413 `decompression_limit` when its declared uncompressed
/// size or compression ratio is over the limits) before a byte reaches the
/// store; then hands the file on as the body.
pub(crate) async fn spool_parquet(
    cfg: &ServerConfig,
    mut body: Body,
) -> std::result::Result<Body, ApiError> {
    let path =
        std::env::temp_dir().join(format!("batchmeta-upload-{}.parquet", uuid::Uuid::new_v4()));
    let mut spool = Spool(Some(path.clone()));
    let mut file = tokio::fs::File::create(&path).await.map_err(spool_error)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| timeout_status(e.into()))?;
        file.write_all(&chunk).await.map_err(spool_error)?;
    }
    file.flush().await.map_err(spool_error)?;
    drop(file);
    let p = path.clone();
    let meta = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&p)?;
        Ok::<_, std::io::Error>(
            parquet::file::metadata::ParquetMetaDataReader::new().parse_and_finish(&f),
        )
    })
    .await
    .map_err(|e| ApiError::from(Error::Internal(e.to_string())))?
    .map_err(spool_error)?
    .map_err(|e| {
        Error::invalid(
            Code::InvalidDataFile,
            format!(
                "the upload is not a readable Parquet file ({e}): check that it was written completely by a Parquet writer"
            ),
        )
    })?;
    check_declared_sizes(cfg, &meta)?;
    let file = tokio::fs::File::open(&path).await.map_err(spool_error)?;
    // The open handle keeps the data; the name can go now. (If removal
    // fails, the guard inside the stream retries when it is dropped.)
    let keep = Spool(spool.0.take());
    let stream = futures::stream::unfold((file, keep), |(mut file, keep)| async move {
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), (file, keep)))
            }
            Err(e) => Some((
                Err(Error::Internal(format!(
                    "could not read the spooled upload: {e}"
                ))),
                (file, keep),
            )),
        }
    });
    Ok(stream.boxed())
}

/// The decompression-bomb check on a Parquet footer.
pub(crate) fn check_declared_sizes(
    cfg: &ServerConfig,
    meta: &parquet::file::metadata::ParquetMetaData,
) -> std::result::Result<(), ApiError> {
    let (mut compressed, mut uncompressed) = (0u64, 0u64);
    for rg in meta.row_groups() {
        for c in rg.columns() {
            compressed = compressed.saturating_add(c.compressed_size().max(0) as u64);
            uncompressed = uncompressed.saturating_add(c.uncompressed_size().max(0) as u64);
        }
        // A row group may declare a total of its own; take the larger.
        uncompressed = uncompressed.max(rg.total_byte_size().max(0) as u64);
    }
    let refuse = |why: String| {
        Err(ApiError::http(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::DecompressionLimit,
            format!(
                "{why}: refused before anything was stored; write it as several smaller files (or with less extreme compression), or raise the server's limit"
            ),
        ))
    };
    if uncompressed > cfg.max_uncompressed_bytes {
        return refuse(format!(
            "the Parquet file declares {uncompressed} bytes uncompressed, over this server's limit of {} (--max-uncompressed-bytes)",
            cfg.max_uncompressed_bytes
        ));
    }
    if uncompressed >= RATIO_CHECK_FLOOR
        && uncompressed / compressed.max(1) > cfg.max_compression_ratio
    {
        return refuse(format!(
            "the Parquet file declares {uncompressed} bytes uncompressed from {compressed} compressed, a ratio over this server's limit of {} (--max-compression-ratio)",
            cfg.max_compression_ratio
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- slow clients

/// Serves `app` like [`super::serve`], with the header read timeout of
/// `cfg` (a client that has not sent its whole request head in time is
/// disconnected). Body stalls are handled where bodies are read
/// ([`json_limits`], [`upload_body`]). On `shutdown`, stops accepting and lets in-flight
/// requests finish.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    cfg: &ServerConfig,
) -> Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    // HTTP/1.1 only: hyper's header read timeout covers a connection from
    // its first byte (the HTTP/2 auto-detection of axum's `serve` would
    // wait for a silent client without a limit).
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = io.set_nodelay(true);
        let router = app.clone();
        let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
            let router = router.clone();
            async move {
                use tower::ServiceExt;
                router.oneshot(req.map(AxumBody::new)).await
            }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(io), svc));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_depth;

    #[test]
    fn depth_counts_nesting_outside_strings() {
        assert_eq!(check_depth(br#"{"a":[1,2,{"b":3}]}"#, 3), Ok(()));
        assert_eq!(check_depth(br#"{"a":[1,2,{"b":3}]}"#, 2), Err(3));
        assert_eq!(check_depth(br#"{"a":"[[[[[[\"[[["}"#, 1), Ok(()));
        let deep = "[".repeat(10_000);
        assert_eq!(check_depth(deep.as_bytes(), 32), Err(33));
    }
}
