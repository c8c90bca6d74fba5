//! # batchmeta
//!
//! A versioned table metastore that enforces the never-delete batch-ID
//! pattern. Every write of a partition lands in a fresh object-store prefix
//! named by a batch ID; the catalog then swaps the partition's pointer
//! atomically, in the same transaction that appends the audit event.
//!
//! The crate is one domain core with thin edges:
//! - [`model`]: names, partitions, batch IDs, entities; all validation.
//! - [`catalog`]: the metadata [`catalog::Catalog`] trait and its SQLite and PostgreSQL implementations.
//! - [`storage`]: object stores chosen by URL and the path layout.
//! - [`data`]: Arrow record batches to and from Parquet.
//! - [`metastore`]: the [`Metastore`] facade every edge calls.
//! - `server` and `hms` (feature `server`): the HTTP service and the
//!   read-only Hive Metastore Thrift edge.

#[cfg(any(feature = "server", feature = "client"))]
pub mod api;
pub mod auth;
pub mod catalog;
#[cfg(feature = "client")]
pub mod client;
pub mod data;
pub mod error;
pub mod faults;
#[cfg(feature = "server")]
pub mod hms;
#[cfg(feature = "server")]
pub mod iceberg;
pub mod model;
pub mod redact;
pub mod storage;
mod unavailable;

pub mod metastore;
#[cfg(feature = "server")]
pub mod server;

pub use error::{Code, Dependency, Error, ErrorKind, Result};
pub use metastore::{
    Body, Config, ConnectOptions, GcReport, GcRequest, Inputs, Metastore, PublishOptions,
    PublishSpec, ReadRequest, ResolveRequest, RolledBack, Run, StageOptions, StoreOptions, Stored,
    VerifyReport, decode_ipc, encode_ipc,
};

/// The header an unauthenticated (loopback) deployment takes the principal from.
pub const PRINCIPAL_HEADER: &str = "x-batchmeta-principal";
