//! The Hive Metastore Thrift edge (`meta serve --hms-bind`): a read-only
//! `ThriftHiveMetastore` (Hive 2.3 IDL, binary protocol, framed or
//! unframed, detected per connection) on its own listener, so that Spark,
//! Hive and Trino read batchmeta tables unchanged. Each partition's location
//! is its current batch prefix; a rollback is visible on the next call.
//!
//! - [`codec`]: the binary protocol; [`filter`]: the partition filter
//!   language; [`mapping`]: entities as Hive structs; [`service`]: the
//!   methods, through the [`Metastore`] facade only.
//!
//! The protocol has no authentication (clients name themselves with
//! `set_ugi`): bind it to loopback or a trusted network (docs/security.md).

mod codec;
mod filter;
mod idl;
mod mapping;
mod service;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::Metastore;
use crate::error::{Code, Error, Result};
use crate::server::Metrics;
use codec::{Decode, Reader, app_error};

/// Default largest message (framed or not): 16 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 << 20;
/// Default most concurrent connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Default idle time before a connection is closed (also the longest pause
/// inside a message).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Limits of the Thrift endpoint.
#[derive(Debug, Clone)]
pub struct HmsConfig {
    /// Largest request message in bytes; a bigger frame closes the connection.
    pub max_frame_bytes: usize,
    /// Most open connections; more are closed at once.
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle_timeout: Duration,
}

impl Default for HmsConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// Serves the Thrift API on `listener` until `shutdown` completes. Calls
/// are counted in `metrics` (the same `/metrics` as the HTTP service).
pub async fn serve(
    listener: TcpListener,
    ms: Metastore,
    config: HmsConfig,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let service = service::Service { ms, metrics };
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let config = Arc::new(config);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "hms accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            service.metrics.hms_event("connection_refused");
            drop(stream);
            continue;
        };
        let service = service.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(why) = connection(stream, &service, &config).await {
                service.metrics.hms_event("protocol_error");
                tracing::debug!(%why, "hms connection closed");
            }
        });
    }
}

/// Binds `addr` for [`serve`], with the error a user can act on.
pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        Error::invalid(
            Code::BindFailed,
            format!("cannot listen on {addr}: {e}; hint: pick another --hms-bind address"),
        )
    })
}

/// How a connection frames its messages, decided by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// A strict binary message starts with 0x80 0x01.
    Unframed,
    /// A 4-byte big-endian length, then the message.
    Framed,
}

/// Reads more bytes into `buf`; `Ok(false)` at a clean end of stream.
async fn fill(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    idle: Duration,
) -> std::result::Result<bool, String> {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
        Err(_) => Err("idle timeout".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(0)) => Ok(false),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
    }
}

/// Sends an application exception (best effort) and gives the reason to
/// close the connection.
async fn refuse(stream: &mut TcpStream, framing: Framing, code: i32, why: String) -> String {
    let body = codec::application_exception("", 0, code, &why);
    let _ = send(stream, framing, &body).await;
    why
}

async fn send(stream: &mut TcpStream, framing: Framing, body: &[u8]) -> std::io::Result<()> {
    if framing == Framing::Framed {
        let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
        stream.write_all(&len.to_be_bytes()).await?;
    }
    stream.write_all(body).await?;
    stream.flush().await
}

/// One connection: calls answered in order until the client leaves, goes
/// quiet past the idle timeout, or sends something that is not Thrift.
async fn connection(
    mut stream: TcpStream,
    service: &service::Service,
    config: &HmsConfig,
) -> std::result::Result<(), String> {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let mut framing = None;
    loop {
        // Wait for at least one byte to decide (or re-use) the framing.
        while buf.is_empty() {
            if !fill(&mut stream, &mut buf, config.idle_timeout).await? {
                return Ok(());
            }
        }
        let f = *framing.get_or_insert(if buf[0] == 0x80 {
            Framing::Unframed
        } else {
            Framing::Framed
        });
        let (message, used) = match f {
            Framing::Unframed => loop {
                let mut r = Reader::new(&buf);
                match r.message() {
                    Ok(m) => break (m, r.position()),
                    Err(Decode::Invalid(why)) => {
                        return Err(refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await);
                    }
                    Err(Decode::Incomplete) => {
                        if buf.len() > config.max_frame_bytes {
                            let why = format!(
                                "message larger than the limit of {} bytes",
                                config.max_frame_bytes
                            );
                            return Err(
                                refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await
                            );
                        }
                        if !fill(&mut stream, &mut buf, config.idle_timeout).await? {
                            return Err("connection closed inside a message".into());
                        }
                    }
                }
            },
            Framing::Framed => {
                while buf.len() < 4 {
                    if !fill(&mut stream, &mut buf, config.idle_timeout).await? {
                        return Err("connection closed inside a frame header".into());
                    }
                }
                let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                if len > config.max_frame_bytes {
                    let why = format!(
                        "frame of {len} bytes exceeds the limit of {} bytes (or this is not a Thrift client)",
                        config.max_frame_bytes
                    );
                    return Err(refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await);
                }
                while buf.len() < 4 + len {
                    if !fill(&mut stream, &mut buf, config.idle_timeout).await? {
                        return Err("connection closed inside a frame".into());
                    }
                }
                let mut r = Reader::new(&buf[4..4 + len]);
                match r.message() {
                    Ok(m) if r.position() == len => (m, 4 + len),
                    Ok(_) => {
                        let why = "frame holds bytes after its message".to_owned();
                        return Err(refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await);
                    }
                    Err(Decode::Invalid(why)) => {
                        return Err(refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await);
                    }
                    Err(Decode::Incomplete) => {
                        let why = "truncated message in frame".to_owned();
                        return Err(refuse(&mut stream, f, app_error::PROTOCOL_ERROR, why).await);
                    }
                }
            }
        };
        buf.drain(..used);
        if message.kind != codec::CALL && message.kind != codec::ONEWAY {
            let why = format!("message type {} is not a call", message.kind);
            return Err(refuse(&mut stream, f, app_error::INVALID_MESSAGE_TYPE, why).await);
        }
        if let Some(reply) = service.call(&message).await {
            send(&mut stream, f, &reply)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
}
