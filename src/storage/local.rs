//! The local warehouse: `object_store`'s file system store, with a leaner
//! durable create for data files.
//!
//! A data file is written once, into a batch directory that did not exist a
//! moment before. Making that durable takes three syncs: the file's data,
//! the batch directory (which now names the file) and its parent (which now
//! names the batch directory). `LocalFileSystem::with_fsync` runs them one
//! after the other and also syncs the new, still empty batch directory on
//! its own, a fourth sync that the second one makes redundant. On a small
//! publish these syncs are most of the cost, so creates take the path
//! below, which issues the three at once; everything else is delegated.
//!
//! Multipart uploads (how a large data file is streamed while it is still
//! being encoded) are create-only and durable too: the parts go to a staging
//! file, each part's data is synced as it lands (so the disk works while the
//! next part encodes), and completing links the staging file to its name,
//! which fails if the name is taken. An aborted or dropped upload leaves
//! nothing behind.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result, UploadPart,
};

/// A local directory as an object store; every write is on disk before it
/// returns.
#[derive(Debug)]
pub(crate) struct DurableLocal {
    inner: LocalFileSystem,
}

impl DurableLocal {
    /// The store rooted at `dir` (which must exist).
    pub(crate) fn new(dir: &FsPath) -> Result<Self> {
        Ok(Self {
            inner: LocalFileSystem::new_with_prefix(dir)?.with_fsync(true),
        })
    }
}

/// How a [`DurableLocal`] shows itself (`DurableLocal(...)`), which is how
/// `multipart_is_create_only` recognises it.
pub(crate) const DISPLAY_NAME: &str = "DurableLocal";

impl fmt::Display for DurableLocal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DISPLAY_NAME}({})", self.inner)
    }
}

/// Opens a directory for fsync.
fn sync_dir(dir: &FsPath) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates the missing directories above `file`, returning the parents
/// whose entries changed (each must be synced).
fn create_parents(file: &FsPath) -> io::Result<Vec<PathBuf>> {
    let Some(dir) = file.parent() else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    let mut changed = Vec::new();
    for m in missing.iter().rev() {
        match fs::create_dir(m) {
            // Created here, or by a concurrent writer that may not have
            // synced it yet: either way its parent is synced below.
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        if let Some(parent) = m.parent() {
            changed.push(parent.to_path_buf());
        }
    }
    Ok(changed)
}

/// A fresh staging file beside `path` (its parent directories created),
/// and the directories whose entries changed, which must be synced once the
/// file is linked.
fn create_staging(path: &FsPath) -> io::Result<(File, PathBuf, Vec<PathBuf>)> {
    let mut dirs = create_parents(path)?;
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a data file needs a directory"))?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("a data file needs a name"))?;
    let staging = dir.join(format!(
        ".{}.{}.staging",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staging)?;
    dirs.push(dir.to_path_buf());
    dirs.sort();
    dirs.dedup();
    Ok((f, staging, dirs))
}

/// Links the written `staging` file to `path` (failing with
/// `AlreadyExists` if the name is taken), removes the staging name, then
/// syncs the file's data and the changed directories side by side: they are
/// independent, and a journaling file system completes syncs that overlap in
/// one commit. Nothing may refer to the file before this returns (the
/// publish comes after), so the order among the syncs does not matter.
fn link_durably(file: &File, staging: &FsPath, path: &FsPath, dirs: &[PathBuf]) -> io::Result<()> {
    let linked = fs::hard_link(staging, path);
    let removed = fs::remove_file(staging);
    linked?;
    removed?;
    std::thread::scope(|s| {
        let syncs: Vec<_> = dirs.iter().map(|d| s.spawn(move || sync_dir(d))).collect();
        let data = file.sync_data();
        syncs
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a sync thread panicked")))
            })
            .chain(std::iter::once(data))
            .collect::<io::Result<Vec<()>>>()
    })?;
    Ok(())
}

/// Writes `payload` to `path` if nothing is there, durably: a staging file
/// beside it, hard-linked to the final name (which fails if the name is
/// taken, so no reader ever sees a partial file), then synced (see
/// [`link_durably`]).
fn create_durably(path: &FsPath, payload: &PutPayload) -> io::Result<()> {
    let (mut f, staging, dirs) = create_staging(path)?;
    let written = (|| {
        for chunk in payload.iter() {
            f.write_all(chunk)?;
        }
        Ok::<(), io::Error>(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&staging);
        return Err(e);
    }
    link_durably(&f, &staging, path, &dirs)
}

/// An `io::Error` of a local write as an `object_store` error.
fn store_error(shown: &str, source: io::Error) -> object_store::Error {
    match source.kind() {
        io::ErrorKind::AlreadyExists => object_store::Error::AlreadyExists {
            path: shown.to_owned(),
            source: Box::new(source),
        },
        _ => object_store::Error::Generic {
            store: "DurableLocal",
            source: Box::new(source),
        },
    }
}

fn join_error(e: tokio::task::JoinError) -> object_store::Error {
    object_store::Error::Generic {
        store: "DurableLocal",
        source: Box::new(e),
    }
}

/// A create-only, durable multipart upload into a staging file (see the
/// module documentation). Parts may be written concurrently: each knows its
/// offset when it is handed over.
#[derive(Debug)]
struct DurableUpload {
    /// The staging file; `None` once completed or aborted.
    file: Option<Arc<Mutex<File>>>,
    staging: PathBuf,
    path: PathBuf,
    shown: String,
    dirs: Vec<PathBuf>,
    /// Where the next part goes.
    offset: u64,
}

impl DurableUpload {
    fn new(path: PathBuf, shown: String) -> io::Result<Self> {
        let (f, staging, dirs) = create_staging(&path)?;
        Ok(Self {
            file: Some(Arc::new(Mutex::new(f))),
            staging,
            path,
            shown,
            dirs,
            offset: 0,
        })
    }

    /// Writes `data` at `offset`, then syncs it: the disk writes this part
    /// while the caller prepares the next, and the sync on completion is short.
    fn write_part(file: &Mutex<File>, offset: u64, data: &PutPayload) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let synced = {
            let mut f = file.lock().unwrap_or_else(PoisonError::into_inner);
            f.seek(SeekFrom::Start(offset))?;
            for chunk in data.iter() {
                f.write_all(chunk)?;
            }
            f.try_clone()?
        };
        // Outside the lock: other parts keep writing while this one syncs.
        synced.sync_data()
    }
}

#[async_trait]
impl MultipartUpload for DurableUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let offset = self.offset;
        self.offset += data.content_length() as u64;
        let shown = self.shown.clone();
        let Some(file) = self.file.clone() else {
            return Box::pin(futures::future::ready(Err(store_error(
                &shown,
                io::Error::other("the upload was completed or aborted already"),
            ))));
        };
        // Started now, not when the future is first polled.
        let task = tokio::task::spawn_blocking(move || Self::write_part(&file, offset, &data));
        Box::pin(async move {
            task.await
                .map_err(join_error)?
                .map_err(|e| store_error(&shown, e))
        })
    }

    async fn complete(&mut self) -> Result<PutResult> {
        let file = self.file.take().ok_or_else(|| {
            store_error(
                &self.shown,
                io::Error::other("the upload was completed or aborted already"),
            )
        })?;
        let (staging, path, dirs) = (self.staging.clone(), self.path.clone(), self.dirs.clone());
        tokio::task::spawn_blocking(move || {
            let f = file.lock().unwrap_or_else(PoisonError::into_inner);
            let linked = link_durably(&f, &staging, &path, &dirs);
            if linked.is_err() {
                let _ = fs::remove_file(&staging);
            }
            linked
        })
        .await
        .map_err(join_error)?
        .map_err(|e| store_error(&self.shown, e))?;
        Ok(PutResult {
            e_tag: None,
            version: None,
            extensions: Default::default(),
        })
    }

    async fn abort(&mut self) -> Result<()> {
        if self.file.take().is_some() {
            let staging = self.staging.clone();
            tokio::task::spawn_blocking(move || fs::remove_file(staging))
                .await
                .map_err(join_error)?
                .map_err(|e| store_error(&self.shown, e))?;
        }
        Ok(())
    }
}

impl Drop for DurableUpload {
    fn drop(&mut self) {
        // Neither completed nor aborted: nothing may be left behind.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.staging);
        }
    }
}

#[async_trait]
impl ObjectStore for DurableLocal {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        if !matches!(opts.mode, PutMode::Create)
            || !opts.attributes.is_empty()
            || !opts.tags.encoded().is_empty()
        {
            return self.inner.put_opts(location, payload, opts).await;
        }
        let path = self.inner.path_to_filesystem(location)?;
        let shown = location.to_string();
        tokio::task::spawn_blocking(move || create_durably(&path, &payload))
            .await
            .map_err(join_error)?
            .map_err(|e| store_error(&shown, e))?;
        Ok(PutResult {
            e_tag: None,
            version: None,
            extensions: Default::default(),
        })
    }

    /// Create-only and durable, unlike `LocalFileSystem`'s (see the module
    /// documentation): completing fails with `AlreadyExists` if the name is
    /// taken.
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        if !opts.attributes.is_empty() || !opts.tags.encoded().is_empty() {
            return self.inner.put_multipart_opts(location, opts).await;
        }
        let path = self.inner.path_to_filesystem(location)?;
        let shown = location.to_string();
        let upload = tokio::task::spawn_blocking(move || {
            DurableUpload::new(path, shown.clone()).map_err(|e| store_error(&shown, e))
        })
        .await
        .map_err(join_error)??;
        Ok(Box::new(upload))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use object_store::{ObjectStoreExt, PutMode};

    use super::*;

    #[tokio::test]
    async fn creates_once_and_leaves_no_staging_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DurableLocal::new(dir.path()).unwrap();
        let p = Path::from("ns/t/p=a/20200101000000000000/part-00000.parquet");
        let create = || PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        store
            .put_opts(&p, PutPayload::from_static(b"hello"), create())
            .await
            .unwrap();
        let e = store
            .put_opts(&p, PutPayload::from_static(b"other"), create())
            .await
            .unwrap_err();
        assert!(
            matches!(e, object_store::Error::AlreadyExists { .. }),
            "{e}"
        );
        let got = store.get(&p).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"hello");
        let names: Vec<String> = fs::read_dir(dir.path().join("ns/t/p=a/20200101000000000000"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["part-00000.parquet"]);
    }
}
