//! The domain model: names, partitions, batch IDs and the catalog's entities.
//! Everything a caller types is validated here, once.

mod batch_id;
mod entities;
mod names;
mod partition;
mod schema;

pub use batch_id::BatchId;
pub use entities::*;
pub use names::{KeyName, NamespaceName, PinName, TableIdent, TableName};
pub(crate) use names::{check_identifier, shown};
pub(crate) use partition::range_bound;
pub use partition::{
    KeyType, MAX_VALUE_BYTES, PartitionKey, PartitionSpec, PartitionValues, escape, unescape,
};
pub(crate) use schema::same_logical_type;
pub use schema::{
    SchemaMode, fingerprint, merge_schemas, parse_columns, parse_data_type, schemas_compatible,
};
