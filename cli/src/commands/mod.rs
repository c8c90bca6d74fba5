//! The commands, one file per noun. Each gets clap's values, lets the core
//! validate them, calls the facade and prints through [`crate::output`].

pub(crate) mod audit;
pub(crate) mod files;
pub(crate) mod gc;
pub(crate) mod get;
pub(crate) mod lineage;
pub(crate) mod ns;
pub(crate) mod partition;
pub(crate) mod pin;
pub(crate) mod put;
pub(crate) mod serve;
pub(crate) mod table;
pub(crate) mod token;
pub(crate) mod verify;
pub(crate) mod wait;

use batchmeta::model::{Hint, Version};
use batchmeta::{Error, Result};

use crate::args::VersionArgs;

/// The version `--batch`, `--as-of` or `--pin` asks for (current by default).
pub(crate) fn version(v: &VersionArgs) -> Result<Version> {
    Version::parse(v.batch.as_deref(), v.as_of.as_deref(), v.pin.as_deref())
}

/// A conflict whose hint names the command to rerun: the current batch,
/// and the `--expect` that makes `command` go through if that batch is fine.
pub(crate) fn conflict_hint(e: Error, command: &str) -> Error {
    match e {
        Error::Conflict {
            message, current, ..
        } => {
            let expect = current
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string);
            let text = match &current {
                Some(c) => format!(
                    "the current batch is {c}; look at it first, then rerun with `{command} --expect {expect}`"
                ),
                None => format!(
                    "the partition has no current batch; rerun with `{command} --expect {expect}`"
                ),
            };
            Error::Conflict {
                message,
                current,
                hint: Some(Box::new(Hint::Text { text })),
            }
        }
        other => other,
    }
}
