//! Object stores chosen by URL, and the warehouse path layout:
//! `<warehouse>/<namespace>/<table>/<key>=<value>/.../<batch_id>/part-00000.parquet`.
//!
//! The local store syncs every write to disk before it returns, so data is
//! durable before a publish makes it visible (`local`). Cloud warehouses (`s3://`, `gs://`, `az://`) are built
//! by `cloud` from options and the standard environment variables. Paths are
//! built only from validated names and values.

mod cloud;
mod local;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::memory::InMemory;
use object_store::path::Path;
use url::Url;

use crate::error::{Code, Error, Result};
use crate::model::{BatchId, PartitionValues, TableIdent};

/// Whether `store`'s multipart uploads are create-only, like its puts: the
/// local warehouse's are (see `local`), so data files may be streamed to it
/// while they are encoded. Other stores' multipart uploads overwrite, so
/// their files are put whole.
pub(crate) fn multipart_is_create_only(store: &dyn ObjectStore) -> bool {
    store.to_string().starts_with(local::DISPLAY_NAME)
}

/// Object store options, in `object_store` / deltalake key style
/// (`aws_access_key_id`, `aws_secret_access_key`, `aws_region`,
/// `aws_endpoint`, `aws_allow_http`, `google_service_account_key`,
/// `azure_storage_account_name`, ...). Keys are case-insensitive. Values may
/// be secrets: they are never shown in `Debug` output or error messages.
pub type StorageOptions = BTreeMap<String, String>;

/// A warehouse: an object store and the root prefix inside it.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    url: String,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL never carries credentials (they come from options and are
        // removed from it), and the store stays out of Debug output.
        f.debug_struct("Storage").field("url", &self.url).finish()
    }
}

impl Storage {
    /// Opens the warehouse at `url` with no options: see [`Storage::open_with`].
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, &StorageOptions::new())
    }

    /// Opens the warehouse at `url`: `file:///abs/dir` (or a plain directory
    /// path; created if missing), `memory://`, `s3://bucket/prefix`,
    /// `gs://bucket/prefix` or `az://container/prefix`. Cloud stores take
    /// their settings from the standard environment variables (`AWS_*`,
    /// including `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP`; `GOOGLE_*`;
    /// `AZURE_*`), overridden by `options`; local stores ignore `options`.
    pub fn open_with(url: &str, options: &StorageOptions) -> Result<Self> {
        if url.starts_with("memory:") {
            return Ok(Self::new(Arc::new(InMemory::new()), "memory://"));
        }
        let dir = if url.contains("://") {
            let parsed = Url::parse(url).map_err(|e| invalid_url(url, &e.to_string()))?;
            match parsed.scheme() {
                "file" => parsed
                    .to_file_path()
                    .map_err(|()| invalid_url(url, "not an absolute file path"))?,
                scheme if cloud::SCHEMES.contains(&scheme) => {
                    let (store, shown) = cloud::open(&parsed, options)?;
                    return Ok(Self::new(store, shown));
                }
                other => {
                    return Err(invalid_url(
                        url,
                        &format!(
                            "scheme {other}:// is not supported; use file://, s3://, gs://, az:// or memory://"
                        ),
                    ));
                }
            }
        } else {
            std::path::PathBuf::from(url)
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::invalid(
                Code::InvalidWarehouse,
                format!(
                    "cannot create warehouse directory {}: {e}; check the path and its permissions",
                    dir.display()
                ),
            )
        })?;
        let dir = dir.canonicalize().map_err(|e| {
            Error::invalid(
                Code::InvalidWarehouse,
                format!("cannot open warehouse directory {}: {e}", dir.display()),
            )
        })?;
        let store = local::DurableLocal::new(&dir)?;
        let url = Url::from_directory_path(&dir)
            .map(|u| u.to_string())
            .unwrap_or_else(|()| dir.display().to_string());
        Ok(Self::new(Arc::new(store), url))
    }

    /// Wraps an existing store; `url` is how the warehouse is shown to users.
    pub fn new(store: Arc<dyn ObjectStore>, url: impl Into<String>) -> Self {
        Self {
            store,
            url: url.into(),
        }
    }

    /// The object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The warehouse URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The full URI of an object path, for tools that read files directly.
    pub fn uri(&self, path: &str) -> String {
        uri(&self.url, path)
    }
}

/// The full URI of an object path under a warehouse URL: a valid URI
/// (RFC 3986, RFC 8089 for `file:`), each path segment percent-encoded, so
/// that a tool which decodes it (polars, Spark, a browser) opens exactly the
/// object: the key `region=a b%3Dc` is written `region=a%20b%253Dc`.
pub fn uri(warehouse: &str, path: &str) -> String {
    format!("{}/{}", warehouse.trim_end_matches('/'), encode_path(path))
}

/// Percent-encodes every byte of `path` that may not appear as itself in a
/// URI path (RFC 3986 `pchar`, with `/` between segments).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn invalid_url(url: &str, why: &str) -> Error {
    Error::invalid(
        Code::InvalidWarehouse,
        format!("invalid warehouse url {:?}: {why}", crate::redact::url(url)),
    )
}

/// The prefix of a table's data, relative to the warehouse root.
pub fn table_location(table: &TableIdent) -> String {
    format!("{}/{}", table.namespace, table.name)
}

/// The prefix of one batch: `<table location>/<partition path>/<batch id>`.
pub fn batch_location(
    table_location: &str,
    partition: &PartitionValues,
    batch: &BatchId,
) -> String {
    let p = partition.path();
    if p.is_empty() {
        format!("{table_location}/{batch}")
    } else {
        format!("{table_location}/{p}/{batch}")
    }
}

/// Parses a location or file path into an object path, refusing anything
/// that is not a clean relative path (no `.`/`..` or empty segments).
pub fn object_path(s: &str) -> Result<Path> {
    Path::parse(s)
        .map_err(|e| Error::invalid(Code::InvalidPath, format!("invalid object path {s:?}: {e}")))
}

/// Whether `file` lies strictly inside the batch prefix `location`.
pub fn is_inside(location: &str, file: &str) -> bool {
    file.strip_prefix(location)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .split('/')
                    .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyType, PartitionKey, PartitionSpec};

    #[test]
    fn uris_are_percent_encoded_once_per_segment() {
        assert_eq!(
            uri(
                "file:///w/",
                "s/t/region=a b%3Dc%25\u{e9}/1/part-00000.parquet"
            ),
            "file:///w/s/t/region=a%20b%253Dc%2525%C3%A9/1/part-00000.parquet"
        );
        assert_eq!(
            uri("s3://bucket/prefix", "s/t/date=2016-10-31/1/p.parquet"),
            "s3://bucket/prefix/s/t/date=2016-10-31/1/p.parquet"
        );
        // What a decoder gets back is the object key itself.
        let u = url::Url::parse(&uri("file:///w", "s/region=a b%3D/x")).unwrap();
        assert_eq!(
            u.to_file_path().unwrap(),
            std::path::Path::new("/w/s/region=a b%3D/x")
        );
    }

    #[test]
    fn layout_follows_the_design() {
        let t = TableIdent::new("sales", "sold_items").unwrap();
        let keys = vec![
            PartitionKey::new("date", KeyType::Date).unwrap(),
            PartitionKey::new("region", KeyType::String).unwrap(),
        ];
        let v = PartitionValues::resolve(
            &keys,
            &PartitionSpec::Positional(vec!["2016-10-31".into(), "a:b".into()]),
        )
        .unwrap();
        let b = BatchId::parse("20161102234252000000").unwrap();
        let loc = batch_location(&table_location(&t), &v, &b);
        assert_eq!(
            loc,
            "sales/sold_items/date=2016-10-31/region=a%3Ab/20161102234252000000"
        );
        object_path(&loc).unwrap();
        let unpart = PartitionValues::resolve(&[], &PartitionSpec::Positional(vec![])).unwrap();
        assert_eq!(
            batch_location("s/t", &unpart, &b),
            "s/t/20161102234252000000"
        );
    }

    #[test]
    fn inside_checks_refuse_escapes() {
        let loc = "s/t/d=1/20161102234252000000";
        assert!(is_inside(
            loc,
            "s/t/d=1/20161102234252000000/part-00000.parquet"
        ));
        assert!(!is_inside(loc, "s/t/d=1/20161102234252000000"));
        assert!(!is_inside(
            loc,
            "s/t/d=1/20161102234252000000x/part.parquet"
        ));
        assert!(!is_inside(
            loc,
            "s/t/d=1/20161102234252000000/../other/part.parquet"
        ));
        assert!(!is_inside(loc, "s/t/d=1/other/part.parquet"));
        assert!(object_path("a/../b").is_err());
    }

    #[tokio::test]
    async fn local_warehouse_keeps_escaped_segments() {
        use object_store::{ObjectStoreExt, PutPayload};
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path().to_str().unwrap()).unwrap();
        let p = object_path("s/t/region=a%3Ab c/20161102234252000000/part-00000.parquet").unwrap();
        s.store()
            .put(&p, PutPayload::from_static(b"x"))
            .await
            .unwrap();
        let got = s.store().get(&p).await.unwrap().bytes().await.unwrap();
        assert_eq!(&got[..], b"x");
        assert!(s.url().starts_with("file://"));
    }
}
