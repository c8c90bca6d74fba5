//! The wire side of the corpus: requests written byte for byte on a TCP
//! socket, so that `..`, `%2e%2e` and friends reach the server exactly as
//! sent, unnormalized, and the response read back whole.

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Case;

/// Percent-encodes everything but unreserved characters (for query values
/// and path segments that must arrive as given).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends one request on a fresh connection and reads the whole response.
pub async fn send(addr: &str, c: &Case) -> Result<(u16, Value), String> {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n",
        c.method, c.target
    );
    if let Some(ct) = c.content_type {
        head.push_str(&format!("content-type: {ct}\r\n"));
    }
    if let Some(n) = c.declared_only {
        head.push_str(&format!("content-length: {n}\r\n\r\n"));
        s.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    } else if c.chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
        let mut wire = head.into_bytes();
        for chunk in c.body.chunks(8192) {
            wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        // The server may answer (and stop reading) before the end.
        let _ = s.write_all(&wire).await;
    } else {
        head.push_str(&format!("content-length: {}\r\n\r\n", c.body.len()));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(&c.body);
        let _ = s.write_all(&wire).await;
    }
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf).await;
    if buf.is_empty() {
        return Err(format!("no response ({read:?})"));
    }
    parse_response(&buf)
}

pub fn parse_response(buf: &[u8]) -> Result<(u16, Value), String> {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut body = buf[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..p]).trim(), 16)
                .map_err(|e| e.to_string())?;
            if size == 0 {
                break;
            }
            let start = p + 2;
            out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
            rest = &rest[(start + size + 2).min(rest.len())..];
        }
        body = out;
    }
    let text = String::from_utf8_lossy(&body).to_string();
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}
