//! What the server refuses before it does any work: oversized or too deeply
//! nested JSON, too many partitions in one request, Parquet uploads whose
//! footer declares more data than the server will decompress, and clients
//! that send their headers or bodies too slowly. Every refusal has a stable
//! code and the shared error body; nothing is written to the catalog or the
//! store first. The limits, their defaults and their flags: docs/limits.md.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// The pace a request body must keep, in the model of Apache's
/// `mod_reqtimeout` (`body=60,MinRate=500`): no pause longer than the idle
/// timeout, and the whole body by a deadline that starts at the idle
/// timeout and moves one second later for every `min_rate` bytes received.
/// A client that sends one byte a second is cut off after about a minute
/// however long its body claims to be; an upload of gigabytes at any
/// reasonable rate never meets the deadline.
#[derive(Debug)]
struct BodyPace {
    started: Instant,
    received: u64,
    idle: Duration,
    min_rate: u64,
}

/// Why a body was cut off.
enum Stalled {
    /// A pause longer than the idle timeout.
    Paused(Duration),
    /// On average slower than the minimum rate, after the first `grace`.
    TooSlow {
        received: u64,
        grace: Duration,
        min_rate: u64,
    },
}

impl BodyPace {
    fn new(cfg: &ServerConfig) -> Self {
        Self {
            started: Instant::now(),
            received: 0,
            idle: cfg.body_read_timeout,
            min_rate: cfg.min_body_rate,
        }
    }

    /// How long to wait for the next chunk, and why the wait would end.
    fn wait(&self) -> (Duration, Stalled) {
        let paused = (self.idle, Stalled::Paused(self.idle));
        if self.min_rate == 0 {
            return paused;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        let left = (self.idle + earned).saturating_sub(self.started.elapsed());
        if left < self.idle {
            let slow = Stalled::TooSlow {
                received: self.received,
                grace: self.idle,
                min_rate: self.min_rate,
            };
            (left, slow)
        } else {
            paused
        }
    }

    /// The next chunk of a body, or why the body was cut off.
    async fn next<S, E>(&mut self, data: &mut S) -> Result<Option<Result<Bytes, E>>, Stalled>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let (wait, why) = self.wait();
        let item = tokio::time::timeout(wait, data.next())
            .await
            .map_err(|_| why)?;
        if let Some(Ok(chunk)) = &item {
            self.received += chunk.len() as u64;
        }
        Ok(item)
    }
}

impl Stalled {
    /// The message of the 408, for `what` ("the request body", "the upload").
    fn message(&self, what: &str) -> String {
        match self {
            Stalled::Paused(after) => format!(
                "{what} stalled for more than {} ms: send it without pauses, then retry",
                after.as_millis()
            ),
            Stalled::TooSlow {
                received,
                grace,
                min_rate,
            } => format!(
                "{what} arrived too slowly ({received} bytes so far): after its first {} s this server needs at least {min_rate} bytes a second on average; send it over a faster link, then retry",
                grace.as_secs()
            ),
        }
    }
}

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
    if declared.is_some_and(|n| n > limit as u64) {
        return json_too_large(limit).into_response();
    }
    let (parts, body) = req.into_parts();
    let mut data = body.into_data_stream();
    let mut buf = Vec::new();
    let mut pace = BodyPace::new(cfg);
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
pub(crate) fn upload_body(cfg: &ServerConfig, req: Request) -> std::result::Result<Body, ApiError> {
    let limit = cfg.max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(upload_too_large(limit).into());
    }
    let chunks = futures::stream::unfold(
        (
            req.into_body().into_data_stream(),
            BodyPace::new(cfg),
            false,
        ),
        move |(mut data, mut pace, done)| async move {
            if done {
                return None;
            }
            match pace.next(&mut data).await {
                Err(why) => Some((
                    Err(Error::invalid(Code::BodyTimeout, why.message("the upload"))),
                    (data, pace, true),
                )),
                Ok(None) => None,
                Ok(Some(r)) => Some((
                    r.map_err(|e| {
                        Error::invalid(
                            Code::InvalidBody,
                            format!("could not read the request body: {e}"),
                        )
                    }),
                    (data, pace, false),
                )),
            }
        },
    );
    let mut seen = 0u64;
    let stream = chunks.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            Err(upload_too_large(limit))
        } else {
            Ok(chunk)
        }
    });
    Ok(stream.boxed())
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
    use super::{BodyPace, ServerConfig, Stalled, check_depth};
    use bytes::Bytes;
    use futures::StreamExt as _;
    use std::time::Duration;

    /// A body of `n` one-byte chunks, one every `every`.
    fn trickle(
        n: usize,
        every: Duration,
    ) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        Box::pin(futures::stream::iter(0..n).then(move |_| async move {
            tokio::time::sleep(every).await;
            Ok(Bytes::from_static(b"x"))
        }))
    }

    async fn read_all(cfg: &ServerConfig, n: usize, every: Duration) -> Result<u64, Stalled> {
        let mut pace = BodyPace::new(cfg);
        let mut body = trickle(n, every);
        let mut got = 0;
        while let Some(chunk) = pace.next(&mut body).await? {
            got += chunk.map(|c| c.len() as u64).unwrap_or(0);
        }
        let _ = body.next().await;
        Ok(got)
    }

    #[tokio::test]
    async fn a_trickle_is_cut_off_after_the_grace_unless_the_minimum_rate_is_off() {
        let cfg = ServerConfig {
            body_read_timeout: Duration::from_secs(2),
            min_body_rate: 500,
            ..ServerConfig::default()
        };
        let slow = Duration::from_millis(200);
        // Five bytes a second never pause for 2 s (a tenth of it), but are far
        // below 500 B/s: margins wide enough for a loaded machine.
        match read_all(&cfg, 20, slow).await {
            Err(Stalled::TooSlow { received, .. }) => assert!(received < 20, "{received}"),
            Err(Stalled::Paused(_)) => panic!("cut off as paused, not as too slow"),
            Ok(n) => panic!("a 1 byte/s body of {n} bytes was read whole"),
        }
        // A fast body of the same size goes through; so does the trickle
        // with the minimum rate off (the idle timeout alone never fires).
        assert_eq!(
            read_all(&cfg, 10, Duration::from_millis(1)).await.ok(),
            Some(10)
        );
        let off = ServerConfig {
            min_body_rate: 0,
            ..cfg.clone()
        };
        assert_eq!(read_all(&off, 20, slow).await.ok(), Some(20));
        // A pause past the idle timeout is a pause, whatever the rate.
        assert!(matches!(
            read_all(&off, 3, Duration::from_secs(3)).await,
            Err(Stalled::Paused(_))
        ));
    }

    #[test]
    fn depth_counts_nesting_outside_strings() {
        assert_eq!(check_depth(br#"{"a":[1,2,{"b":3}]}"#, 3), Ok(()));
        assert_eq!(check_depth(br#"{"a":[1,2,{"b":3}]}"#, 2), Err(3));
        assert_eq!(check_depth(br#"{"a":"[[[[[[\"[[["}"#, 1), Ok(()));
        let deep = "[".repeat(10_000);
        assert_eq!(check_depth(deep.as_bytes(), 32), Err(33));
    }
}
