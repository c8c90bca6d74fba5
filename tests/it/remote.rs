//! The conformance suite, unchanged, through the remote client against a
//! real HTTP server (the `meta serve` application) on a free loopback port.
//! The client writes data straight to the shared warehouse and publishes
//! over HTTP; the server checks the files itself.

use std::sync::Arc;

use batchmeta::Metastore;
use batchmeta::catalog::{Clock, SystemClock};
use batchmeta::client::RemoteCatalog;
use batchmeta::server::{ServerConfig, app, serve};

use crate::harness::Env;

/// Stops the server task when the test ends.
struct ServerGuard(tokio::task::JoinHandle<()>);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts a server on the given metastore; returns its base URL.
pub async fn start_server(
    ms: Metastore,
    config: ServerConfig,
) -> (String, Box<dyn std::any::Any + Send + Sync>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        serve(listener, app(ms, config), std::future::pending())
            .await
            .unwrap();
    });
    (url, Box::new(ServerGuard(task)))
}

pub async fn env_with_clock(clock: Arc<dyn Clock>) -> Env {
    let server_side = crate::sqlite::env_with_clock(clock).await;
    let (url, guard) = start_server(server_side.ms.clone(), ServerConfig::default()).await;
    let client = Metastore::new(
        Arc::new(RemoteCatalog::new(&url).unwrap()),
        server_side.storage.clone(),
    );
    Env {
        ms: client,
        storage: server_side.storage.clone(),
        backend: server_side.backend.clone(),
        ctx: server_side.ctx.clone(),
        _guard: Box::new((guard, server_side)),
    }
}

pub async fn env() -> Env {
    env_with_clock(Arc::new(SystemClock)).await
}

/// A client with no access to the warehouse: data goes up and down through the server.
pub async fn env_through_server() -> Env {
    let server_side = crate::sqlite::env().await;
    let (url, guard) = start_server(server_side.ms.clone(), ServerConfig::default()).await;
    let client = Metastore::through_server(RemoteCatalog::new(&url).unwrap())
        .await
        .unwrap();
    assert!(client.storage().is_none());
    Env {
        ms: client,
        storage: server_side.storage.clone(),
        backend: server_side.backend.clone(),
        ctx: server_side.ctx.clone(),
        _guard: Box::new((guard, server_side)),
    }
}

/// The suite again, with every byte of data going through the server.
mod through_server {
    use super::env_through_server as env;

    macro_rules! run_conformance {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    crate::conformance::$name(&env().await).await;
                }
            )*
        };
    }

    crate::conformance::for_each_case!(run_conformance);
}

macro_rules! run_conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                crate::conformance::$name(&env().await).await;
            }
        )*
    };
}

crate::conformance::for_each_case!(run_conformance);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_ids_increase_when_the_clock_steps_back() {
    crate::conformance::batch_ids_with_a_stepping_clock(env_with_clock).await;
}
