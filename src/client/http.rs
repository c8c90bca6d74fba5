//! The HTTP plumbing of the remote catalog: requests, the principal and
//! request-id headers, and errors mapped back to core errors.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Code, Error, ErrorKind, Result};
use crate::model::{BatchId, Context, Edge, Hint, Secret};

/// A catalog behind a `meta serve` at `base` (`http://host:port`).
#[derive(Clone)]
pub struct RemoteCatalog {
    base: String,
    http: reqwest::Client,
}

impl fmt::Debug for RemoteCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteCatalog")
            .field("base", &self.base)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    current_batch: Option<BatchId>,
    #[serde(default)]
    hint: Option<Hint>,
}

impl ErrorDetail {
    /// The message without the hint the server worded for HTTP, and the
    /// hint itself, for this edge to word again.
    fn detach_hint(self) -> (String, Option<Box<Hint>>) {
        let Some(hint) = self.hint else {
            return (self.message, None);
        };
        let http = format!("; hint: {}", hint.render(Edge::Http));
        let message = match self.message.strip_suffix(&http) {
            Some(m) => m.to_owned(),
            None => self.message,
        };
        (message, Some(Box::new(hint)))
    }
}

fn transport(base: &str, e: &reqwest::Error) -> Error {
    Error::Remote {
        kind: ErrorKind::Internal,
        code: Code::ServerUnreachable.as_str().into(),
        message: format!(
            "cannot reach the batchmeta server at {base}: {e}; check the URL and that `meta serve` is running"
        ),
        hint: None,
    }
}

fn kind_of(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        400 | 408 | 415 => ErrorKind::InvalidInput,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        413 => ErrorKind::TooLarge,
        429 => ErrorKind::RateLimited,
        422 => ErrorKind::SchemaMismatch,
        503 => ErrorKind::Unavailable,
        507 => ErrorKind::InsufficientStorage,
        _ => ErrorKind::Internal,
    }
}

impl RemoteCatalog {
    /// A client of the server at `base` (`http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self> {
        Self::with_token(base, None)
    }

    /// A client that sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(base: &str, token: Option<&Secret>) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::invalid(
                Code::InvalidUrl,
                format!("a server URL starts with http:// or https://, not {base:?}"),
            ));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(t) = token {
            let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.expose().trim()))
                .map_err(|_| {
                    Error::invalid(
                        Code::MalformedToken,
                        "the token has characters a header cannot carry; copy it again from `meta token create`",
                    )
                })?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| transport(&base, &e))?;
        Ok(Self { base, http })
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The underlying HTTP client (shared connection pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request with the caller's principal and request id.
    pub fn request(&self, ctx: &Context, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        rb = rb.header(crate::PRINCIPAL_HEADER, &ctx.principal);
        if let Some(id) = &ctx.request_id {
            rb = rb.header("x-request-id", id);
        }
        rb
    }

    /// Sends a request and maps a non-2xx response to the core error.
    ///
    /// A 429 is retried after its `Retry-After` (up to 5 times, at most 30 s
    /// each) when the request can be sent again: the server refuses such a
    /// request before doing anything, so a retry never doubles an effect.
    ///
    /// A 503 (the server's database or object store is down) is retried the
    /// same way, with a growing wait (about 15 s in all), when the request is
    /// idempotent (GET, DELETE, ...) or the caller says it is safe to send
    /// twice (a publish with an idempotency key): see [`Self::execute_safe`].
    ///
    /// An idempotent request whose connection failed is sent once more: a
    /// pooled connection may have been closed by the server meanwhile (after
    /// it answered an upload early, say).
    pub async fn execute(&self, rb: RequestBuilder) -> Result<Response> {
        self.send_retrying(rb, false).await
    }

    /// [`Self::execute`] for a request that may be sent twice with the effect
    /// of once, whatever its method (a publish or store that carries an
    /// idempotency key): 503s are retried too.
    pub async fn execute_safe(&self, rb: RequestBuilder) -> Result<Response> {
        self.send_retrying(rb, true).await
    }

    async fn send_retrying(&self, rb: RequestBuilder, safe: bool) -> Result<Response> {
        let mut rb = rb;
        let mut limited = 0;
        let mut unavailable = 0;
        let mut resent = false;
        let res = loop {
            let again = rb.try_clone();
            let res = match rb.send().await {
                Ok(res) => res,
                Err(e) => match again {
                    Some(next)
                        if !resent
                            && (e.is_request() || e.is_connect())
                            && is_idempotent(&next) =>
                    {
                        resent = true;
                        rb = next;
                        continue;
                    }
                    _ => return Err(transport(&self.base, &e)),
                },
            };
            let wait = match res.status() {
                StatusCode::TOO_MANY_REQUESTS if limited < 5 => {
                    limited += 1;
                    retry_after(&res).unwrap_or(1).clamp(1, 30)
                }
                StatusCode::SERVICE_UNAVAILABLE
                    if unavailable < UNAVAILABLE_RETRIES
                        && again.as_ref().is_some_and(|n| safe || is_idempotent(n)) =>
                {
                    unavailable += 1;
                    // 1, 2, 4, 4, 4 s: rides out a database restart.
                    retry_after(&res)
                        .unwrap_or(1)
                        .max(1 << (unavailable - 1).min(2))
                        .min(30)
                }
                _ => break res,
            };
            match again {
                Some(next) => {
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                    rb = next;
                }
                None => break res,
            }
        };
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) if b.error.code == "conflict" => {
                let current = b.error.current_batch.clone();
                let (message, hint) = b.error.detach_hint();
                Error::Conflict {
                    message,
                    current,
                    hint,
                }
            }
            Ok(b) => {
                let kind = if status == StatusCode::CONFLICT && b.error.code.ends_with("_exists") {
                    ErrorKind::AlreadyExists
                } else {
                    kind_of(status)
                };
                let code = b.error.code.clone();
                let (message, hint) = b.error.detach_hint();
                Error::Remote {
                    kind,
                    code,
                    message,
                    hint,
                }
            }
            Err(_) => Error::Remote {
                kind: kind_of(status),
                code: Code::UnexpectedResponse.as_str().into(),
                message: format!("the server answered {status} without an error body"),
                hint: None,
            },
        })
    }

    async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> Result<T> {
        self.decode(self.execute(rb).await?).await
    }

    async fn decode<T: DeserializeOwned>(&self, res: Response) -> Result<T> {
        res.json::<T>().await.map_err(|e| Error::Remote {
            kind: ErrorKind::Internal,
            code: Code::UnexpectedResponse.as_str().into(),
            message: format!("cannot decode the server's response: {e}"),
            hint: None,
        })
    }

    pub(super) async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        self.json(
            self.request(&Context::new("anonymous"), Method::GET, path)
                .query(query),
        )
        .await
    }

    pub(super) async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.json(self.request(ctx, Method::POST, path).json(body))
            .await
    }

    /// A POST that may be sent twice with the effect of once (a publish of
    /// named batches, a stage with an idempotency key): retried on 503.
    pub(super) async fn post_safe<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let res = self
            .execute_safe(self.request(ctx, Method::POST, path).json(body))
            .await?;
        self.decode(res).await
    }

    pub(super) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        ctx: &Context,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut rb = self.request(ctx, method, path);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.json(rb).await
    }

    pub(super) async fn send_empty(&self, ctx: &Context, method: Method, path: &str) -> Result<()> {
        self.execute(self.request(ctx, method, path))
            .await
            .map(|_| ())
    }

    /// A long-poll GET: `None` when the server answers 408 `wait_timeout`.
    pub(super) async fn long_poll<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
        timeout: Duration,
    ) -> Result<Option<T>> {
        let rb = self
            .request(&Context::new("anonymous"), Method::GET, path)
            .query(query)
            .timeout(timeout + Duration::from_secs(30));
        match self.json(rb).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is(Code::WaitTimeout) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// How often a 503 is retried before the caller sees it.
const UNAVAILABLE_RETRIES: u32 = 5;

/// The `Retry-After` seconds of a response, when it has them.
fn retry_after(res: &Response) -> Option<u64> {
    res.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// Whether `rb`'s method may be sent twice with the effect of once.
fn is_idempotent(rb: &RequestBuilder) -> bool {
    rb.try_clone()
        .and_then(|b| b.build().ok())
        .is_some_and(|r| r.method().is_idempotent())
}
