//! `meta serve`.

use batchmeta::catalog::PostgresOptions;
use std::time::Duration;

use batchmeta::hms::HmsConfig;
use batchmeta::server::auth::{AuthConfig, AuthMode};
use batchmeta::server::limits::serve_with;
use batchmeta::server::openlineage::{self, Naming, OpenLineageConfig};
use batchmeta::server::{Metrics, ServerConfig, app_with_metrics, shutdown_signal};
use batchmeta::{Code, Config, Error, Metastore, Result};
use std::sync::Arc;

use crate::args::{AuthArg, Global, ServeArgs};

/// Runs the HTTP service until SIGINT/SIGTERM; in-flight requests finish.
pub(crate) async fn run(global: &Global, args: &ServeArgs) -> Result<()> {
    let mode = match args.auth {
        AuthArg::Off => AuthMode::Off,
        AuthArg::Tokens => AuthMode::Tokens,
    };
    if mode == AuthMode::Off && !args.bind.ip().is_loopback() && !args.insecure {
        return Err(Error::invalid(
            Code::InsecureBind,
            format!(
                "refusing to serve on {} without authentication; hint: pass --auth tokens (create a token first with `meta token create NAME --role admin`), bind 127.0.0.1, or pass --insecure if every host on the network is trusted",
                args.bind
            ),
        ));
    }
    if let Some(hms) = args.hms_bind
        && !hms.ip().is_loopback()
        && !args.insecure
    {
        return Err(Error::invalid(
            Code::InsecureBind,
            format!(
                "refusing to serve the Hive Metastore API on {hms}: the Thrift protocol has no authentication here (clients name themselves); hint: bind 127.0.0.1, or pass --insecure if every host on the network may read every table"
            ),
        ));
    }
    let config = Config {
        database_url: args.database_url.clone(),
        warehouse: global.warehouse.clone(),
        postgres: PostgresOptions {
            unsafe_durability: args.unsafe_durability,
            max_connections: args.max_connections,
            connect_timeout: Duration::from_secs(args.db_connect_timeout_secs.max(1)),
            acquire_timeout: Duration::from_secs(args.db_acquire_timeout_secs.max(1)),
        },
        ..Config::default()
    };
    let ms = Metastore::open(&config).await?;
    if mode == AuthMode::Tokens && ms.list_tokens(false).await?.is_empty() {
        eprintln!(
            "warning: --auth tokens but the catalog has no live token; nobody can call the API until you run: meta token create NAME --role admin"
        );
    }
    let lineage_feed = openlineage_config(args)?;
    let listener = listen(args.bind).map_err(|e| {
        Error::invalid(
            Code::BindFailed,
            format!(
                "cannot listen on {}: {e}; hint: pick another --bind address",
                args.bind
            ),
        )
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    eprintln!(
        "batchmeta {} serving on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    eprintln!(
        "catalog: {}",
        batchmeta::redact::url(&config.resolved_database_url())
    );
    eprintln!("warehouse: {}", ms.warehouse_url());
    eprintln!("API docs: http://{addr}/docs");
    eprintln!("Iceberg REST catalog (read-only): http://{addr}/iceberg");
    eprintln!(
        "authentication: {}",
        match mode {
            AuthMode::Off => "off (callers name themselves; loopback only)",
            AuthMode::Tokens => "bearer tokens",
        }
    );
    let server = ServerConfig {
        max_upload_bytes: args.max_upload_bytes,
        max_json_bytes: args.max_json_bytes,
        max_json_depth: args.max_json_depth,
        max_partitions_per_request: args.max_partitions_per_request,
        max_uncompressed_bytes: args.max_uncompressed_bytes,
        max_compression_ratio: args.max_compression_ratio,
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
        body_read_timeout: Duration::from_secs(args.body_read_timeout_secs.max(1)),
        min_body_rate: args.min_body_rate,
        auth: AuthConfig {
            mode,
            rate_per_token: args.rate_limit,
        },
        iceberg_max_snapshots: args.iceberg_max_snapshots,
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(mut ol) = lineage_feed {
        ol.holder = format!("{}/{addr}", host_name());
        // The feed exists before the first publish is accepted.
        openlineage::prepare(&ms, &ol).await?;
        eprintln!(
            "OpenLineage: every publish is sent to {} (datasets {}, jobs {})",
            batchmeta::redact::url(&ol.url),
            ol.naming.datasets,
            ol.naming.jobs
        );
        tokio::spawn(openlineage::deliver(ms.clone(), ol, metrics.clone()));
    }
    let hms = match args.hms_bind {
        Some(addr) => {
            let l = batchmeta::hms::bind(addr).await?;
            let bound = l.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
            eprintln!("Hive Metastore (Thrift, read-only, no authentication): thrift://{bound}");
            let hms_config = HmsConfig {
                max_frame_bytes: args.hms_max_frame_bytes,
                max_connections: args.hms_max_connections,
                idle_timeout: Duration::from_secs(args.hms_idle_timeout_secs.max(1)),
            };
            Some(tokio::spawn(batchmeta::hms::serve(
                l,
                ms.clone(),
                hms_config,
                metrics.clone(),
                shutdown_signal(),
            )))
        }
        None => None,
    };
    let served = serve_with(
        listener,
        app_with_metrics(ms, server.clone(), metrics),
        shutdown_signal(),
        &server,
    )
    .await;
    if let Some(h) = hms {
        h.abort();
    }
    served
}

/// The OpenLineage delivery `args` ask for, checked (its holder is set
/// once the address is bound).
fn openlineage_config(args: &ServeArgs) -> Result<Option<OpenLineageConfig>> {
    let o = &args.openlineage;
    let Some(url) = o.openlineage_url.clone() else {
        return Ok(None);
    };
    let config = OpenLineageConfig {
        url,
        api_key: std::env::var("BATCHMETA_OPENLINEAGE_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(batchmeta::model::Secret::new),
        naming: Naming {
            datasets: o
                .openlineage_dataset_namespace
                .clone()
                .unwrap_or_else(|| format!("batchmeta://{}", host_name())),
            jobs: o.openlineage_job_namespace.clone(),
        },
        lease: Duration::from_secs(o.openlineage_lease_secs.max(1)),
        poll: Duration::from_millis(200),
        max_backoff: Duration::from_secs(o.openlineage_max_backoff_secs.max(1)),
        timeout: Duration::from_secs(10),
        holder: String::new(),
    };
    config.check()?;
    Ok(Some(config))
}

/// This machine's name (the default dataset namespace's host, and part of
/// the delivery feed's holder name).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Pending connections the kernel queues for `accept`: 1024 (capped by
/// `net.core.somaxconn`). The 128 of `TcpListener::bind` let a burst of a
/// few hundred connects overflow the queue while the server was busy: the
/// clients saw their connections established, the server never got them
/// (docs/limits.md).
const LISTEN_BACKLOG: u32 = 1024;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
