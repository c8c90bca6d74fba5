//! Every statement the PostgreSQL catalog runs, by name. The column lists
//! are shared with SQLite (`catalog::row`); the locks (`FOR ... UPDATE`,
//! advisory locks) and the `$n` placeholders are PostgreSQL's.

use crate::catalog::lineage::{edge_columns, edge_joins};
use crate::catalog::page::EventFilter;
use crate::catalog::row::{
    batch_columns, event_columns, file_columns, namespace_columns, partition_columns, pin_columns,
    table_columns, token_columns,
};

// Sequence and migrations.

pub(super) const ADVISORY_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
pub(super) const CURRENT_SETTING: &str = "SELECT current_setting($1)";
pub(super) const CREATE_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS batchmeta_migrations (
    version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)";
pub(super) const LAST_MIGRATION: &str = "SELECT max(version) FROM batchmeta_migrations";
pub(super) const RECORD_MIGRATION: &str =
    "INSERT INTO batchmeta_migrations (version, name, applied_at) VALUES ($1, $2, now())";

// Namespaces.

pub(super) const NAMESPACE_ID: &str = "SELECT id FROM namespaces WHERE name = $1";
pub(super) const NAMESPACE_NAMES: &str = "SELECT name FROM namespaces";
pub(super) const NAMESPACE: &str = concat!(
    "SELECT ",
    namespace_columns!(),
    " FROM namespaces WHERE name = $1"
);
pub(super) const NAMESPACE_FOR_UPDATE: &str = concat!(
    "SELECT ",
    namespace_columns!(),
    " FROM namespaces WHERE name = $1 FOR NO KEY UPDATE"
);
pub(super) const NAMESPACES: &str = concat!(
    "SELECT ",
    namespace_columns!(),
    " FROM namespaces ORDER BY name"
);
pub(super) const INSERT_NAMESPACE: &str = "INSERT INTO namespaces \
    (name, description, owner, properties, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING";
pub(super) const UPDATE_NAMESPACE: &str = "UPDATE namespaces SET description = $1, owner = $2, \
    properties = $3, updated_at = $4 WHERE name = $5";

// Tables.

macro_rules! live_table {
    ($lock:literal) => {
        concat!(
            "SELECT ",
            table_columns!(),
            " FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
             WHERE n.name = $1 AND t.name = $2 AND t.dropped_at IS NULL",
            $lock
        )
    };
}
pub(super) const LIVE_TABLE: &str = live_table!("");
pub(super) const LIVE_TABLE_FOR_SHARE: &str = live_table!(" FOR SHARE OF t");
pub(super) const LIVE_TABLE_FOR_UPDATE: &str = live_table!(" FOR NO KEY UPDATE OF t");
pub(super) const TABLE_BY_ID: &str = concat!(
    "SELECT ",
    table_columns!(),
    " FROM tables t JOIN namespaces n ON n.id = t.namespace_id WHERE t.id = $1"
);
pub(super) const TABLES: &str = concat!(
    "SELECT ",
    table_columns!(),
    " FROM tables t JOIN namespaces n ON n.id = t.namespace_id \
     WHERE t.namespace_id = $1 AND t.dropped_at IS NULL ORDER BY t.name"
);
/// The partial unique index decides a race between two creators.
pub(super) const INSERT_TABLE: &str = "INSERT INTO tables (namespace_id, name, location, schema, \
    schema_version, partition_keys, description, owner, properties, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (namespace_id, name) WHERE dropped_at IS NULL DO NOTHING";
pub(super) const UPDATE_TABLE: &str = "UPDATE tables SET description = $1, owner = $2, \
    properties = $3, updated_at = $4 WHERE id = $5";
pub(super) const DROP_TABLE: &str = "UPDATE tables SET dropped_at = $1 WHERE id = $2";
pub(super) const CHANGE_SCHEMA: &str = "UPDATE tables SET schema = $1, \
    schema_version = schema_version + 1, updated_at = $2 WHERE id = $3 AND schema_version = $4";

// Partitions.

pub(super) const PARTITION: &str = concat!(
    "SELECT ",
    partition_columns!(),
    " FROM partitions WHERE table_id = $1 AND path = $2"
);
pub(super) const PARTITION_FOR_UPDATE: &str = concat!(
    "SELECT ",
    partition_columns!(),
    " FROM partitions WHERE table_id = $1 AND path = $2 FOR NO KEY UPDATE"
);
pub(super) const LOCK_PARTITIONS: &str = concat!(
    "SELECT ",
    partition_columns!(),
    " FROM partitions WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE"
);
/// The negative control of `read_then_update_publish`: a read that takes no lock.
pub(super) const READ_PARTITIONS_UNLOCKED: &str = concat!(
    "SELECT ",
    partition_columns!(),
    " FROM partitions WHERE id = ANY($1) ORDER BY id"
);
/// No conflict target: every unique index is an arbiter. With only
/// (table_id, path) named, a concurrent insert of the same partition would
/// fail on the (table_id, sort_key) index instead of waiting.
/// Rows go in in the order of the arrays (paths sorted by the caller), so
/// two stagers of overlapping new partitions wait on each other in one order.
pub(super) const INSERT_PARTITIONS: &str = "INSERT INTO partitions \
    (table_id, path, sort_key, version, updated_at) \
    SELECT $1, u.path, u.sort_key, 0, $4 \
    FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS u(path, sort_key, n) ORDER BY u.n \
    ON CONFLICT DO NOTHING";
pub(super) const PARTITIONS_KEY_SHARE: &str = "SELECT id, path FROM partitions \
    WHERE table_id = $1 AND path = ANY($2) ORDER BY path FOR KEY SHARE";
pub(super) const LOCK_PARTITION_FOR_DELETE: &str =
    "SELECT id FROM partitions WHERE id = $1 FOR UPDATE";
/// Compare-and-swaps pointers: (target batch, event time, partition id,
/// the version read) per row; returns the ids of the rows it moved.
pub(super) const MOVE_POINTERS: &str = "UPDATE partitions p SET current_batch = u.batch, \
    version = p.version + 1, updated_at = u.at \
    FROM UNNEST($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[]) AS u(batch, at, id, version) \
    WHERE p.id = u.id AND p.version = u.version RETURNING p.id";
/// The negative control of `read_then_update_publish`: the pointers move
/// whatever they are now.
pub(super) const MOVE_POINTERS_UNCHECKED: &str = "UPDATE partitions p SET current_batch = u.batch, \
    version = p.version + 1, updated_at = u.at \
    FROM UNNEST($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[]) AS u(batch, at, id, version) \
    WHERE p.id = u.id AND u.version IS NOT NULL RETURNING p.id";
/// [`MOVE_POINTERS`] for one partition, with the same array parameters:
/// PostgreSQL plans an UNNEST join again at every bind, and most writes
/// move one pointer.
pub(super) const MOVE_POINTER: &str = "UPDATE partitions SET current_batch = ($1::text[])[1], \
    version = version + 1, updated_at = ($2::timestamptz[])[1] \
    WHERE id = ($3::bigint[])[1] AND version = ($4::bigint[])[1] RETURNING id";
/// [`MOVE_POINTERS_UNCHECKED`] for one partition.
pub(super) const MOVE_POINTER_UNCHECKED: &str = "UPDATE partitions SET current_batch = ($1::text[])[1], \
    version = version + 1, updated_at = ($2::timestamptz[])[1] \
    WHERE id = ($3::bigint[])[1] AND ($4::bigint[])[1] IS NOT NULL RETURNING id";
pub(super) const CURRENT_BATCH: &str = "SELECT current_batch FROM partitions WHERE id = $1";
pub(super) const DELETE_UNUSED_PARTITION: &str = "DELETE FROM partitions WHERE id = $1 \
    AND current_batch IS NULL AND version = 0 \
    AND NOT EXISTS (SELECT 1 FROM batches WHERE partition_id = $1)";
pub(super) const CURRENT_PARTITIONS: &str = "SELECT path, current_batch AS batch FROM partitions \
    WHERE table_id = $1 AND current_batch IS NOT NULL ORDER BY sort_key";
pub(super) const PARTITIONS_AS_OF: &str = "SELECT p.path, (SELECT e.to_batch FROM events e \
    WHERE e.partition_id = p.id AND e.at <= $1 ORDER BY e.at DESC, e.id DESC LIMIT 1) AS batch \
    FROM partitions p WHERE p.table_id = $2 ORDER BY p.sort_key";
/// The start of a page of partitions; `pages` adds the filters.
pub(super) const PARTITION_PAGE: &str = "SELECT path, sort_key, current_batch, version, \
    updated_at FROM partitions WHERE table_id = ";

// Batches and files.

/// [`BATCHES`] for one batch: PostgreSQL plans `= ANY($1)` again at every
/// bind (about 40 µs here), and most writes name one batch.
pub(super) const BATCH: &str = concat!(
    "SELECT ",
    batch_columns!(),
    " FROM batches b JOIN partitions p ON p.id = b.partition_id \
     WHERE b.batch_id = $1 AND p.table_id = $2"
);
pub(super) const BATCHES: &str = concat!(
    "SELECT ",
    batch_columns!(),
    " FROM batches b JOIN partitions p ON p.id = b.partition_id \
     WHERE b.batch_id = ANY($1) AND p.table_id = $2"
);
pub(super) const PARTITION_BATCHES: &str = concat!(
    "SELECT ",
    batch_columns!(),
    " FROM batches b JOIN partitions p ON p.id = b.partition_id \
     WHERE b.partition_id = $1 ORDER BY b.batch_id DESC"
);
pub(super) const COMMITTED_BATCHES: &str = "SELECT b.batch_id, p.table_id FROM batches b \
    JOIN partitions p ON p.id = b.partition_id \
    WHERE b.state = 'committed' \
    AND NOT EXISTS (SELECT 1 FROM batch_expiry x WHERE x.batch_pk = b.id) AND b.batch_id > $1 ORDER BY b.batch_id LIMIT $2";
/// [`FILES`] of one batch (see [`BATCH`]).
pub(super) const FILES_OF_ONE: &str = concat!(
    "SELECT ",
    file_columns!(),
    ", batch_pk FROM batch_files WHERE batch_pk = $1 ORDER BY path"
);
/// The files of batches, each batch's in path order; the batch's row id last.
pub(super) const FILES: &str = concat!(
    "SELECT ",
    file_columns!(),
    ", batch_pk FROM batch_files WHERE batch_pk = ANY($1) ORDER BY batch_pk, path"
);
pub(super) const LOCK_BATCHES: &str =
    "SELECT id FROM batches WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE";
pub(super) const BATCH_STATE_FOR_UPDATE: &str =
    "SELECT state FROM batches WHERE id = $1 FOR UPDATE";
pub(super) const IDEMPOTENT_BATCHES: &str = "SELECT partition_id, batch_id FROM batches \
    WHERE partition_id = ANY($1) AND idempotency_key = $2";
pub(super) const LAST_BATCH_ID: &str = "SELECT max(batch_id) FROM batches";
pub(super) const INSERT_BATCHES: &str = "INSERT INTO batches (batch_id, partition_id, location, \
    state, principal, message, metadata, idempotency_key, created_at) \
    SELECT u.batch_id, u.partition_id, u.location, 'staged', $4, $5, $6, $7, $8 \
    FROM UNNEST($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY \
    AS u(batch_id, partition_id, location, n) ORDER BY u.n";
pub(super) const INSERT_FILES: &str = "INSERT INTO batch_files (batch_pk, path, size, rows) \
    SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])";
/// A batch's totals (`b`) from its file rows, for `UPDATE batches b SET`.
macro_rules! totals_from_files {
    () => {
        "rows = (SELECT coalesce(sum(f.rows), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id), \
         bytes = (SELECT coalesce(sum(f.size), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id), \
         file_count = (SELECT count(*) FROM batch_files f WHERE f.batch_pk = b.id), "
    };
}
pub(super) const UPDATE_TOTALS: &str = concat!(
    "UPDATE batches b SET ",
    totals_from_files!(),
    "schema = u.schema, schema_fingerprint = u.fingerprint \
    FROM UNNEST($1::bigint[], $2::jsonb[], $3::text[]) AS u(pk, schema, fingerprint) \
    WHERE b.id = u.pk"
);
/// [`UPDATE_TOTALS`] for one batch (see [`MOVE_POINTER`]).
pub(super) const UPDATE_TOTALS_OF_ONE: &str = concat!(
    "UPDATE batches b SET ",
    totals_from_files!(),
    "schema = ($2::jsonb[])[1], schema_fingerprint = ($3::text[])[1] WHERE b.id = ($1::bigint[])[1]"
);
/// (previous current batch, event time, batch row id) per row; one commit id.
pub(super) const COMMIT_BATCHES: &str = "UPDATE batches b SET state = 'committed', \
    parent_batch = u.parent, committed_at = u.at, commit_id = $4 \
    FROM UNNEST($1::text[], $2::timestamptz[], $3::bigint[]) AS u(parent, at, pk) \
    WHERE b.id = u.pk AND b.state = 'staged'";
/// [`COMMIT_BATCHES`] for one batch (see [`MOVE_POINTER`]).
pub(super) const COMMIT_BATCH: &str = "UPDATE batches SET state = 'committed', \
    parent_batch = ($1::text[])[1], committed_at = ($2::timestamptz[])[1], commit_id = $4 \
    WHERE id = ($3::bigint[])[1] AND state = 'staged'";
pub(super) const DELETE_FILES: &str = "DELETE FROM batch_files WHERE batch_pk = $1";
pub(super) const DELETE_BATCH: &str = "DELETE FROM batches WHERE id = $1 AND state = 'staged'";

// Retention (see `catalog::retention`).

/// The partitions of a table that were never published (batches staged
/// into them only: a crashed first write).
pub(super) const UNPUBLISHED_PARTITIONS: &str = "SELECT path FROM partitions \
    WHERE table_id = $1 AND current_batch IS NULL ORDER BY sort_key";

/// When each batch of a partition last stopped being current.
pub(super) const LEFT_CURRENT: &str = "SELECT from_batch, max(at) FROM events \
    WHERE partition_id = $1 AND from_batch IS NOT NULL GROUP BY from_batch";

pub(super) const MARK_EXPIRING: &str = "INSERT INTO batch_expiry \
    (batch_pk, state, marked_at, marked_by, files, bytes) VALUES ($1, 'expiring', $2, $3, $4, $5)";
pub(super) const MARK_EXPIRED: &str = "UPDATE batch_expiry SET state = 'expired', \
    expired_at = $2, expired_by = $3 WHERE batch_pk = $1 AND state = 'expiring'";

// Events.

pub(super) const LAST_EVENT_TIME: &str = "SELECT max(at) FROM events";
/// The start of an insert of events: the columns an event is written with.
macro_rules! insert_events_into {
    () => {
        "INSERT INTO events (at, principal, action, namespace, table_name, table_id, partition_id, \
         partition, from_batch, to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, \
         metadata, request_id, details) "
    };
}
/// Events in the order of the arrays (ids increase along them), all at
/// one time ($1); every other column one array.
pub(super) const INSERT_EVENTS: &str = concat!(
    insert_events_into!(),
    "SELECT $1, u.principal, u.action, u.namespace, u.table_name, u.table_id, u.partition_id, \
     u.partition, u.from_batch, u.to_batch, u.commit_id, u.message, u.rows, u.bytes, u.files, \
     u.schema_fingerprint, u.metadata, u.request_id, u.details \
     FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], \
     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], \
     $15::bigint[], $16::text[], $17::jsonb[], $18::text[], $19::jsonb[]) WITH ORDINALITY \
     AS u(principal, action, namespace, table_name, table_id, partition_id, partition, from_batch, \
     to_batch, commit_id, message, rows, bytes, files, schema_fingerprint, metadata, request_id, \
     details, n) ORDER BY u.n \
     RETURNING ",
    event_columns!()
);
/// [`INSERT_EVENTS`] for one event (see [`MOVE_POINTER`]).
pub(super) const INSERT_EVENT: &str = concat!(
    insert_events_into!(),
    "VALUES ($1, ($2::text[])[1], ($3::text[])[1], ($4::text[])[1], ($5::text[])[1], \
     ($6::bigint[])[1], ($7::bigint[])[1], ($8::text[])[1], ($9::text[])[1], ($10::text[])[1], \
     ($11::text[])[1], ($12::text[])[1], ($13::bigint[])[1], ($14::bigint[])[1], \
     ($15::bigint[])[1], ($16::text[])[1], ($17::jsonb[])[1], ($18::text[])[1], ($19::jsonb[])[1]) \
     RETURNING ",
    event_columns!()
);
pub(super) const COMMIT_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE commit_id = $1 ORDER BY id"
);
pub(super) const BATCH_AS_OF: &str = "SELECT to_batch FROM events WHERE partition_id = $1 \
    AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1";
pub(super) const HISTORY: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE partition_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
);
/// The start of a page of events; `pages` adds the filters.
pub(super) const EVENT_PAGE: &str =
    concat!("SELECT ", event_columns!(), " FROM events WHERE 1 = 1");

// Pins.

macro_rules! pins {
    ($filter:literal) => {
        concat!(
            "SELECT ",
            pin_columns!(),
            " FROM pins pn LEFT JOIN partitions p ON p.id = pn.partition_id WHERE ",
            $filter
        )
    };
}
pub(super) const PIN: &str = pins!("pn.table_id = $1 AND pn.name = $2");
pub(super) const TABLE_PINS: &str = pins!("pn.table_id = $1 ORDER BY pn.name");
pub(super) const PINS_HOLDING: &str = pins!(
    "pn.table_id = $1 AND (pn.batch_id = $2 OR pn.as_of IS NOT NULL) \
     AND (pn.expires_at IS NULL OR pn.expires_at > $3) ORDER BY pn.name"
);
pub(super) const PINNED_TABLES: &str = "SELECT DISTINCT pn.table_id FROM pins pn \
    JOIN tables t ON t.id = pn.table_id WHERE t.dropped_at IS NULL ORDER BY pn.table_id";
/// The unique index decides a race between two creators of one name.
pub(super) const INSERT_PIN: &str = "INSERT INTO pins (table_id, name, owner, reason, \
    partition_id, batch_id, as_of, created_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (table_id, name) DO NOTHING";
pub(super) const DELETE_PIN: &str = "DELETE FROM pins WHERE table_id = $1 AND name = $2";

// Tokens.

pub(super) const INSERT_TOKEN: &str = "INSERT INTO tokens (id, name, secret_hash, grants, \
    created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
pub(super) const TOKEN: &str = concat!("SELECT ", token_columns!(), " FROM tokens WHERE id = $1");
pub(super) const TOKENS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens ORDER BY name, created_at"
);
pub(super) const LIVE_TOKENS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM tokens WHERE revoked_at IS NULL ORDER BY name, created_at"
);
pub(super) const REVOKE_TOKEN: &str = concat!(
    "UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING ",
    token_columns!()
);

// Verify (see `catalog::verify` for the columns).

pub(super) const VERIFY_POINTERS: &str = "SELECT p.id, p.path, p.current_batch, p.version, \
    n.name || '.' || t.name AS tname, \
    coalesce((SELECT x.state FROM batch_expiry x WHERE x.batch_pk = b.id), b.state), \
    b.partition_id FROM partitions p \
    JOIN tables t ON t.id = p.table_id JOIN namespaces n ON n.id = t.namespace_id \
    LEFT JOIN batches b ON b.batch_id = p.current_batch ORDER BY p.id";
pub(super) const VERIFY_MOVES: &str = "SELECT id, partition_id, from_batch, to_batch FROM events \
    WHERE partition_id IS NOT NULL ORDER BY partition_id, id";
pub(super) const VERIFY_TOTALS: &str = "SELECT b.batch_id, b.file_count, b.rows, b.bytes, \
    b.committed_at, \
    (SELECT count(*) FROM batch_files f WHERE f.batch_pk = b.id) AS n, \
    (SELECT coalesce(sum(rows), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id) AS r, \
    (SELECT coalesce(sum(size), 0)::bigint FROM batch_files f WHERE f.batch_pk = b.id) AS s \
    FROM batches b WHERE b.state = 'committed' ORDER BY b.id";
pub(super) const VERIFY_FILES: &str = "SELECT b.batch_id, b.location, f.path FROM batch_files f \
    JOIN batches b ON b.id = f.batch_pk ORDER BY b.id, f.path";

/// An events filter around its placeholder: the SQL before and after it.
pub(super) fn event_filter(f: EventFilter) -> (&'static str, &'static str) {
    match f {
        EventFilter::Namespace => (" AND namespace = ", ""),
        EventFilter::Table => (" AND table_name = ", ""),
        EventFilter::Partition => (" AND partition = ", ""),
        EventFilter::Principal => (" AND principal = ", ""),
        EventFilter::Action => (" AND action = ", ""),
        EventFilter::Since => (
            " AND id >= coalesce((SELECT min(id) FROM events WHERE at >= ",
            "), 9223372036854775807)",
        ),
        EventFilter::Until => (
            " AND id < coalesce((SELECT min(id) FROM events WHERE at >= ",
            "), 9223372036854775807)",
        ),
        EventFilter::After => (" AND id > ", ""),
        EventFilter::Before => (" AND id < ", ""),
    }
}

// Lineage (`catalog::lineage` has the rules and the shared column list).

/// An input's state, locked against a concurrent change until the publish ends.
pub(super) const INPUT_STATE: &str = "SELECT id, state FROM batches WHERE batch_id = $1 FOR SHARE";
/// Every batch of $1 built from every input of $2.
pub(super) const INSERT_INPUTS: &str = "INSERT INTO batch_inputs (batch_pk, input_pk) \
    SELECT b, i FROM UNNEST($1::bigint[]) AS b CROSS JOIN UNNEST($2::bigint[]) AS i \
    ON CONFLICT DO NOTHING";
pub(super) const EDGES_UP: &str = concat!(
    "SELECT ",
    edge_columns!(),
    edge_joins!(),
    "WHERE ob.batch_id = ANY($1) ORDER BY e.batch_pk, e.input_pk"
);
pub(super) const EDGES_DOWN: &str = concat!(
    "SELECT ",
    edge_columns!(),
    edge_joins!(),
    "WHERE ib.batch_id = ANY($1) ORDER BY e.input_pk, e.batch_pk"
);
pub(super) const RUN_READS: &str = "SELECT state FROM run_reads WHERE run_id = $1";
pub(super) const SAVE_RUN_READS: &str = "INSERT INTO run_reads (run_id, state, updated_at) \
    VALUES ($1, $2, $3) ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, \
    updated_at = excluded.updated_at";

/// Creates a delivery feed at the end of the event log, unless it exists.
/// Events commit in id order (the advisory lock), so no event below the
/// maximum read here can commit later.
pub(super) const CREATE_FEED: &str = "INSERT INTO delivery_feeds (feed, cursor, updated_at) \
    SELECT $1, COALESCE(MAX(id), 0), $2 FROM events ON CONFLICT (feed) DO NOTHING";
pub(super) const FEED_FOR_UPDATE: &str =
    "SELECT cursor, holder, lease_until FROM delivery_feeds WHERE feed = $1 FOR UPDATE";
pub(super) const HOLD_FEED: &str = "UPDATE delivery_feeds SET holder = $2, lease_until = $3, \
    updated_at = $4 WHERE feed = $1";
pub(super) const ADVANCE_FEED: &str = "UPDATE delivery_feeds SET cursor = $2, lease_until = $3, \
    updated_at = $4 WHERE feed = $1";
