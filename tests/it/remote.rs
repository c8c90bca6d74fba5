//! The conformance suite, unchanged, through the remote client against a
//! real HTTP server (the `meta serve` application) on a free loopback port.
//! The client writes data straight to the shared warehouse and publishes
//! over HTTP; the server checks the files itself.

use std::sync::Arc;

use batchmeta::Metastore;
use batchmeta::catalog::{Clock, SystemClock};
use batchmeta::client::RemoteCatalog;
use batchmeta::server::ServerConfig;

use crate::common::servers::InProcess;
use crate::harness::Env;

/// A fresh SQLite metastore and a server on it (`config`); the env keeps
/// the server running. Returns the server's base URL.
pub async fn served_env(config: ServerConfig) -> (Env, String) {
    let env = crate::sqlite::env().await;
    let server = InProcess::start(env.ms.clone(), config).await;
    let url = server.url();
    let env = Env {
        _guard: Box::new((server, env._guard)),
        ..env
    };
    (env, url)
}

/// `client` as the env's metastore, with the server and the server side
/// behind it kept alive.
fn client_env(client: Metastore, server: InProcess, server_side: Env) -> Env {
    Env {
        ms: client,
        storage: server_side.storage.clone(),
        backend: server_side.backend.clone(),
        ctx: server_side.ctx.clone(),
        _guard: Box::new((server, server_side)),
    }
}

pub async fn env_with_clock(clock: Arc<dyn Clock>) -> Env {
    let server_side = crate::sqlite::env_with_clock(clock).await;
    let server = InProcess::start(server_side.ms.clone(), ServerConfig::default()).await;
    let client = Metastore::new(
        Arc::new(RemoteCatalog::new(&server.url()).unwrap()),
        server_side.storage.clone(),
    );
    client_env(client, server, server_side)
}

pub async fn env() -> Env {
    env_with_clock(Arc::new(SystemClock)).await
}

/// A client with no access to the warehouse: data goes up and down through the server.
pub async fn env_through_server() -> Env {
    let server_side = crate::sqlite::env().await;
    let server = InProcess::start(server_side.ms.clone(), ServerConfig::default()).await;
    let client = Metastore::through_server(RemoteCatalog::new(&server.url()).unwrap())
        .await
        .unwrap();
    assert!(client.storage().is_none());
    client_env(client, server, server_side)
}

/// The suite again, with every byte of data going through the server.
mod through_server {
    use super::env_through_server as env;

    crate::conformance::tests_on!(env);
}

crate::conformance::tests_on!(env);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_ids_increase_when_the_clock_steps_back() {
    crate::conformance::batch_ids_with_a_stepping_clock(env_with_clock).await;
}
