//! Data through the server, for clients without storage credentials:
//! Parquet files and Arrow IPC streams uploaded as request bodies (streamed
//! to the store, never buffered whole), and reads encoded as Arrow IPC.

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamDecoder;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use object_store::ObjectStoreExt;
use tokio::io::AsyncWriteExt;

use super::Metastore;
use crate::data;
use crate::error::{Code, Error, Result};
use crate::model::{Batch, BatchId, BatchState, Casts, DataFile, SchemaMode, TableIdent};
use crate::storage;

/// A request body: chunks of bytes (errors already mapped, e.g. to 413).
pub type Body = BoxStream<'static, Result<Bytes>>;

impl Metastore {
    /// Streams an uploaded Parquet file into a staged batch's prefix, checks
    /// its schema against the table, and records it. On any failure the
    /// uploaded object is removed (it was never visible).
    pub async fn upload_parquet(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        mut body: Body,
        mode: SchemaMode,
    ) -> Result<Batch> {
        let t = self.table(ident).await?;
        let b = self.catalog.get_batch(ident, batch).await?;
        if b.state != BatchState::Staged {
            return Err(Error::invalid(
                Code::BatchNotStaged,
                format!(
                    "batch {batch} is {}: stage a new batch to upload data",
                    b.state.as_str()
                ),
            ));
        }
        let path = storage::object_path(&format!(
            "{}/upload-{:05}.parquet",
            b.location,
            b.files.len()
        ))?;
        let store = self.direct()?.store().clone();
        // Bounded memory: the server spools a Parquet upload to a local file
        // first and replays it faster than the network delivered it, so
        // the writer must not keep many parts in flight (the default, 8
        // parts of 10 MiB, is 80 MiB per upload).
        let mut writer =
            object_store::buffered::BufWriter::with_capacity(store.clone(), path.clone(), 8 << 20)
                .with_max_concurrency(2);
        let mut size = 0u64;
        let copied: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                writer.write_all(&chunk).await.map_err(|e| {
                    Error::from(object_store::Error::Generic {
                        store: "upload",
                        source: Box::new(e),
                    })
                })?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = copied {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.shutdown().await.map_err(|e| {
            Error::from(object_store::Error::Generic {
                store: "upload",
                source: Box::new(e),
            })
        })?;
        crate::faults::crash_point("crash_after_data_written");
        let recorded = async {
            let info = data::inspect_file(&store, &path).await?;
            if info.size != size {
                return Err(Error::Internal(
                    "uploaded size differs from the stored size".into(),
                ));
            }
            super::writes::check_schema(&t.ident, &t.schema, &info.schema, mode, Casts::None)?;
            let file = DataFile {
                path: path.to_string(),
                size: info.size,
                rows: info.rows,
            };
            self.catalog
                .record_files(ident, batch, &[file], &info.schema)
                .await
        }
        .await;
        if recorded.is_err() {
            let _ = store.delete(&path).await;
        }
        recorded
    }

    /// Decodes an uploaded Arrow IPC stream and writes it to a staged batch
    /// (rolling Parquet files, memory bounded by the file size threshold).
    pub async fn upload_arrow(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        body: Body,
        mode: SchemaMode,
    ) -> Result<Batch> {
        let (schema, batches) = decode_ipc(body).await?;
        self.write(ident, batch, schema, batches, mode).await
    }
}

struct Decoding {
    body: Body,
    decoder: StreamDecoder,
    buf: arrow::buffer::Buffer,
    /// The schema once decoded (kept: the decoder forgets it at the end).
    schema: Option<SchemaRef>,
}

impl Decoding {
    /// The next record batch, or `None` at the end of the stream.
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            while !self.buf.is_empty() {
                let decoded = self.decoder.decode(&mut self.buf).map_err(invalid_ipc)?;
                if self.schema.is_none() {
                    self.schema = self.decoder.schema();
                }
                if let Some(b) = decoded {
                    return Ok(Some(b));
                }
            }
            match self.body.next().await {
                Some(chunk) => self.buf = arrow::buffer::Buffer::from(chunk?),
                None => {
                    self.decoder.finish().map_err(invalid_ipc)?;
                    return Ok(None);
                }
            }
        }
    }
}

fn invalid_ipc(e: arrow_schema::ArrowError) -> Error {
    Error::invalid(
        Code::InvalidArrowStream,
        format!(
            "the body is not a valid Arrow IPC stream: {e}; send the IPC stream format (not the file format)"
        ),
    )
}

/// Reads an IPC stream's schema, then yields its record batches.
pub async fn decode_ipc(
    body: Body,
) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
    let mut d = Decoding {
        body,
        decoder: StreamDecoder::new(),
        buf: arrow::buffer::Buffer::from_vec(Vec::<u8>::new()),
        schema: None,
    };
    // The first decoded batch (if any) carries the schema; a stream with a
    // schema and no batches still has one once it ends.
    let first = d.next().await?;
    let schema = match (&first, d.schema.clone()) {
        (Some(b), _) => b.schema(),
        (None, Some(s)) => s,
        (None, None) => {
            return Err(Error::invalid(
                Code::InvalidArrowStream,
                "the Arrow IPC stream is empty: it has no schema",
            ));
        }
    };
    let rest = futures::stream::unfold(d, |mut d| async move {
        match d.next().await {
            Ok(Some(b)) => Some((Ok(b), d)),
            Ok(None) => None,
            Err(e) => Some((Err(e), d)),
        }
    });
    let stream = futures::stream::iter(first.map(Ok)).chain(rest).boxed();
    Ok((schema, stream))
}

/// Encodes record batches as an Arrow IPC stream, a chunk per batch.
pub fn encode_ipc<'a>(
    schema: SchemaRef,
    batches: impl Stream<Item = Result<RecordBatch>> + Send + 'a,
) -> impl Stream<Item = Result<Bytes>> + Send + 'a {
    let writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).map_err(Error::from);
    let header = match &writer {
        Ok(_) => None,
        Err(e) => Some(Error::Data(e.to_string())),
    };
    let state = (writer.ok(), Box::pin(batches), false);
    let body = futures::stream::unfold(state, |(mut w, mut batches, done)| async move {
        let writer = w.as_mut()?;
        if done {
            return None;
        }
        // The schema message is already in the buffer after try_new.
        match batches.next().await {
            Some(Ok(b)) => {
                let out = writer
                    .write(&b)
                    .map(|()| Bytes::from(std::mem::take(writer.get_mut())))
                    .map_err(Error::from);
                Some((out, (w, batches, false)))
            }
            Some(Err(e)) => Some((Err(e), (w, batches, true))),
            None => {
                let out = writer
                    .finish()
                    .map(|()| Bytes::from(std::mem::take(writer.get_mut())))
                    .map_err(Error::from);
                Some((out, (w, batches, true)))
            }
        }
    });
    futures::stream::iter(header.map(Err)).chain(body)
}
