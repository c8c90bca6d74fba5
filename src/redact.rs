//! Keeping credentials out of `Debug` output and error messages.
//!
//! Database URLs may carry a password (`postgres://user:secret@host/db` or
//! `?password=secret`) and warehouse options carry cloud keys. Whatever is
//! shown to a person or written to a log goes through here first.

use url::Url;

/// What a hidden secret is replaced with.
pub const HIDDEN: &str = "***";

/// Query parameters whose values are secrets.
const SECRET_PARAMS: [&str; 4] = ["password", "sslpassword", "sslkey", "token"];

/// `url` with its password and secret query parameters replaced by `***`.
/// An unparsable URL that might hold credentials (an `@` or a `password=`)
/// is shown by its scheme only, since it cannot be cleaned reliably; other
/// text (a plain directory path) is returned as it is.
pub fn url(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let suspicious = url.contains('@') || lower.contains("password") || lower.contains("token");
    let opaque = || match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://{HIDDEN}"),
        None => HIDDEN.to_owned(),
    };
    let mut parsed = match Url::parse(url) {
        Ok(p) if !p.cannot_be_a_base() => p,
        _ if suspicious => return opaque(),
        _ => return url.to_owned(),
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have a password in the first place.
        let _ = parsed.set_password(Some(HIDDEN));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str());
                (
                    k.into_owned(),
                    if secret {
                        HIDDEN.to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// The secrets a URL carries: its password (raw and percent-decoded) and
/// the values of secret query parameters.
fn url_secrets(url: &str) -> Vec<String> {
    let Ok(parsed) = Url::parse(url) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(p) = parsed.password() {
        out.push(p.to_owned());
        if let Ok(decoded) = percent_decode(p) {
            out.push(decoded);
        }
    }
    for (k, v) in parsed.query_pairs() {
        if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) {
            out.push(v.into_owned());
        }
    }
    out
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| ())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// `message` with every secret of `url` replaced by `***`.
pub fn scrub_url_secrets(message: &str, url: &str) -> String {
    scrub(message, url_secrets(url).iter().map(String::as_str))
}

/// `message` with every one of `secrets` replaced by `***`. Empty and very
/// short values are left alone: replacing them would garble the message
/// without hiding anything worth hiding.
pub fn scrub<'a>(message: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| s.len() >= 3).collect();
    // Longest first, so a secret containing another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = message.to_owned();
    for s in secrets {
        out = out.replace(s, HIDDEN);
    }
    out
}

/// Whether an option or environment variable name holds a secret value.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "password",
        "token",
        "key",
        "credential",
        "sas",
        "signature",
    ]
    .iter()
    .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_urls() {
        let shown =
            url("postgres://ann:s3cr%40t@db.example:5432/meta?sslmode=require&password=other");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(!shown.contains("other"), "{shown}");
        assert!(
            shown.contains("ann") && shown.contains("db.example:5432/meta"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert_eq!(url("postgres://ann@h/db"), "postgres://ann@h/db");
        assert_eq!(url("/data/warehouse"), "/data/warehouse");
        assert_eq!(url("user:s3cret@somewhere"), "***");
        assert_eq!(url("postgres://ann:s3cret@[bad/db"), "postgres://***");
    }

    #[test]
    fn messages_are_scrubbed() {
        let u = "postgres://ann:s3cr%40t@h/db?password=p4ss";
        let msg = "failed for s3cr@t and s3cr%40t and p4ss";
        assert_eq!(scrub_url_secrets(msg, u), "failed for *** and *** and ***");
        assert_eq!(scrub("abc secret", ["secret", ""]), "abc ***");
    }

    #[test]
    fn secret_keys_are_recognised() {
        for k in [
            "aws_secret_access_key",
            "AWS_SESSION_TOKEN",
            "azure_storage_account_key",
            "google_service_account_key",
            "aws_access_key_id",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["aws_region", "aws_endpoint", "aws_allow_http"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
