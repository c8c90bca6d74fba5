//! Bearer tokens: minting, parsing and checking, independent of HTTP.
//!
//! A token reads `bm_<id>_<secret>`: 16 hex characters of public id (shown
//! by `meta token ls`, the catalog's lookup key) and 64 hex characters
//! (256 bits) of secret from the operating system's random source. The
//! catalog stores only the SHA-256 of the secret; a presented token is
//! looked up by id and its hash compared in constant time. The secret is
//! high-entropy, so a fast hash is the right one (as GitHub's and Stripe's
//! API keys): there is no password to guess.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::model::{Secret, StoredToken, Token};

const PREFIX: &str = "bm_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A freshly minted token: its id, the full bearer string and the hash the
/// catalog keeps.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The public id.
    pub id: String,
    /// `bm_<id>_<secret>`, shown once.
    pub bearer: Secret,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
}

fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::Internal(format!("no random source for a token: {e}")))?;
    Ok(hex::encode(buf))
}

/// Hex SHA-256 of a secret part.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Mints a new token.
pub fn mint() -> Result<Minted> {
    let id = random_hex(ID_BYTES)?;
    let secret = random_hex(SECRET_BYTES)?;
    Ok(Minted {
        secret_hash: hash_secret(&secret),
        bearer: Secret::new(format!("{PREFIX}{id}_{secret}")),
        id,
    })
}

/// A presented bearer token split into its id and secret.
#[derive(Debug)]
pub struct Presented<'a> {
    /// The public id.
    pub id: &'a str,
    secret: &'a str,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Splits `bm_<id>_<secret>`; `None` if it is not of that form.
pub fn parse(bearer: &str) -> Option<Presented<'_>> {
    let rest = bearer.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (is_lower_hex(id, ID_BYTES * 2) && is_lower_hex(secret, SECRET_BYTES * 2))
        .then_some(Presented { id, secret })
}

/// Why a presented token does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not of the form `bm_<id>_<secret>`.
    Malformed,
    /// No such token, or the secret does not match.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl Rejection {
    /// The error a client sees: 401 with a stable code and what to do.
    pub fn error(self) -> Error {
        Error::Unauthorized(
            match self {
                Rejection::Malformed => {
                    "the bearer token is malformed: tokens look like bm_<16 hex>_<64 hex>; check for a truncated copy or a stray quote"
                }
                Rejection::Unknown => {
                    "the bearer token is not valid: check it, or ask an admin for a new one (meta token create)"
                }
                Rejection::Revoked => {
                    "the bearer token was revoked: ask an admin for a new one (meta token create)"
                }
                Rejection::Expired => {
                    "the bearer token has expired: ask an admin for a new one (meta token create --expires ...)"
                }
            }
            .to_owned(),
        )
    }
}

/// Checks a presented token against what the catalog stored under its id
/// (`None`: no such id). The secret's hash is compared in constant time.
pub fn check(
    presented: &Presented<'_>,
    stored: Option<StoredToken>,
    now: DateTime<Utc>,
) -> std::result::Result<Token, Rejection> {
    let Some(stored) = stored else {
        return Err(Rejection::Unknown);
    };
    let hash = hash_secret(presented.secret);
    if !bool::from(hash.as_bytes().ct_eq(stored.secret_hash.as_bytes())) {
        return Err(Rejection::Unknown);
    }
    if stored.token.revoked_at.is_some() {
        return Err(Rejection::Revoked);
    }
    if stored.token.expires_at.is_some_and(|t| t <= now) {
        return Err(Rejection::Expired);
    }
    Ok(stored.token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(m: &Minted) -> StoredToken {
        StoredToken {
            token: Token {
                id: m.id.clone(),
                name: "t".into(),
                grants: vec![],
                created_at: Utc::now(),
                created_by: "test".into(),
                expires_at: None,
                revoked_at: None,
            },
            secret_hash: m.secret_hash.clone(),
        }
    }

    #[test]
    fn minted_tokens_parse_and_check() {
        let m = mint().unwrap_or_else(|e| panic!("{e}"));
        let p = parse(m.bearer.expose()).unwrap_or_else(|| panic!("unparsable"));
        assert_eq!(p.id, m.id);
        assert!(check(&p, Some(stored(&m)), Utc::now()).is_ok());
        let other = mint().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(other.bearer, m.bearer);
        // Right id, wrong secret.
        let forged = format!("bm_{}_{}", m.id, "0".repeat(64));
        let p = parse(&forged).unwrap_or_else(|| panic!("unparsable"));
        assert_eq!(
            check(&p, Some(stored(&m)), Utc::now()),
            Err(Rejection::Unknown)
        );
        assert_eq!(check(&p, None, Utc::now()), Err(Rejection::Unknown));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "bm_",
            "bm_abc_def",
            "Bearer bm_0123456789abcdef_00",
            &format!("bm_0123456789ABCDEF_{}", "0".repeat(64)),
            &format!("xx_0123456789abcdef_{}", "0".repeat(64)),
            &format!("bm_0123456789abcdef_{}", "0".repeat(65)),
        ] {
            assert!(parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn revoked_and_expired_are_refused() {
        let m = mint().unwrap_or_else(|e| panic!("{e}"));
        let p = parse(m.bearer.expose()).unwrap_or_else(|| panic!("unparsable"));
        let mut s = stored(&m);
        s.token.expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
        assert_eq!(
            check(&p, Some(s.clone()), Utc::now()),
            Err(Rejection::Expired)
        );
        s.token.revoked_at = Some(Utc::now());
        assert_eq!(check(&p, Some(s), Utc::now()), Err(Rejection::Revoked));
    }
}
