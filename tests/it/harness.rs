//! What the conformance suite needs from a backend: a fresh metastore, and a
//! way to snapshot its database rows and its store listing (to prove that
//! refused input changes nothing).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use batchmeta::model::{
    Context, KeyType, NamespaceName, NewNamespace, NewTable, PartitionKey, PartitionSpec,
    TableIdent,
};
use batchmeta::{Metastore, StoreOptions, Stored};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;

/// Backend-specific views of the state behind a metastore.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Row count of every catalog table.
    async fn row_counts(&self) -> BTreeMap<String, i64>;
}

/// The row counts of the catalog database at `database_url` (SQLite or
/// PostgreSQL).
pub struct CatalogRows {
    pub database_url: String,
}

#[async_trait]
impl Backend for CatalogRows {
    async fn row_counts(&self) -> BTreeMap<String, i64> {
        crate::common::rows::row_counts(&self.database_url).await
    }
}

/// A fresh metastore on some backend.
pub struct Env {
    pub ms: Metastore,
    /// The warehouse behind `ms`, for checks that look at the objects.
    pub storage: batchmeta::storage::Storage,
    pub backend: Arc<dyn Backend>,
    pub ctx: Context,
    /// Keeps temporary directories alive.
    pub _guard: Box<dyn std::any::Any + Send + Sync>,
}

/// What a backend module's `env()` gives: an [`Env`], or `None` when the
/// service it needs is missing.
pub trait MaybeEnv {
    fn env(self) -> Option<Env>;
}

impl MaybeEnv for Env {
    fn env(self) -> Option<Env> {
        Some(self)
    }
}

impl MaybeEnv for Option<Env> {
    fn env(self) -> Option<Env> {
        self
    }
}

/// Everything that must not change when input is refused.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub rows: BTreeMap<String, i64>,
    pub max_event: Option<i64>,
    pub objects: BTreeMap<String, u64>,
}

impl Env {
    pub async fn snapshot(&self) -> Snapshot {
        let objects = self
            .storage
            .store()
            .list(None)
            .map_ok(|m| (m.location.to_string(), m.size))
            .try_collect::<BTreeMap<_, _>>()
            .await
            .unwrap();
        let max_event = self
            .ms
            .events(&Default::default())
            .await
            .unwrap()
            .items
            .first()
            .map(|e| e.id);
        Snapshot {
            rows: self.backend.row_counts().await,
            max_event,
            objects,
        }
    }

    pub async fn object_bytes(&self, path: &str) -> bytes::Bytes {
        let p = object_store::path::Path::parse(path).unwrap();
        self.storage
            .store()
            .get(&p)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    }

    /// Creates namespace `ns` if missing and table `ns.name` with
    /// `id: int64, value: utf8` and the given partition keys.
    pub async fn table(&self, ns: &str, name: &str, keys: &[(&str, KeyType)]) -> TableIdent {
        let nsn = NamespaceName::new(ns).unwrap();
        if self.ms.namespace(&nsn).await.is_err() {
            self.ms
                .create_namespace(
                    &self.ctx,
                    &NewNamespace {
                        name: nsn,
                        description: None,
                        owner: None,
                        properties: Default::default(),
                    },
                )
                .await
                .unwrap();
        }
        let ident = TableIdent::new(ns, name).unwrap();
        self.ms
            .create_table(
                &self.ctx,
                &NewTable {
                    ident: ident.clone(),
                    schema: (*small_schema()).clone(),
                    partition_keys: keys
                        .iter()
                        .map(|(n, t)| PartitionKey::new(n, *t).unwrap())
                        .collect(),
                    description: Some("test table".into()),
                    owner: Some("tests".into()),
                    properties: Default::default(),
                },
            )
            .await
            .unwrap();
        ident
    }

    /// Stores `frame(start..start+n, tag)` into one partition.
    pub async fn store(
        &self,
        t: &TableIdent,
        partition: &str,
        start: i64,
        n: i64,
        tag: &str,
    ) -> Stored {
        self.store_with(t, partition, frame(start, n, tag), &StoreOptions::default())
            .await
            .unwrap()
    }

    pub async fn store_with(
        &self,
        t: &TableIdent,
        partition: &str,
        batch: RecordBatch,
        opts: &StoreOptions,
    ) -> batchmeta::Result<Stored> {
        let schema = batch.schema();
        self.ms
            .store(
                &self.ctx,
                t,
                &PartitionSpec::parse(partition).unwrap(),
                schema,
                stream_of(vec![batch]),
                opts,
            )
            .await
    }

    /// Reads one partition (current) back as one batch.
    pub async fn load(&self, t: &TableIdent, partition: &str) -> RecordBatch {
        self.load_version(t, partition, Default::default()).await
    }

    pub async fn load_version(
        &self,
        t: &TableIdent,
        partition: &str,
        version: batchmeta::model::Version,
    ) -> RecordBatch {
        let req = batchmeta::ReadRequest {
            resolve: batchmeta::ResolveRequest {
                partitions: Some(vec![PartitionSpec::parse(partition).unwrap()]),
                version,
            },
            columns: Some(vec!["id".into(), "value".into()]),
            filters: vec![],
        };
        let (schema, s) = self.ms.read(t, &req).await.unwrap();
        let batches: Vec<RecordBatch> = s.try_collect().await.unwrap();
        arrow_select::concat::concat_batches(&schema, &batches).unwrap()
    }
}

pub fn small_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("value", DataType::Utf8, true),
    ]))
}

/// `n` rows: ids from `start`, values `"{tag}-{id}"`.
pub fn frame(start: i64, n: i64, tag: &str) -> RecordBatch {
    let ids: Vec<i64> = (start..start + n).collect();
    let values: Vec<String> = ids.iter().map(|i| format!("{tag}-{i}")).collect();
    RecordBatch::try_new(
        small_schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(values)),
        ],
    )
    .unwrap()
}

pub fn stream_of(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = batchmeta::Result<RecordBatch>> + Send + Unpin {
    futures::stream::iter(batches.into_iter().map(Ok)).boxed()
}

/// The `value` column of a batch read back.
pub fn values(b: &RecordBatch) -> Vec<String> {
    let col = b.column_by_name("value").unwrap();
    let col = arrow_cast::cast(col, &DataType::Utf8).unwrap();
    let a = col.as_any().downcast_ref::<StringArray>().unwrap();
    a.iter().map(|v| v.unwrap_or("<null>").to_owned()).collect()
}
