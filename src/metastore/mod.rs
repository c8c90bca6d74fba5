//! The [`Metastore`] facade: the one API every edge (HTTP, CLI, Python) calls.
//!
//! It joins the catalog (metadata) to the warehouse (object store) and the
//! data layer (Parquet): a publish checks each batch's files in the store and
//! its schema against the table before the catalog moves any pointer.

mod connect;
mod file_listing;
mod gc;
mod lineage;
mod lists;
mod orphans;
mod partitioned;
mod publish;
mod reads;
mod store;
mod tokens;
mod transfer;
mod verify;
mod writes;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::{Catalog, connect_catalog_with};
use crate::data::WriteOptions;
use crate::error::{Code, Result};
use crate::model::{
    Batch, BatchId, Context, Event, EventQuery, MetadataUpdate, Namespace, NamespaceName,
    NewNamespace, NewPin, NewTable, Page, PartitionInfo, PartitionQuery, PartitionSpec,
    PartitionValues, Pin, PinName, Table, TableIdent,
};
use crate::storage::Storage;

pub use connect::{ConnectOptions, Target, target};
pub use file_listing::FileEntry;
pub use gc::{GcCollected, GcOrphan, GcReport, GcRequest, GcSurvivor};
pub use lineage::{Inputs, JOB_KEY, RUN_ID_KEY, RolledBack, Run};
pub use lists::{DEFAULT_LIST_LIMIT, EventFilter, PinRequest, take_pages};
pub use partitioned::{StoredPartitions, key_type_of, table_for_data};
pub use publish::{PublishOptions, PublishSpec};
pub use reads::{ReadRequest, ResolveRequest};
pub use store::{Part, Publish, StoreMode, StoreOptions, StoreOutcome, Stored};
pub use transfer::{Body, decode_ipc, encode_ipc};
pub use verify::{VerifyReport, VerifyScope};
pub use writes::StageOptions;

/// The directory of the embedded default: `.batchmeta/` in the working directory.
pub const DEFAULT_DIR: &str = ".batchmeta";

/// Where the catalog and the warehouse live.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `sqlite:///path/catalog.db` or `postgres://user@host/db`; `None` =
    /// `<dir>/catalog.db`.
    pub database_url: Option<String>,
    /// `file:///path`, a directory, `s3://bucket/prefix`, `gs://...`,
    /// `az://...` or `memory://`; `None` = `<dir>/warehouse`.
    pub warehouse: Option<String>,
    /// The embedded directory; `None` = [`DEFAULT_DIR`].
    pub dir: Option<PathBuf>,
    /// Object store options for a cloud warehouse (see
    /// [`crate::storage::StorageOptions`]); values may be secrets.
    pub storage_options: BTreeMap<String, String>,
    /// Pool size and durability check for a PostgreSQL catalog.
    pub postgres: crate::catalog::PostgresOptions,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Passwords and keys stay out: URLs are redacted, option values hidden.
        let options: BTreeMap<&str, &str> = self
            .storage_options
            .keys()
            .map(|k| (k.as_str(), crate::redact::HIDDEN))
            .collect();
        f.debug_struct("Config")
            .field(
                "database_url",
                &self.database_url.as_deref().map(crate::redact::url),
            )
            .field(
                "warehouse",
                &self.warehouse.as_deref().map(crate::redact::url),
            )
            .field("dir", &self.dir)
            .field("storage_options", &options)
            .field("postgres", &self.postgres)
            .finish()
    }
}

impl Config {
    /// Everything in one directory: `<dir>/catalog.db` and `<dir>/warehouse/`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::default()
        }
    }

    fn dir(&self) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
    }

    /// The catalog database URL this config resolves to.
    pub fn resolved_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.dir().join("catalog.db").display()))
    }

    /// The warehouse location this config resolves to.
    pub fn resolved_warehouse(&self) -> String {
        self.warehouse
            .clone()
            .unwrap_or_else(|| self.dir().join("warehouse").display().to_string())
    }
}

/// How a metastore reaches the data.
#[derive(Debug, Clone)]
pub(crate) enum DataAccess {
    /// It reads and writes the warehouse itself.
    Direct(Storage),
    /// It has no storage access: data goes through a server.
    #[cfg(feature = "client")]
    Server {
        /// The server.
        client: crate::client::RemoteCatalog,
        /// The server's warehouse URL (for file URIs).
        warehouse: String,
    },
}

/// The metastore: a catalog, a warehouse and the operations over both.
#[derive(Debug, Clone)]
pub struct Metastore {
    catalog: Arc<dyn Catalog>,
    data: DataAccess,
    write_options: WriteOptions,
    /// The run whose reads this metastore notes for its stores (lineage).
    run: Option<Arc<lineage::Run>>,
}

impl Metastore {
    /// Joins a catalog and a warehouse this process can reach.
    pub fn new(catalog: Arc<dyn Catalog>, storage: Storage) -> Self {
        Self {
            catalog,
            data: DataAccess::Direct(storage),
            write_options: WriteOptions::default(),
            run: None,
        }
    }

    /// A client of a server whose warehouse this process cannot reach: data
    /// is uploaded to and read from the server.
    #[cfg(feature = "client")]
    pub async fn through_server(client: crate::client::RemoteCatalog) -> Result<Self> {
        let info = client.server_info().await?;
        Ok(Self {
            catalog: Arc::new(client.clone()),
            data: DataAccess::Server {
                client,
                warehouse: info.warehouse,
            },
            write_options: WriteOptions::default(),
            run: None,
        })
    }

    /// Opens the catalog and warehouse a [`Config`] names; the database
    /// URL's scheme picks the backend (`sqlite://`, `postgres://`).
    pub async fn open(config: &Config) -> Result<Self> {
        let storage = Storage::open_with(&config.resolved_warehouse(), &config.storage_options)?;
        let catalog =
            connect_catalog_with(&config.resolved_database_url(), &config.postgres).await?;
        Ok(Self::new(catalog, storage))
    }

    /// Opens (creating) the embedded catalog in `dir`.
    pub async fn open_dir(dir: &Path) -> Result<Self> {
        Self::open(&Config::in_dir(dir)).await
    }

    /// Sets how data files are written (file size threshold, row groups).
    pub fn with_write_options(mut self, options: WriteOptions) -> Self {
        self.write_options = options;
        self
    }

    /// The warehouse, when this process reaches it directly.
    pub fn storage(&self) -> Option<&Storage> {
        match &self.data {
            DataAccess::Direct(s) => Some(s),
            #[cfg(feature = "client")]
            DataAccess::Server { .. } => None,
        }
    }

    /// The warehouse URL.
    pub fn warehouse_url(&self) -> &str {
        match &self.data {
            DataAccess::Direct(s) => s.url(),
            #[cfg(feature = "client")]
            DataAccess::Server { warehouse, .. } => warehouse,
        }
    }

    /// The warehouse, or an error for clients that go through a server.
    pub(crate) fn direct(&self) -> Result<&Storage> {
        self.storage().ok_or_else(|| {
            crate::Error::invalid(
                Code::NoStorageAccess,
                "this client has no direct access to the warehouse; this operation runs on the server",
            )
        })
    }

    // ---- namespaces and tables -------------------------------------------

    /// Creates a namespace.
    pub async fn create_namespace(&self, ctx: &Context, ns: &NewNamespace) -> Result<Namespace> {
        self.catalog.create_namespace(ctx, ns).await
    }

    /// Gets a namespace.
    pub async fn namespace(&self, name: &NamespaceName) -> Result<Namespace> {
        self.catalog.get_namespace(name).await
    }

    /// Lists namespaces.
    pub async fn namespaces(&self) -> Result<Vec<Namespace>> {
        self.catalog.list_namespaces().await
    }

    /// Updates a namespace's description, owner or properties.
    pub async fn update_namespace(
        &self,
        ctx: &Context,
        name: &NamespaceName,
        update: &MetadataUpdate,
    ) -> Result<Namespace> {
        crate::catalog::retention::check_properties(&update.set_properties)?;
        self.catalog.update_namespace(ctx, name, update).await
    }

    /// Creates a table. Partition keys must not also be data columns.
    pub async fn create_table(&self, ctx: &Context, table: &NewTable) -> Result<Table> {
        writes::check_new_table(table)?;
        self.catalog.create_table(ctx, table).await
    }

    /// Gets a table.
    pub async fn table(&self, ident: &TableIdent) -> Result<Table> {
        self.catalog.get_table(ident).await
    }

    /// Lists the tables of a namespace.
    pub async fn tables(&self, namespace: &NamespaceName) -> Result<Vec<Table>> {
        self.catalog.list_tables(namespace).await
    }

    /// Updates a table's description, owner or properties.
    pub async fn update_table(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        update: &MetadataUpdate,
    ) -> Result<Table> {
        crate::catalog::retention::check_properties(&update.set_properties)?;
        self.catalog.update_table(ctx, ident, update).await
    }

    /// Drops a table: it leaves listings; its data and history stay.
    pub async fn drop_table(&self, ctx: &Context, ident: &TableIdent) -> Result<()> {
        self.catalog.drop_table(ctx, ident).await
    }

    /// Validates a partition spec against a table's keys.
    pub async fn partition(
        &self,
        ident: &TableIdent,
        spec: &PartitionSpec,
    ) -> Result<PartitionValues> {
        let t = self.table(ident).await?;
        PartitionValues::resolve(&t.partition_keys, spec)
    }

    // ---- listings, history, pins, events --------------------------------

    /// Lists published partitions, a page at a time.
    pub async fn partitions(
        &self,
        ident: &TableIdent,
        query: &PartitionQuery,
    ) -> Result<Page<PartitionInfo>> {
        self.catalog.list_partitions(ident, query).await
    }

    /// The pointer moves of one partition, newest first.
    pub async fn history(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>> {
        let p = self.partition(ident, partition).await?;
        self.catalog.history(ident, &p, cursor, limit).await
    }

    /// Every batch of a partition (staged and committed), newest first.
    pub async fn batches(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
    ) -> Result<Vec<Batch>> {
        let p = self.partition(ident, partition).await?;
        self.catalog.list_batches(ident, &p).await
    }

    /// A batch by ID.
    pub async fn batch(&self, ident: &TableIdent, batch: &BatchId) -> Result<Batch> {
        self.catalog.get_batch(ident, batch).await
    }

    /// Creates a pin.
    pub async fn create_pin(&self, ctx: &Context, ident: &TableIdent, pin: &NewPin) -> Result<Pin> {
        self.catalog.create_pin(ctx, ident, pin).await
    }

    /// Gets a pin.
    pub async fn pin(&self, ident: &TableIdent, name: &PinName) -> Result<Pin> {
        self.catalog.get_pin(ident, name).await
    }

    /// Lists the pins of a table (or of every table).
    pub async fn pins(&self, ident: Option<&TableIdent>) -> Result<Vec<Pin>> {
        self.catalog.list_pins(ident).await
    }

    /// Deletes a pin.
    pub async fn delete_pin(
        &self,
        ctx: &Context,
        ident: &TableIdent,
        name: &PinName,
    ) -> Result<()> {
        self.catalog.delete_pin(ctx, ident, name).await
    }

    /// Which pins hold this batch ("who depends on it?").
    pub async fn pins_holding(&self, ident: &TableIdent, batch: &BatchId) -> Result<Vec<Pin>> {
        self.catalog.pins_holding(ident, batch).await
    }

    /// Queries the audit trail.
    pub async fn events(&self, query: &EventQuery) -> Result<Page<Event>> {
        self.catalog.events(query).await
    }
}

impl Metastore {
    /// Waits until a partition is published with a batch other than `after`
    /// (or at all), up to `timeout`; `None` on timeout.
    pub async fn wait(
        &self,
        ident: &TableIdent,
        partition: &PartitionSpec,
        after: Option<&BatchId>,
        timeout: std::time::Duration,
    ) -> Result<Option<crate::model::Resolved>> {
        let p = self.partition(ident, partition).await?;
        self.catalog.wait_for(ident, &p, after, timeout).await
    }
}
