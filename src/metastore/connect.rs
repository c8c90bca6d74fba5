//! One URL picks the catalog: `http(s)://` talks to a server, `sqlite://`
//! (and later `postgres://`) or a directory opens it embedded, nothing means
//! the embedded default `.batchmeta/`.

use std::path::{Path, PathBuf};

use futures::StreamExt;

use super::{Config, Metastore};
use crate::error::{Code, Error, Result};
use crate::storage::Storage;

/// How to reach the data when connecting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The warehouse for an embedded catalog given by a database URL
    /// (default: `warehouse/` beside a SQLite file).
    pub warehouse: Option<String>,
    /// For a server URL: `Some(true)` writes and reads the server's warehouse
    /// directly, `Some(false)` sends all data through the server, `None`
    /// decides by trying to reach the warehouse.
    pub direct_data: Option<bool>,
    /// Object store options for a cloud warehouse (object_store / deltalake
    /// key names); the standard `AWS_*` variables fill in the rest.
    pub storage_options: std::collections::BTreeMap<String, String>,
    /// For a server URL: the bearer token (`BATCHMETA_TOKEN`) sent with
    /// every request.
    pub token: Option<crate::model::Secret>,
}

/// What a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A `meta serve` at this base URL.
    Server(String),
    /// An embedded catalog.
    Embedded(Config),
}

/// Reads a catalog URL (or `None` for the embedded default).
pub fn target(url: Option<&str>, options: &ConnectOptions) -> Result<Target> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(Target::Embedded(Config {
            warehouse: options.warehouse.clone(),
            ..Config::default()
        }));
    };
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(Target::Server(url.trim_end_matches('/').to_owned()));
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let warehouse = options.warehouse.clone().unwrap_or_else(|| {
            Path::new(path)
                .parent()
                .unwrap_or(Path::new("."))
                .join("warehouse")
                .display()
                .to_string()
        });
        return Ok(Target::Embedded(Config {
            database_url: Some(format!("sqlite://{path}")),
            warehouse: Some(warehouse),
            storage_options: options.storage_options.clone(),
            ..Config::default()
        }));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let warehouse = options.warehouse.clone().ok_or_else(|| {
            Error::invalid(
                Code::InvalidUrl,
                "a PostgreSQL catalog needs a warehouse: pass --warehouse (or BATCHMETA_WAREHOUSE)",
            )
        })?;
        return Ok(Target::Embedded(Config {
            database_url: Some(url.to_owned()),
            warehouse: Some(warehouse),
            storage_options: options.storage_options.clone(),
            ..Config::default()
        }));
    }
    if url.contains("://") {
        return Err(Error::invalid(
            Code::InvalidUrl,
            format!(
                "unsupported catalog URL {url:?}: use http(s)://host:port, sqlite:///path/catalog.db, postgres://... or a directory"
            ),
        ));
    }
    Ok(Target::Embedded(Config {
        dir: Some(PathBuf::from(url)),
        warehouse: options.warehouse.clone(),
        storage_options: options.storage_options.clone(),
        ..Config::default()
    }))
}

impl Metastore {
    /// Connects to what `url` names (see [`target`]).
    pub async fn connect(url: Option<&str>, options: &ConnectOptions) -> Result<Self> {
        match target(url, options)? {
            Target::Embedded(config) => Self::open(&config).await,
            #[cfg(feature = "client")]
            Target::Server(base) => {
                let client =
                    crate::client::RemoteCatalog::with_token(&base, options.token.as_ref())?;
                let info = client.server_info().await?;
                let direct = match options.direct_data {
                    Some(d) => d,
                    None => reachable(&info.warehouse, &options.storage_options).await,
                };
                if direct {
                    let storage = Storage::open_with(&info.warehouse, &options.storage_options)?;
                    Ok(Self::new(std::sync::Arc::new(client), storage))
                } else {
                    Self::through_server(client).await
                }
            }
            #[cfg(not(feature = "client"))]
            Target::Server(_) => Err(Error::invalid(
                Code::InvalidUrl,
                "this build has no HTTP client",
            )),
        }
    }
}

/// Whether this process can list the warehouse at `url` itself.
async fn reachable(url: &str, options: &std::collections::BTreeMap<String, String>) -> bool {
    if url.starts_with("memory:") {
        return false;
    }
    if let Ok(u) = url::Url::parse(url)
        && u.scheme() == "file"
    {
        // Never create a directory that only exists on the server's machine.
        return u.to_file_path().is_ok_and(|p| p.is_dir());
    }
    match Storage::open_with(url, options) {
        Ok(s) => !matches!(s.store().list(None).next().await, Some(Err(_))),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_catalog() {
        let o = ConnectOptions::default();
        assert_eq!(
            target(None, &o).unwrap(),
            Target::Embedded(Config::default())
        );
        assert_eq!(
            target(Some("http://h:8080/"), &o).unwrap(),
            Target::Server("http://h:8080".into())
        );
        match target(Some("sqlite:///data/m/catalog.db"), &o).unwrap() {
            Target::Embedded(c) => {
                assert_eq!(c.resolved_database_url(), "sqlite:///data/m/catalog.db");
                assert_eq!(c.resolved_warehouse(), "/data/m/warehouse");
            }
            other => panic!("{other:?}"),
        }
        match target(Some("/data/m"), &o).unwrap() {
            Target::Embedded(c) => assert_eq!(c.resolved_warehouse(), "/data/m/warehouse"),
            other => panic!("{other:?}"),
        }
        assert!(
            target(Some("postgres://h/db"), &o).is_err(),
            "needs a warehouse"
        );
        assert!(target(Some("ftp://x"), &o).is_err());
    }
}
