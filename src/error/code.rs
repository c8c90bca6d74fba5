//! Every stable error code, once. Edges put [`Code::as_str`] in their bodies
//! (HTTP `error.code`), map it to exit codes and exception classes, and
//! tests compare against it; no other place spells a code.

/// Defines [`Code`] with its text, [`Code::ALL`] and [`Code::parse`].
macro_rules! codes {
    ($($variant:ident = $text:literal,)*) => {
        /// A stable machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(#[doc = concat!("`", $text, "`")] $variant,)*
        }

        impl Code {
            /// Every code, in the registry's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it appears on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The code a wire string names, if it is one of ours.
            pub fn parse(text: &str) -> Option<Code> {
                match text {
                    $($text => Some(Code::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // Not found (HTTP 404)
    BatchNotFound = "batch_not_found",
    NamespaceNotFound = "namespace_not_found",
    PartitionNotFound = "partition_not_found",
    PinNotFound = "pin_not_found",
    RouteNotFound = "route_not_found",
    TableNotFound = "table_not_found",
    TokenNotFound = "token_not_found",

    // Already exists (HTTP 409)
    BatchExists = "batch_exists",
    NamespaceExists = "namespace_exists",
    PartitionExists = "partition_exists",
    PinExists = "pin_exists",
    TableExists = "table_exists",
    TokenExists = "token_exists",

    // Credentials (HTTP 401 / 403)
    Forbidden = "forbidden",
    InvalidToken = "invalid_token",
    MalformedToken = "malformed_token",
    TokenExpired = "token_expired",
    TokenRevoked = "token_revoked",
    Unauthorized = "unauthorized",

    // Dependencies and internal failures (HTTP 503 / 507 / 500)
    DataError = "data_error",
    DatabaseError = "database_error",
    DatabaseUnavailable = "database_unavailable",
    InsufficientStorage = "insufficient_storage",
    InternalError = "internal_error",
    NotReady = "not_ready",
    StorageError = "storage_error",
    StorageUnavailable = "storage_unavailable",

    // The remote client's own (the server could not be reached or answered nonsense)
    NotSupportedRemotely = "not_supported_remotely",
    ServerUnreachable = "server_unreachable",
    UnexpectedResponse = "unexpected_response",

    // HTTP-level (the request itself: body, media type, route, limits)
    BodyTimeout = "body_timeout",
    DecompressionLimit = "decompression_limit",
    InvalidBody = "invalid_body",
    InvalidJson = "invalid_json",
    InvalidPath = "invalid_path",
    InvalidQuery = "invalid_query",
    JsonTooDeep = "json_too_deep",
    MalformedJson = "malformed_json",
    MethodNotAllowed = "method_not_allowed",
    PayloadTooLarge = "payload_too_large",
    RateLimited = "rate_limited",
    TooLarge = "too_large",
    TooManyInputs = "too_many_inputs",
    TooManyPartitions = "too_many_partitions",
    UnsupportedMediaType = "unsupported_media_type",

    // Conflicts and publish rules (HTTP 409 / 422 / 400)
    AlreadyCurrent = "already_current",
    BatchAbandoned = "batch_abandoned",
    BatchAlreadyPublished = "batch_already_published",
    BatchExpired = "batch_expired",
    BatchFileMissing = "batch_file_missing",
    BatchFileSizeMismatch = "batch_file_size_mismatch",
    BatchNotCommitted = "batch_not_committed",
    BatchNotStaged = "batch_not_staged",
    BatchPartitionMismatch = "batch_partition_mismatch",
    BatchProtected = "batch_protected",
    Conflict = "conflict",
    DuplicatePartition = "duplicate_partition",
    EmptyBatch = "empty_batch",
    EmptyPublish = "empty_publish",
    FileChanged = "file_changed",
    FileOutsidePrefix = "file_outside_prefix",
    InputBatchNotFound = "input_batch_not_found",
    InputNotCommitted = "input_not_committed",
    LineageCycle = "lineage_cycle",
    NoParent = "no_parent",
    NoStorageAccess = "no_storage_access",
    PartitionMismatch = "partition_mismatch",
    PartitionNotPublished = "partition_not_published",
    PinExpired = "pin_expired",
    PinPartitionMismatch = "pin_partition_mismatch",
    SchemaChanged = "schema_changed",
    SchemaMismatch = "schema_mismatch",

    // Command-line and process (CLI exit 1)
    BindFailed = "bind_failed",
    CannotCreateFile = "cannot_create_file",
    CannotOpenFile = "cannot_open_file",
    ClientStream = "client_stream",
    InsecureBind = "insecure_bind",
    InvalidFile = "invalid_file",
    MissingPinTarget = "missing_pin_target",
    MissingSchema = "missing_schema",
    UnknownFileFormat = "unknown_file_format",
    ViolationsFound = "violations_found",
    WaitTimeout = "wait_timeout",

    // Invalid input (HTTP 400)
    DuplicateColumn = "duplicate_column",
    GraceTooShort = "grace_too_short",
    IcebergUnsupportedType = "iceberg_unsupported_type",
    InvalidAction = "invalid_action",
    InvalidArrowStream = "invalid_arrow_stream",
    InvalidAsOf = "invalid_as_of",
    InvalidBatchId = "invalid_batch_id",
    InvalidColumns = "invalid_columns",
    InvalidCursor = "invalid_cursor",
    InvalidDataFile = "invalid_data_file",
    InvalidDatabaseUrl = "invalid_database_url",
    InvalidDuration = "invalid_duration",
    InvalidExpect = "invalid_expect",
    InvalidExpiry = "invalid_expiry",
    InvalidFilter = "invalid_filter",
    InvalidGrants = "invalid_grants",
    InvalidLimit = "invalid_limit",
    InvalidName = "invalid_name",
    InvalidPartition = "invalid_partition",
    InvalidPartitionBy = "invalid_partition_by",
    InvalidPartitionKey = "invalid_partition_key",
    InvalidPin = "invalid_pin",
    InvalidPrincipal = "invalid_principal",
    InvalidReadOptions = "invalid_read_options",
    InvalidRetention = "invalid_retention",
    InvalidRole = "invalid_role",
    InvalidSchema = "invalid_schema",
    InvalidSchemaMode = "invalid_schema_mode",
    InvalidText = "invalid_text",
    InvalidTime = "invalid_time",
    InvalidUrl = "invalid_url",
    InvalidVersion = "invalid_version",
    InvalidVirtualTable = "invalid_virtual_table",
    InvalidWarehouse = "invalid_warehouse",
    InvalidWriteOptions = "invalid_write_options",
    UnknownColumn = "unknown_column",
    UnsafeDurability = "unsafe_durability",
    ValueTooLong = "value_too_long",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_is_distinct_snake_case_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for &code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text} is not snake_case"
            );
            assert_eq!(Code::parse(text), Some(code));
        }
        assert_eq!(Code::parse("no_such_code"), None);
    }
}
