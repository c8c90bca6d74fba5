//! The one error type of the core. Every edge (HTTP, CLI, Python) maps it
//! once: [`Error::kind`] picks the status / exit code / exception class and
//! [`Error::code`] is the stable machine-readable code.

mod code;

pub use code::Code;

use crate::model::BatchId;
use crate::model::hint::{Edge, Hint};

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The broad class of an error, for edges that map errors to statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed or names something invalid (HTTP 400).
    InvalidInput,
    /// The named thing does not exist (HTTP 404).
    NotFound,
    /// The named thing exists already (HTTP 409).
    AlreadyExists,
    /// Another writer got there first (HTTP 409).
    Conflict,
    /// The data's schema does not match the table's (HTTP 422).
    SchemaMismatch,
    /// No or bad credentials (HTTP 401).
    Unauthorized,
    /// Valid credentials, not allowed (HTTP 403).
    Forbidden,
    /// The request body is larger than allowed (HTTP 413).
    TooLarge,
    /// Too many requests for this token; retry later (HTTP 429).
    RateLimited,
    /// The catalog database or the object store cannot be reached, or
    /// refuses writes; retry shortly (HTTP 503 with `Retry-After`).
    Unavailable,
    /// The disk or quota under the catalog or the warehouse is full (HTTP 507).
    InsufficientStorage,
    /// Something broke on our side or in the environment (HTTP 500).
    Internal,
}

/// What kind of object a not-found or already-exists error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Object {
    /// A namespace.
    Namespace,
    /// A table.
    Table,
    /// A partition of a table.
    Partition,
    /// A batch.
    Batch,
    /// A pin.
    Pin,
    /// An API token.
    Token,
}

impl Object {
    /// Lowercase noun, as used in messages and codes.
    pub fn noun(self) -> &'static str {
        match self {
            Object::Namespace => "namespace",
            Object::Table => "table",
            Object::Partition => "partition",
            Object::Batch => "batch",
            Object::Pin => "pin",
            Object::Token => "token",
        }
    }
}

/// Which dependency of batchmeta failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// The catalog database (SQLite file or PostgreSQL).
    Database,
    /// The object store holding the warehouse (a directory, S3, GCS, Azure).
    Storage,
}

impl Dependency {
    /// How messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            Dependency::Database => "catalog database",
            Dependency::Storage => "object store",
        }
    }
}

/// The core error. Messages are lowercase and say what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input; `code` is stable (`invalid_name`, `invalid_partition`, ...).
    #[error("{message}{}", suffix(.hint))]
    InvalidInput {
        /// Stable code.
        code: Code,
        /// What is wrong (and, for hints every edge words alike, what to do).
        message: String,
        /// What to do next, worded by each edge.
        hint: Option<Box<Hint>>,
    },
    /// A named object does not exist.
    #[error("{} {name} not found{}", .object.noun(), suffix(.hint))]
    NotFound {
        /// What kind of object.
        object: Object,
        /// Its name as the user gave it.
        name: String,
        /// What to do next, worded by each edge.
        hint: Option<Box<Hint>>,
    },
    /// An object with this name exists already.
    #[error("{} {name} already exists", .object.noun())]
    AlreadyExists {
        /// What kind of object.
        object: Object,
        /// Its name.
        name: String,
    },
    /// A compare-and-swap lost: the partition's current batch is not the expected one.
    #[error("{message}{}", suffix(.hint))]
    Conflict {
        /// What happened.
        message: String,
        /// The partition's current batch at the time of the conflict.
        current: Option<BatchId>,
        /// What to do next, worded by each edge.
        hint: Option<Box<Hint>>,
    },
    /// The table's schema changed between the check and the publish; the
    /// facade retries.
    #[error("the table's schema changed while publishing; retry the publish")]
    SchemaChanged,
    /// The data's schema differs from the table's.
    #[error("{message}{}", suffix(.hint))]
    SchemaMismatch {
        /// Which columns differ and how.
        message: String,
        /// What to do next, worded by each edge.
        hint: Option<Box<Hint>>,
    },
    /// Missing or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials valid but the action is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A body or upload over its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Over the token's request rate.
    #[error("{0}")]
    RateLimited(String),
    /// An error a server reported to the remote client, kept with its
    /// class, stable code and message so that remote and embedded callers
    /// see the same error.
    #[error("{message}{}", suffix(.hint))]
    Remote {
        /// The class (from the HTTP status).
        kind: ErrorKind,
        /// The server's stable code.
        code: String,
        /// The server's message, without the hint the server worded for HTTP.
        message: String,
        /// The server's hint, to be worded again for this edge.
        hint: Option<Box<Hint>>,
    },
    /// A dependency is down, unreachable or read-only: nothing was changed
    /// and the same call may succeed in a moment.
    #[error("{message} ({cause})")]
    Unavailable {
        /// The catalog database or the object store.
        dependency: Dependency,
        /// What is unavailable, in our words (no driver text: it goes to clients).
        message: String,
        /// The driver's text, for logs and the local edges.
        cause: String,
    },
    /// A disk or quota is full: nothing was published.
    #[error("{message} ({cause})")]
    InsufficientStorage {
        /// Which store is full, in our words.
        message: String,
        /// The driver's text, for logs and the local edges.
        cause: String,
    },
    /// The metadata database failed (the driver's error: sqlx for
    /// PostgreSQL, rusqlite for SQLite), and it is not an outage.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The object store failed.
    #[error("object store error: {0}")]
    Storage(#[source] object_store::Error),
    /// Reading or writing Arrow / Parquet failed.
    #[error("data error: {0}")]
    Data(String),
    /// An internal invariant failed; a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Display` words hints for the Rust library; the other edges ask for
/// their own wording with [`Error::message_for`].
fn suffix(hint: &Option<Box<Hint>>) -> String {
    match hint {
        Some(h) => format!("; hint: {}", h.render(Edge::Rust)),
        None => String::new(),
    }
}

/// Where a message carries its own hint, worded alike for every edge.
const INLINE_HINT: &str = "; hint: ";

impl Error {
    /// An [`Error::InvalidInput`].
    pub fn invalid(code: Code, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// An [`Error::InvalidInput`] with a hint each edge words for itself.
    pub fn invalid_hint(code: Code, message: impl Into<String>, hint: Hint) -> Self {
        Error::InvalidInput {
            code,
            message: message.into(),
            hint: Some(Box::new(hint)),
        }
    }

    /// An [`Error::NotFound`] without a hint.
    pub fn not_found(object: Object, name: impl Into<String>) -> Self {
        Error::NotFound {
            object,
            name: name.into(),
            hint: None,
        }
    }

    /// An [`Error::NotFound`] with a hint on what to do next.
    pub fn not_found_hint(object: Object, name: impl Into<String>, hint: Hint) -> Self {
        Error::NotFound {
            object,
            name: name.into(),
            hint: Some(Box::new(hint)),
        }
    }

    /// A [`Error::SchemaMismatch`] with its hint.
    pub fn schema_mismatch(message: impl Into<String>, hint: Option<Hint>) -> Self {
        Error::SchemaMismatch {
            message: message.into(),
            hint: hint.map(Box::new),
        }
    }

    /// The hint each edge words for itself: the one the error carries, or
    /// the one its code implies.
    pub fn hint(&self) -> Option<Hint> {
        let carried = match self {
            Error::InvalidInput { hint, .. }
            | Error::NotFound { hint, .. }
            | Error::Conflict { hint, .. }
            | Error::SchemaMismatch { hint, .. }
            | Error::Remote { hint, .. } => hint.as_deref(),
            _ => None,
        };
        if let Some(h) = carried {
            return Some(h.clone());
        }
        if self.inline_hint().is_some() {
            return None;
        }
        match Code::parse(self.code()) {
            Some(Code::NamespaceNotFound) => Some(Hint::ListNamespaces),
            Some(Code::NamespaceExists | Code::TableExists | Code::PinExists) => {
                Some(Hint::NameTaken)
            }
            Some(Code::InvalidName) => Some(Hint::NameRules),
            Some(Code::InvalidPartition) => Some(Hint::PartitionSyntax),
            _ => match self {
                Error::Unavailable { dependency, .. } => Some(Hint::Unavailable {
                    dependency: dependency.noun().to_owned(),
                }),
                Error::InsufficientStorage { .. } => Some(Hint::FreeSpace),
                _ if self.kind() == ErrorKind::Unavailable => Some(Hint::Unavailable {
                    dependency: "server's database or object store".to_owned(),
                }),
                _ if self.kind() == ErrorKind::InsufficientStorage => Some(Hint::FreeSpace),
                _ if self.kind() == ErrorKind::Internal => Some(Hint::Internal),
                _ => None,
            },
        }
    }

    /// The message without its hint.
    pub fn message(&self) -> String {
        let text = match self {
            Error::InvalidInput { message, .. }
            | Error::Conflict { message, .. }
            | Error::SchemaMismatch { message, .. }
            | Error::Remote { message, .. } => message.clone(),
            Error::NotFound { object, name, .. } => format!("{} {name} not found", object.noun()),
            Error::Unavailable { message, .. } | Error::InsufficientStorage { message, .. } => {
                return message.clone();
            }
            other => other.to_string(),
        };
        match text.split_once(INLINE_HINT) {
            Some((m, _)) => m.to_owned(),
            None => text,
        }
    }

    /// A hint written into the message itself, worded alike for every edge
    /// (`...; hint: write a number and a unit`).
    fn inline_hint(&self) -> Option<String> {
        let text = match self {
            Error::InvalidInput { message, .. }
            | Error::Conflict { message, .. }
            | Error::SchemaMismatch { message, .. }
            | Error::Remote { message, .. } => message.clone(),
            Error::NotFound { .. }
            | Error::Unavailable { .. }
            | Error::InsufficientStorage { .. } => return None,
            other => other.to_string(),
        };
        text.split_once(INLINE_HINT).map(|(_, h)| h.to_owned())
    }

    /// What to do next, as the users of `edge` do it.
    pub fn hint_for(&self, edge: Edge) -> Option<String> {
        self.hint()
            .map(|h| h.render(edge))
            .or_else(|| self.inline_hint())
    }

    /// The message and its hint, worded for `edge`. The local edges also
    /// get a failed dependency's own words; HTTP never does.
    pub fn message_for(&self, edge: Edge) -> String {
        let message = match self {
            Error::Unavailable { message, cause, .. }
            | Error::InsufficientStorage { message, cause }
                if edge != Edge::Http =>
            {
                format!("{message} ({cause})")
            }
            _ => self.message(),
        };
        match self.hint_for(edge) {
            Some(h) => format!("{message}{INLINE_HINT}{h}"),
            None => message,
        }
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Conflict { .. } | Error::SchemaChanged => ErrorKind::Conflict,
            Error::SchemaMismatch { .. } => ErrorKind::SchemaMismatch,
            Error::Unauthorized(_) => ErrorKind::Unauthorized,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::TooLarge(_) => ErrorKind::TooLarge,
            Error::RateLimited(_) => ErrorKind::RateLimited,
            Error::Remote { kind, .. } => *kind,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::InsufficientStorage { .. } => ErrorKind::InsufficientStorage,
            Error::Database(_) | Error::Storage(_) | Error::Data(_) | Error::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// Whether this error carries `code` (also when a server reported it).
    pub fn is(&self, code: Code) -> bool {
        self.code() == code.as_str()
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &str {
        match self {
            Error::InvalidInput { code, .. } => code.as_str(),
            Error::NotFound { object, .. } => match object {
                Object::Namespace => Code::NamespaceNotFound.as_str(),
                Object::Table => Code::TableNotFound.as_str(),
                Object::Partition => Code::PartitionNotFound.as_str(),
                Object::Batch => Code::BatchNotFound.as_str(),
                Object::Pin => Code::PinNotFound.as_str(),
                Object::Token => Code::TokenNotFound.as_str(),
            },
            Error::AlreadyExists { object, .. } => match object {
                Object::Namespace => Code::NamespaceExists.as_str(),
                Object::Table => Code::TableExists.as_str(),
                Object::Partition => Code::PartitionExists.as_str(),
                Object::Batch => Code::BatchExists.as_str(),
                Object::Pin => Code::PinExists.as_str(),
                Object::Token => Code::TokenExists.as_str(),
            },
            Error::Conflict { .. } => Code::Conflict.as_str(),
            Error::SchemaChanged => Code::SchemaChanged.as_str(),
            Error::SchemaMismatch { .. } => Code::SchemaMismatch.as_str(),
            Error::Unauthorized(_) => Code::Unauthorized.as_str(),
            Error::Forbidden(_) => Code::Forbidden.as_str(),
            Error::TooLarge(_) => Code::PayloadTooLarge.as_str(),
            Error::RateLimited(_) => Code::RateLimited.as_str(),
            Error::Remote { code, .. } => code,
            Error::Unavailable { dependency, .. } => match dependency {
                Dependency::Database => Code::DatabaseUnavailable.as_str(),
                Dependency::Storage => Code::StorageUnavailable.as_str(),
            },
            Error::InsufficientStorage { .. } => Code::InsufficientStorage.as_str(),
            Error::Database(_) => Code::DatabaseError.as_str(),
            Error::Storage(_) => Code::StorageError.as_str(),
            Error::Data(_) => Code::DataError.as_str(),
            Error::Internal(_) => Code::InternalError.as_str(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        crate::unavailable::database(e)
    }
}

impl From<object_store::Error> for Error {
    fn from(e: object_store::Error) -> Self {
        crate::unavailable::storage(e)
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Error::Data(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::Data(e.to_string())
    }
}
