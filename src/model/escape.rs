//! How partition values are written in paths: Hive's `%XX` escaping, and
//! the characters a value may not hold (dots, slashes and their look-alikes,
//! invisible characters, a leftover escape).

use super::names::shown;
use crate::error::{Code, Error, Result};

/// '.' and characters that look like it: values made only of these are
/// refused (`..` by another name).
pub(super) fn is_dot_like(c: char) -> bool {
    matches!(
        c,
        '.' | '\u{2024}' | '\u{2025}' | '\u{FE52}' | '\u{FF0E}' | '\u{3002}' | '\u{FF61}'
    )
}

/// Characters that look like '/' or '\\'.
pub(super) fn is_slash_like(c: char) -> bool {
    matches!(
        c,
        '\u{2044}'
            | '\u{2215}'
            | '\u{2216}'
            | '\u{27CB}'
            | '\u{27CD}'
            | '\u{29F5}'
            | '\u{29F8}'
            | '\u{29F9}'
            | '\u{FE68}'
            | '\u{FF0F}'
            | '\u{FF3C}'
    )
}

/// Invisible format characters (Unicode category Cf that matter here).
pub(super) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Whether `s` holds `%` followed by two hex digits.
pub(super) fn has_percent_escape(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
        )
}

/// Hive-style escaping of one partition value for a path segment.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if needs_escape(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape`].
pub fn unescape(segment: &str) -> Result<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => {
                    return Err(Error::invalid(
                        Code::InvalidPartition,
                        format!(
                            "invalid escape in partition value {}: '%' must be followed by two hex digits",
                            shown(segment)
                        ),
                    ));
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        Error::invalid(
            Code::InvalidPartition,
            format!(
                "partition value {} is not valid UTF-8 once unescaped",
                shown(segment)
            ),
        )
    })
}
