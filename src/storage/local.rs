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

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path as FsPath, PathBuf};

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
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

impl fmt::Display for DurableLocal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DurableLocal({})", self.inner)
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

/// Writes `payload` to `path` if nothing is there, durably: a staging file
/// beside it, hard-linked to the final name (which fails if the name is
/// taken, so no reader ever sees a partial file), the staging name removed,
/// then the file's data and the changed directories synced, side by side:
/// they are independent, and a journaling file system completes syncs that
/// overlap in one commit. Nothing may refer to the file before this returns
/// (the publish comes after), so the order among the syncs does not matter.
fn create_durably(path: &FsPath, payload: &PutPayload) -> io::Result<()> {
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
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)?;
        for chunk in payload.iter() {
            f.write_all(chunk)?;
        }
        fs::hard_link(&staging, path)?;
        Ok::<File, io::Error>(f)
    })();
    let removed = fs::remove_file(&staging);
    let file = written?;
    removed?;
    dirs.push(dir.to_path_buf());
    dirs.sort();
    dirs.dedup();
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
            .map_err(|e| object_store::Error::Generic {
                store: "DurableLocal",
                source: Box::new(e),
            })?
            .map_err(|source| match source.kind() {
                io::ErrorKind::AlreadyExists => object_store::Error::AlreadyExists {
                    path: shown,
                    source: Box::new(source),
                },
                _ => object_store::Error::Generic {
                    store: "DurableLocal",
                    source: Box::new(source),
                },
            })?;
        Ok(PutResult {
            e_tag: None,
            version: None,
            extensions: Default::default(),
        })
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
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
