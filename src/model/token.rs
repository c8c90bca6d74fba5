//! API tokens: who may call `meta serve`, and what each may do.
//!
//! A token carries grants: a [`Role`] on one namespace (`writer:sales`) or
//! on every namespace (`admin`, the global admin). Roles nest: a writer may
//! do what a reader may, an admin what a writer may. The secret is shown once
//! at creation; the catalog keeps only its SHA-256.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names::NamespaceName;
use crate::error::{Code, Error, Result};

/// What a grant allows, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Resolve, load, list, history, events.
    Reader,
    /// A reader who may also stage, write, publish, roll back and pin.
    Writer,
    /// A writer who may also create, change and drop tables and manage tokens.
    Admin,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "reader" => Ok(Role::Reader),
            "writer" => Ok(Role::Writer),
            "admin" => Ok(Role::Admin),
            other => Err(Error::invalid(
                Code::InvalidRole,
                format!(
                    "unknown role {}: use reader, writer or admin",
                    super::shown(other)
                ),
            )),
        }
    }
}

/// One grant: a role on a namespace, or on every namespace.
///
/// Written `ROLE:NAMESPACE` (`writer:sales`) or `ROLE` alone for every
/// namespace (`admin` is the global admin).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The namespace; `None` for every namespace.
    pub namespace: Option<NamespaceName>,
}

impl Grant {
    /// Parses `ROLE` or `ROLE:NAMESPACE`.
    pub fn parse(s: &str) -> Result<Self> {
        let (role, namespace) = match s.split_once(':') {
            Some((r, ns)) => (r, Some(NamespaceName::new(ns)?)),
            None => (s, None),
        };
        Ok(Self {
            role: role.parse()?,
            namespace,
        })
    }

    /// Whether this grant gives at least `role` on `namespace`.
    pub fn allows(&self, role: Role, namespace: &NamespaceName) -> bool {
        self.role >= role && self.namespace.as_ref().is_none_or(|n| n == namespace)
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}:{ns}", self.role),
            None => f.write_str(self.role.as_str()),
        }
    }
}

impl Serialize for Grant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Grant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Grant::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a set of grants allows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    grants: Vec<Grant>,
}

impl Access {
    /// The access of these grants.
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
    }

    /// The grants.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// At least `role` on `namespace`.
    pub fn allows(&self, role: Role, namespace: &NamespaceName) -> bool {
        self.grants.iter().any(|g| g.allows(role, namespace))
    }

    /// At least `role` on every namespace.
    pub fn allows_everywhere(&self, role: Role) -> bool {
        self.grants
            .iter()
            .any(|g| g.namespace.is_none() && g.role >= role)
    }

    /// The namespaces on which these grants give at least `role`; `None`
    /// means every namespace.
    pub fn namespaces(&self, role: Role) -> Option<Vec<NamespaceName>> {
        if self.allows_everywhere(role) {
            return None;
        }
        let mut v: Vec<_> = self
            .grants
            .iter()
            .filter(|g| g.role >= role)
            .filter_map(|g| g.namespace.clone())
            .collect();
        v.sort();
        v.dedup();
        Some(v)
    }

    /// Whether these grants include every grant of `other` (an admin may
    /// hand out only what it administers).
    pub fn covers(&self, other: &[Grant]) -> bool {
        other.iter().all(|g| match &g.namespace {
            Some(ns) => self.allows(Role::Admin, ns),
            None => self.allows_everywhere(Role::Admin),
        })
    }
}

/// The longest token name.
pub const MAX_TOKEN_NAME: usize = 128;

/// Checks a token name: 1 to 128 characters of letters, digits, `_`, `-`, `.`, `@`.
pub fn check_token_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TOKEN_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            Code::InvalidName,
            format!(
                "invalid token name {}: use 1 to {MAX_TOKEN_NAME} letters, digits, _, -, . or @ (e.g. nightly-etl)",
                super::shown(name)
            ),
        ))
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Token {
    /// The public id, the part of the token after `bm_` and before the secret.
    pub id: String,
    /// Its name, unique among live tokens; events record it as the principal.
    pub name: String,
    /// Its grants, e.g. `["writer:sales", "reader:marketing"]`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub grants: Vec<Grant>,
    /// When it was created (server time).
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Token {
    /// The principal events record for this token.
    pub fn principal(&self) -> String {
        format!("token:{}", self.name)
    }

    /// What it may do.
    pub fn access(&self) -> Access {
        Access::new(self.grants.clone())
    }
}

/// What `meta token create` asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Its name (letters, digits, `_`, `-`, `.`, `@`).
    pub name: String,
    /// Its grants: `ROLE` (every namespace) or `ROLE:NAMESPACE`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<String>))]
    pub grants: Vec<Grant>,
    /// When it stops working; never when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewToken {
    /// Checks the name and that there is at least one grant.
    pub fn validate(&self) -> Result<()> {
        check_token_name(&self.name)?;
        if self.grants.is_empty() {
            return Err(Error::invalid(
                Code::InvalidGrants,
                "a token needs at least one role: e.g. --role reader:sales, --role writer:sales or --role admin",
            ));
        }
        if self.grants.len() > 256 {
            return Err(Error::invalid(
                Code::InvalidGrants,
                "a token has at most 256 grants",
            ));
        }
        Ok(())
    }
}

/// A token's secret, shown once. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, for the one place that must show or send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self(s.trim().to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A newly created token and its secret (the only time the secret exists
/// outside the caller's hands).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct IssuedToken {
    /// The token.
    pub token: Token,
    /// The bearer secret: `bm_<id>_<secret>`. Store it now; it cannot be shown again.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub secret: Secret,
}

/// A token as the catalog stores it: the token and the SHA-256 (hex) of
/// its secret part.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredToken {
    /// The token.
    pub token: Token,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> NamespaceName {
        NamespaceName::new(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn grants_parse_print_and_nest() {
        let g = Grant::parse("writer:sales").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.to_string(), "writer:sales");
        assert!(g.allows(Role::Reader, &ns("sales")));
        assert!(g.allows(Role::Writer, &ns("sales")));
        assert!(!g.allows(Role::Admin, &ns("sales")));
        assert!(!g.allows(Role::Reader, &ns("marketing")));
        let admin = Grant::parse("admin").unwrap_or_else(|e| panic!("{e}"));
        assert!(admin.allows(Role::Admin, &ns("anything")));
        assert!(Grant::parse("owner:sales").is_err());
        assert!(Grant::parse("reader:../x").is_err());
        assert!(Grant::parse("").is_err());
    }

    #[test]
    fn access_scopes() {
        let a = Access::new(vec![
            Grant::parse("admin:sales").unwrap_or_else(|e| panic!("{e}")),
            Grant::parse("reader:hr").unwrap_or_else(|e| panic!("{e}")),
        ]);
        assert_eq!(
            a.namespaces(Role::Reader),
            Some(vec![ns("hr"), ns("sales")])
        );
        assert_eq!(a.namespaces(Role::Writer), Some(vec![ns("sales")]));
        assert!(!a.allows_everywhere(Role::Reader));
        assert!(a.covers(&[Grant::parse("reader:sales").unwrap_or_else(|e| panic!("{e}"))]));
        assert!(!a.covers(&[Grant::parse("reader:hr").unwrap_or_else(|e| panic!("{e}"))]));
        assert!(!a.covers(&[Grant::parse("reader").unwrap_or_else(|e| panic!("{e}"))]));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("bm_abc_supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        let issued = format!(
            "{:?}",
            IssuedToken {
                token: Token {
                    id: "abc".into(),
                    name: "n".into(),
                    grants: vec![],
                    created_at: Utc::now(),
                    created_by: "x".into(),
                    expires_at: None,
                    revoked_at: None,
                },
                secret: s,
            }
        );
        assert!(!issued.contains("supersecret"));
    }
}
