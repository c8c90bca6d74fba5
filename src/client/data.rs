//! Data through the server for clients without storage access: Arrow IPC
//! uploads streamed from the caller's record batches, and reads streamed
//! back as Arrow IPC.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::Method;

use super::{RemoteCatalog, table_path};
use crate::api;
use crate::error::{Code, Error, Result};
use crate::model::{Batch, BatchId, Context, PartitionValues, SchemaMode, ServerInfo, TableIdent};
use crate::{ReadRequest, VerifyReport, decode_ipc, encode_ipc};

impl RemoteCatalog {
    /// `GET /v1/config`: the server's warehouse and version.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.get("/v1/config", super::NO_QUERY).await
    }

    /// Uploads record batches to a staged batch as an Arrow IPC stream.
    pub async fn upload_arrow<S>(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        schema: SchemaRef,
        stream: S,
        mode: SchemaMode,
    ) -> Result<Batch>
    where
        S: Stream<Item = Result<RecordBatch>> + Send + Unpin,
    {
        // reqwest needs a 'static body: feed it through a channel.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes>>(4);
        let body = reqwest::Body::wrap_stream(tokio_stream(rx));
        let rb = self
            .request(
                &Context::new("anonymous"),
                Method::PUT,
                &format!("{}/batches/{batch}/data", table_path(ident)),
            )
            .query(&api::UploadParams {
                schema_mode: Some(mode),
            })
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/vnd.apache.arrow.stream",
            )
            .body(body);
        let send = async {
            let res = self.execute(rb).await?;
            res.json::<Batch>()
                .await
                .map_err(|e| Error::Internal(format!("cannot decode the server's response: {e}")))
        };
        let feed = async move {
            let mut chunks = Box::pin(encode_ipc(schema, stream));
            while let Some(chunk) = chunks.next().await {
                match chunk {
                    Ok(bytes) => {
                        if tx.send(Ok(bytes)).await.is_err() {
                            return None;
                        }
                    }
                    Err(e) => {
                        // Abort the upload; the caller gets the source's error.
                        let _ = tx
                            .send(Err(Error::Internal("the upload was aborted".into())))
                            .await;
                        return Some(e);
                    }
                }
            }
            None
        };
        let (res, source_error) = tokio::join!(send, feed);
        match source_error {
            Some(e) => Err(e),
            None => res,
        }
    }

    /// Registers files a client wrote straight into a batch's prefix; the
    /// server reads their footers.
    pub async fn add_files(
        &self,
        ident: &TableIdent,
        batch: &BatchId,
        paths: &[String],
    ) -> Result<Batch> {
        self.post(
            &Context::new("anonymous"),
            &format!("{}/batches/{batch}/files", table_path(ident)),
            &api::AddFilesBody {
                paths: paths.to_vec(),
            },
        )
        .await
    }

    /// Reads through the server: resolve and stream the data as Arrow IPC.
    pub async fn read(
        &self,
        ident: &TableIdent,
        partitions: Option<&[PartitionValues]>,
        req: &ReadRequest,
    ) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let body = api::ReadBody {
            resolve: super::resolve_body(partitions, &req.resolve.version),
            columns: req.columns.clone(),
            filters: req.filters.clone(),
        };
        let res = self
            .execute(
                self.request(
                    &Context::new("anonymous"),
                    Method::POST,
                    &format!("{}/read", table_path(ident)),
                )
                .json(&body),
            )
            .await?;
        let bytes = res
            .bytes_stream()
            .map_err(|e| Error::Remote {
                kind: crate::ErrorKind::Internal,
                code: Code::ServerUnreachable.as_str().into(),
                message: format!("the server's response broke off: {e}"),
                hint: None,
            })
            .boxed();
        decode_ipc(bytes).await
    }

    /// The server's full verification (catalog and warehouse).
    pub async fn verify(&self) -> Result<VerifyReport> {
        self.send::<_, ()>(&Context::new("anonymous"), Method::POST, "/v1/verify", None)
            .await
    }
}

fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes>>,
) -> impl Stream<Item = Result<bytes::Bytes>> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
