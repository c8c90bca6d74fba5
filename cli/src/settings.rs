//! Settings resolved once, before any command runs: where the catalog is,
//! who is acting, how to print. The environment is read here and in clap's
//! `env =` attributes, nowhere else.

use batchmeta::model::Context;
use batchmeta::{ConnectOptions, Metastore, Result};

use crate::args::Global;
use crate::output::Printer;

/// Everything a command needs: the metastore, the acting principal and the printer.
#[derive(Debug)]
pub(crate) struct Session {
    /// The metastore, embedded or remote.
    pub(crate) ms: Metastore,
    /// The principal recorded in events: the OS user. A server URL gets it
    /// through the remote client, which sends it with every request.
    pub(crate) ctx: Context,
    /// Where output goes.
    pub(crate) out: Printer,
}

impl Session {
    /// Connects to the catalog `global` names.
    pub(crate) async fn connect(global: &Global) -> Result<Self> {
        let out = Printer::new(global.output);
        let url = global.url.as_deref().filter(|u| !u.trim().is_empty());
        if url.is_none() && !std::path::Path::new(batchmeta::metastore::DEFAULT_DIR).exists() {
            out.note(&format!(
                "creating the embedded catalog in {}/ (set --url or BATCHMETA_URL to use another)",
                batchmeta::metastore::DEFAULT_DIR
            ));
        }
        let options = ConnectOptions {
            warehouse: global.warehouse.clone(),
            direct_data: None,
            token: global.token.clone(),
            ..ConnectOptions::default()
        };
        let ms = Metastore::connect(url, &options).await?;
        Ok(Self {
            ms,
            ctx: Context::new(principal()),
            out,
        })
    }
}

/// The OS user, or `anonymous` when the environment does not say.
fn principal() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "anonymous".to_owned())
}
