//! One Parquet object in a store: a byte-range reader for parquet's async
//! decoder, footer loading, and [`inspect_file`].
//!
//! parquet's own `object_store` adapters are deprecated, so this is the
//! small [`AsyncFileReader`] its `examples/object_store.rs` shows, over
//! `get_range` / `get_ranges`. Readers know the file size from the catalog,
//! so the footer takes one ranged GET and no HEAD.

use std::ops::Range;
use std::sync::Arc;

use arrow_schema::Schema;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::error::{Code, Error, Result};

/// Bytes fetched from the end of a file in the first footer request; large
/// enough for the footers of wide tables in one round trip.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// What [`inspect_file`] learns from a Parquet file's footer.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// Size in bytes.
    pub size: u64,
    /// Number of rows.
    pub rows: u64,
    /// The Arrow schema, with its metadata (e.g. `pandas`), as written.
    pub schema: Schema,
}

/// Reads a Parquet file's footer only (one HEAD and one ranged GET) and
/// returns its size, row count and Arrow schema. A file that is not Parquet
/// or is truncated gives `invalid_data_file`.
pub async fn inspect_file(store: &Arc<dyn ObjectStore>, path: &Path) -> Result<FileInfo> {
    let size = store.head(path).await?.size;
    let mut reader = ObjectReader::new(store.clone(), path.clone(), size);
    let metadata = reader.load_metadata().await?;
    check_chunk_ranges(&metadata, size).map_err(|e| invalid_file(path, &e))?;
    let file = metadata.file_metadata();
    let kv = super::dictionary_order::without_records(file.key_value_metadata());
    let schema = parquet::arrow::parquet_to_arrow_schema(file.schema_descr(), kv.as_ref())
        .map_err(|e| invalid_file(path, &e))?;
    Ok(FileInfo {
        size,
        rows: u64::try_from(file.num_rows()).unwrap_or_default(),
        schema,
    })
}

/// Every column chunk must lie between the leading magic and the footer;
/// a file cut at the front still has a valid footer but fails this.
fn check_chunk_ranges(metadata: &ParquetMetaData, size: u64) -> parquet::errors::Result<()> {
    for (g, group) in metadata.row_groups().iter().enumerate() {
        for column in group.columns() {
            let (start, len) = column.byte_range();
            if start < 4 || start.saturating_add(len) > size.saturating_sub(8) {
                return Err(ParquetError::General(format!(
                    "column chunk {} of row group {g} lies outside the file",
                    column.column_path()
                )));
            }
        }
    }
    Ok(())
}

/// The `invalid_data_file` error for `path`.
pub(crate) fn invalid_file(path: &Path, e: &ParquetError) -> Error {
    Error::invalid(
        Code::InvalidDataFile,
        format!(
            "{path} is not a readable Parquet file ({e}): check that it was written completely by a Parquet writer"
        ),
    )
}

/// An [`AsyncFileReader`] for one object of known size.
#[derive(Debug, Clone)]
pub(crate) struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl ObjectReader {
    /// A reader of `path`, which is `size` bytes long.
    pub(crate) fn new(store: Arc<dyn ObjectStore>, path: Path, size: u64) -> Self {
        Self { store, path, size }
    }

    /// Loads and decodes the footer. Object-store failures stay storage
    /// errors; anything else means the bytes are not a Parquet file.
    pub(crate) async fn load_metadata(&mut self) -> Result<Arc<ParquetMetaData>> {
        let path = self.path.clone();
        let size = self.size;
        match ParquetMetaDataReader::new()
            .with_prefetch_hint(Some(FOOTER_PREFETCH))
            .load_and_finish(&mut *self, size)
            .await
        {
            Ok(m) => Ok(Arc::new(m)),
            Err(ParquetError::External(e)) => match e.downcast::<object_store::Error>() {
                Ok(e) => Err(Error::from(*e)),
                Err(e) => Err(invalid_file(&path, &ParquetError::External(e))),
            },
            Err(e) => Err(invalid_file(&path, &e)),
        }
    }
}

fn to_parquet_err(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(to_parquet_err)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(to_parquet_err)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
