//! The domain model: names, partitions, batch IDs and the catalog's entities.
//! Everything a caller types is validated here, once.

mod batch_id;
mod entities;
mod names;
mod partition;
mod schema;
mod token;
mod virtual_table;

pub use batch_id::BatchId;
pub use entities::*;
pub use names::{KeyName, NamespaceName, PinName, TableIdent, TableName};
pub(crate) use names::{check_identifier, shown};
pub use partition::{
    KeyType, MAX_VALUE_BYTES, PartitionKey, PartitionSpec, PartitionValues, escape, unescape,
};
pub(crate) use partition::{prefix_bound, range_bound};
pub(crate) use schema::same_logical_type;
pub use schema::{
    SchemaMode, fingerprint, merge_schemas, parse_columns, parse_data_type, schemas_compatible,
};
pub use token::{
    Access, Grant, IssuedToken, MAX_TOKEN_NAME, NewToken, Role, Secret, StoredToken, Token,
    check_token_name,
};
pub use virtual_table::VirtualTable;
