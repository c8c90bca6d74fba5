//! Cloud warehouses: S3 (and S3-compatible servers), Google Cloud Storage
//! and Azure Blob Storage, built with `object_store`'s builders.
//!
//! Settings come from the standard environment variables first (`AWS_*`,
//! `GOOGLE_*`, `AZURE_*`), then from the caller's options, which win. A
//! prefix in the URL (`s3://bucket/prefix`) becomes the warehouse root.
//! Secret values never reach an error message: anything a builder reports
//! is scrubbed of them first.

use std::str::FromStr;
use std::sync::Arc;

use object_store::ObjectStore;
use std::time::Duration;

use object_store::RetryConfig;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::prefix::PrefixStore;
use url::Url;

use super::{StorageOptions, object_path};
use crate::error::{Code, Error, Result};
use crate::redact;

/// The URL schemes of cloud warehouses.
pub(super) const SCHEMES: [&str; 7] = ["s3", "s3a", "gs", "az", "azure", "abfs", "abfss"];

/// Environment variables whose values the builders read.
const ENV_PREFIXES: [&str; 3] = ["AWS_", "GOOGLE_", "AZURE_"];

/// How long one request may keep retrying an unreachable store before it
/// fails with `storage_unavailable`: object_store's default is 3 minutes,
/// which would hold every request of an outage that long. A connection
/// attempt is bounded apart (object_store's 5 s `connect_timeout`, which
/// the warehouse options may change).
const RETRY_TIMEOUT: Duration = Duration::from_secs(10);

fn bounded_retry() -> RetryConfig {
    RetryConfig {
        max_retries: 3,
        retry_timeout: RETRY_TIMEOUT,
        ..RetryConfig::default()
    }
}

/// Opens the cloud store a parsed URL names; returns it and the URL to
/// show (without credentials or query).
pub(super) fn open(
    parsed: &Url,
    options: &StorageOptions,
) -> Result<(Arc<dyn ObjectStore>, String)> {
    let scheme = parsed.scheme();
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| {
        invalid(format!(
            "{scheme}:// needs a bucket or container, e.g. {scheme}://my-bucket/warehouse"
        ))
    })?;
    let user = match parsed.username() {
        "" => String::new(),
        u => format!("{u}@"),
    };
    let prefix = parsed.path().trim_matches('/');
    let root = format!("{scheme}://{user}{host}");
    let shown = if prefix.is_empty() {
        root.clone()
    } else {
        format!("{root}/{prefix}")
    };
    let options: Vec<(String, &str)> = options
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.as_str()))
        .collect();
    let built = match scheme {
        "s3" | "s3a" => s3(&root, &options),
        "gs" => gcs(&root, &options),
        _ => azure(&root, &options),
    };
    let store = built.map_err(|e| {
        invalid(format!(
            "cannot open warehouse {shown}: {}; hint: check the storage options and the {} environment variables",
            scrub(&e, &options),
            ENV_PREFIXES.map(|p| format!("{p}*")).join(", ")
        ))
    })?;
    let store = if prefix.is_empty() {
        store
    } else {
        let p = object_path(prefix).map_err(|_| {
            invalid(format!(
                "invalid prefix {prefix:?} in warehouse {shown}: use plain path segments, without '.' or '..'"
            ))
        })?;
        Arc::new(PrefixStore::new(store, p))
    };
    Ok((store, shown))
}

fn invalid(message: String) -> Error {
    Error::invalid(Code::InvalidWarehouse, message)
}

/// One builder failure, before it is scrubbed and shown.
#[derive(Debug)]
enum BuildError {
    /// An option key the store does not know.
    UnknownKey { scheme: &'static str, key: String },
    /// The builder refused the configuration.
    Store(object_store::Error),
}

/// The builder's message with every secret value hidden: secret-named
/// options and secret-named environment variables.
fn scrub(e: &BuildError, options: &[(String, &str)]) -> String {
    let message = match e {
        BuildError::UnknownKey { scheme, key } => format!(
            "unknown storage option {key:?} for {scheme}:// warehouses (see object_store's config keys, e.g. aws_region, google_service_account_key, azure_storage_account_name)"
        ),
        BuildError::Store(e) => e.to_string(),
    };
    let env: Vec<String> = std::env::vars()
        .filter(|(k, _)| ENV_PREFIXES.iter().any(|p| k.starts_with(p)) && redact::is_secret_key(k))
        .map(|(_, v)| v)
        .collect();
    let secrets = options
        .iter()
        .filter(|(k, _)| redact::is_secret_key(k))
        .map(|(_, v)| *v)
        .chain(env.iter().map(String::as_str));
    redact::scrub(&message, secrets)
}

fn s3(root: &str, options: &[(String, &str)]) -> Result<Arc<dyn ObjectStore>, BuildError> {
    let mut builder = AmazonS3Builder::from_env()
        .with_url(root)
        .with_retry(bounded_retry());
    let mut explicit_style = std::env::var_os("AWS_VIRTUAL_HOSTED_STYLE_REQUEST").is_some();
    for (k, v) in options {
        let key = AmazonS3ConfigKey::from_str(k).map_err(|_| BuildError::UnknownKey {
            scheme: "s3",
            key: k.clone(),
        })?;
        explicit_style |= matches!(key, AmazonS3ConfigKey::VirtualHostedStyleRequest);
        builder = builder.with_config(key, *v);
    }
    // A custom endpoint (MinIO, moto, Ceph, R2) means path-style requests
    // unless the caller says otherwise.
    if builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .is_some()
        && !explicit_style
    {
        builder = builder.with_virtual_hosted_style_request(false);
    }
    Ok(Arc::new(builder.build().map_err(BuildError::Store)?))
}

fn gcs(root: &str, options: &[(String, &str)]) -> Result<Arc<dyn ObjectStore>, BuildError> {
    let mut builder = GoogleCloudStorageBuilder::from_env()
        .with_url(root)
        .with_retry(bounded_retry());
    for (k, v) in options {
        let key = GoogleConfigKey::from_str(k).map_err(|_| BuildError::UnknownKey {
            scheme: "gs",
            key: k.clone(),
        })?;
        builder = builder.with_config(key, *v);
    }
    Ok(Arc::new(builder.build().map_err(BuildError::Store)?))
}

fn azure(root: &str, options: &[(String, &str)]) -> Result<Arc<dyn ObjectStore>, BuildError> {
    let mut builder = MicrosoftAzureBuilder::from_env()
        .with_url(root)
        .with_retry(bounded_retry());
    for (k, v) in options {
        let key = AzureConfigKey::from_str(k).map_err(|_| BuildError::UnknownKey {
            scheme: "az",
            key: k.clone(),
        })?;
        builder = builder.with_config(key, *v);
    }
    Ok(Arc::new(builder.build().map_err(BuildError::Store)?))
}

#[cfg(test)]
mod tests {
    use super::super::Storage;
    use super::*;

    const SECRET: &str = "TOPSECRET-9f8e7d";

    fn opts(pairs: &[(&str, &str)]) -> StorageOptions {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn s3_opts() -> StorageOptions {
        opts(&[
            ("aws_access_key_id", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("aws_region", "eu-west-1"),
            ("aws_endpoint", "http://127.0.0.1:9"),
            ("aws_allow_http", "true"),
        ])
    }

    #[test]
    fn s3_keeps_its_prefix_and_hides_secrets() {
        let s = Storage::open_with("s3://bucket/warehouse/prod", &s3_opts()).unwrap();
        assert_eq!(s.url(), "s3://bucket/warehouse/prod");
        assert_eq!(
            s.uri("a/b.parquet"),
            "s3://bucket/warehouse/prod/a/b.parquet"
        );
        let debug = format!("{s:?} {:?}", s.store());
        assert!(!debug.contains(SECRET), "{debug}");
        let bare = Storage::open_with("s3://bucket", &s3_opts()).unwrap();
        assert_eq!(bare.url(), "s3://bucket");
    }

    #[test]
    fn credentials_in_the_url_are_not_shown() {
        let s = Storage::open_with(&format!("s3://AKID:{SECRET}@bucket/p"), &s3_opts()).unwrap();
        assert!(!s.url().contains(SECRET), "{}", s.url());
        assert!(!format!("{s:?}").contains(SECRET));
    }

    #[test]
    fn bad_options_are_refused_without_their_values() {
        let mut o = s3_opts();
        o.insert("aws_secret_acess_key".into(), SECRET.into());
        let e = Storage::open_with("s3://bucket/p", &o).unwrap_err();
        assert_eq!(e.code(), "invalid_warehouse");
        let msg = e.to_string();
        assert!(msg.contains("aws_secret_acess_key"), "{msg}");
        assert!(!msg.contains(SECRET), "{msg}");
        assert!(!format!("{e:?}").contains(SECRET));
        // A secret pasted into a key whose value the builder echoes back.
        let mut o = s3_opts();
        o.insert("aws_checksum_algorithm".into(), SECRET.into());
        let e = Storage::open_with("s3://bucket/p", &o).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        assert!(!e.to_string().contains(SECRET), "{e}");
        assert!(!format!("{e:?}").contains(SECRET), "{e:?}");
    }

    #[test]
    fn prefixes_must_be_clean_paths() {
        let e = Storage::open_with("s3://bucket/a//b", &s3_opts()).unwrap_err();
        assert_eq!(e.code(), "invalid_warehouse");
        let e = Storage::open_with("s3:///nobucket", &s3_opts()).unwrap_err();
        assert_eq!(e.code(), "invalid_warehouse");
    }

    #[test]
    fn gcs_and_azure_open_the_same_way() {
        let g = Storage::open_with(
            "gs://bucket/wh",
            &opts(&[("google_skip_signature", "true")]),
        )
        .unwrap();
        assert_eq!(g.url(), "gs://bucket/wh");
        let a = Storage::open_with(
            "az://container/wh",
            &opts(&[
                ("azure_storage_account_name", "acct"),
                ("azure_skip_signature", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(a.url(), "az://container/wh");
        let e = Storage::open_with("gs://bucket/wh", &opts(&[("aws_region", SECRET)])).unwrap_err();
        assert!(e.to_string().contains("aws_region"), "{e}");
        assert!(!e.to_string().contains(SECRET), "{e}");
    }
}
