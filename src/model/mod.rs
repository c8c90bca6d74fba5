//! The domain model: names, partitions, batch IDs and the catalog's entities.
//! Everything a caller types is validated here, once.

mod batch_id;
mod entities;
mod escape;
pub mod hint;
mod names;
mod partition;
mod schema;
mod scope;
pub mod time;
mod token;
mod version;
mod virtual_table;

pub use batch_id::BatchId;
pub use entities::*;
pub use escape::{escape, unescape};
pub use hint::{Edge, Hint};
pub use names::{
    KeyName, NamespaceName, PinName, TableIdent, TableName, closest, missing_namespace,
};
pub(crate) use names::{check_identifier, shown};
pub use partition::{KeyType, MAX_VALUE_BYTES, PartitionKey, PartitionSpec, PartitionValues};
pub(crate) use partition::{prefix_bound, range_bound};
pub use schema::{
    Casts, SchemaMode, fingerprint, merge_schemas, merge_schemas_with, parse_columns,
    parse_data_type, schemas_compatible, schemas_compatible_with, stored_schema,
};
pub(crate) use schema::{casts_losslessly, exact_in_float64, same_logical_type};
pub use scope::Scope;
pub use token::{
    Access, Grant, IssuedToken, MAX_TOKEN_NAME, NewToken, Role, Secret, StoredToken, Token,
    check_token_name,
};
pub use version::{Expect, Version};
pub use virtual_table::VirtualTable;
