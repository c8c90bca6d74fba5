//! Core errors become R condition objects, once, here: the classes by
//! [`ErrorKind`] (`batchmeta_conflict`, ..., then `batchmeta_error`,
//! `error`, `condition`), the message worded for R ([`Edge::R`]), `code`
//! from [`Error::code`] and `current_batch` for conflicts. The R wrapper
//! signals the object with `stop()`.

use batchmeta::model::Edge;
use batchmeta::{Error, ErrorKind};
use extendr_api::prelude::*;

/// The R class of an error kind.
pub(crate) fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::TooLarge => "batchmeta_invalid_input",
        ErrorKind::NotFound => "batchmeta_not_found",
        ErrorKind::AlreadyExists => "batchmeta_already_exists",
        ErrorKind::Conflict => "batchmeta_conflict",
        ErrorKind::SchemaMismatch => "batchmeta_schema_mismatch",
        ErrorKind::Unauthorized => "batchmeta_authentication",
        ErrorKind::Forbidden => "batchmeta_permission",
        ErrorKind::RateLimited => "batchmeta_rate_limited",
        _ => "batchmeta_internal",
    }
}

/// A condition object: `list(message, call = NULL, code, current_batch)`.
pub(crate) fn condition(class: &str, message: &str, code: &str, current: Option<&str>) -> Robj {
    let current: Robj = match current {
        Some(c) => c.into(),
        None => ().into(),
    };
    let list = List::from_names_and_values(
        ["message", "call", "code", "current_batch"],
        [message.into(), ().into(), code.into(), current],
    );
    let mut robj: Robj = match list {
        Ok(l) => l.into(),
        Err(_) => message.into(),
    };
    let _ = robj.set_class([class, "batchmeta_error", "error", "condition"]);
    robj
}

/// The R condition for a core error.
pub(crate) fn to_r(e: Error) -> Robj {
    let current = match &e {
        Error::Conflict { current, .. } => current.as_ref().map(|b| b.as_str().to_owned()),
        _ => None,
    };
    condition(
        class_name(e.kind()),
        &e.message_for(Edge::R),
        e.code(),
        current.as_deref(),
    )
}

/// A `batchmeta_invalid_input` condition raised by the package itself.
pub(crate) fn invalid(code: &str, message: impl AsRef<str>) -> Robj {
    condition("batchmeta_invalid_input", message.as_ref(), code, None)
}

/// The condition of an interrupted call.
pub(crate) fn interrupted(what: &str) -> Robj {
    condition(
        "batchmeta_interrupted",
        &format!("{what} was interrupted; whatever it had not published yet stays invisible"),
        "interrupted",
        None,
    )
}

/// What every call answers: its value, or a condition to signal.
pub(crate) type RResult<T> = std::result::Result<T, Robj>;

/// `.map_err(to_r)` as a method.
pub(crate) trait IntoR<T> {
    /// Maps a core error to its condition.
    fn r(self) -> RResult<T>;
}

impl<T> IntoR<T> for batchmeta::Result<T> {
    fn r(self) -> RResult<T> {
        self.map_err(to_r)
    }
}
