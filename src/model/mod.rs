//! The domain model: names, partitions, batch IDs and the catalog's entities.
//! Everything a caller types is validated here, once.

mod batch_id;
mod entities;
mod names;
mod partition;
mod schema;

pub use batch_id::BatchId;
pub use entities::*;
pub(crate) use names::shown;
pub use names::{KeyName, NamespaceName, PinName, TableIdent, TableName};
pub use partition::{
    KeyType, MAX_VALUE_BYTES, PartitionKey, PartitionSpec, PartitionValues, escape, unescape,
};
pub(crate) use partition::{prefix_bound, range_bound};
pub(crate) use schema::same_logical_type;
pub use schema::{SchemaMode, fingerprint, merge_schemas, schemas_compatible};
