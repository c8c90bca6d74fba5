//! OpenLineage (docs/lineage.md): with `meta serve --openlineage-url`, each
//! publish is sent to a receiver as an OpenLineage RunEvent, at least once,
//! from the event log: a task reads the publish events after a durable
//! cursor (the catalog's `openlineage` delivery feed), POSTs them in order
//! and advances the cursor only after a 2xx. One server of many delivers at
//! a time (the feed's lease, `catalog::feeds`).

mod deliver;
mod event;

pub use deliver::{FEED, OpenLineageConfig, deliver, prepare};
pub use event::{Naming, SCHEMA_URL, commits, facet_schema_url, producer, run_event, run_uuid};
