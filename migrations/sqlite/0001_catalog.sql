-- batchmeta catalog, SQLite. Times are INTEGER microseconds since the Unix epoch (UTC).
-- Every hot lookup is one indexed query: resolve (partitions_path), list a page
-- of partitions (partitions_list), one partition's history and as-of
-- (events_partition, events_partition_at), events by namespace/table/principal/time
-- (events_namespace, events_table, events_principal, events_at).

CREATE TABLE namespaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    owner       TEXT,
    properties  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE tables (
    id             INTEGER PRIMARY KEY,
    namespace_id   INTEGER NOT NULL REFERENCES namespaces (id),
    name           TEXT NOT NULL,
    location       TEXT NOT NULL,
    schema         TEXT NOT NULL,
    schema_version INTEGER NOT NULL DEFAULT 1,
    partition_keys TEXT NOT NULL,
    description    TEXT,
    owner          TEXT,
    properties     TEXT NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    dropped_at     INTEGER
);
-- A name is unique among live tables; dropped ones keep their rows and history.
CREATE UNIQUE INDEX tables_live_name ON tables (namespace_id, name) WHERE dropped_at IS NULL;

CREATE TABLE partitions (
    id            INTEGER PRIMARY KEY,
    table_id      INTEGER NOT NULL REFERENCES tables (id),
    path          TEXT NOT NULL,
    sort_key      TEXT NOT NULL,
    current_batch TEXT,
    version       INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX partitions_path ON partitions (table_id, path);
CREATE UNIQUE INDEX partitions_list ON partitions (table_id, sort_key);

CREATE TABLE batches (
    id                 INTEGER PRIMARY KEY,
    batch_id           TEXT NOT NULL UNIQUE,
    partition_id       INTEGER NOT NULL REFERENCES partitions (id),
    location           TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('staged', 'committed', 'abandoned')),
    parent_batch       TEXT,
    rows               INTEGER NOT NULL DEFAULT 0,
    bytes              INTEGER NOT NULL DEFAULT 0,
    file_count         INTEGER NOT NULL DEFAULT 0,
    schema             TEXT,
    schema_fingerprint TEXT,
    principal          TEXT NOT NULL,
    message            TEXT,
    metadata           TEXT NOT NULL DEFAULT '{}',
    idempotency_key    TEXT,
    created_at         INTEGER NOT NULL,
    committed_at       INTEGER,
    commit_id          TEXT
);
CREATE INDEX batches_partition ON batches (partition_id, batch_id);
CREATE UNIQUE INDEX batches_idempotency ON batches (partition_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE batch_files (
    batch_pk INTEGER NOT NULL REFERENCES batches (id),
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    rows     INTEGER NOT NULL,
    PRIMARY KEY (batch_pk, path)
);

CREATE TABLE events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                 INTEGER NOT NULL,
    principal          TEXT NOT NULL,
    action             TEXT NOT NULL,
    namespace          TEXT,
    table_name         TEXT,
    table_id           INTEGER REFERENCES tables (id),
    -- Set only for pointer moves (publish, rollback).
    partition_id       INTEGER REFERENCES partitions (id),
    partition          TEXT,
    from_batch         TEXT,
    to_batch           TEXT,
    commit_id          TEXT,
    message            TEXT,
    rows               INTEGER,
    bytes              INTEGER,
    files              INTEGER,
    schema_fingerprint TEXT,
    metadata           TEXT NOT NULL DEFAULT '{}',
    request_id         TEXT,
    details            TEXT
);
CREATE INDEX events_partition ON events (partition_id, id) WHERE partition_id IS NOT NULL;
CREATE INDEX events_partition_at ON events (partition_id, at) WHERE partition_id IS NOT NULL;
CREATE INDEX events_table ON events (namespace, table_name, id);
CREATE INDEX events_namespace ON events (namespace, id);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX events_principal ON events (principal, id);
CREATE INDEX events_commit ON events (commit_id) WHERE commit_id IS NOT NULL;

-- The audit trail is append-only.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE pins (
    id           INTEGER PRIMARY KEY,
    table_id     INTEGER NOT NULL REFERENCES tables (id),
    name         TEXT NOT NULL,
    owner        TEXT,
    reason       TEXT,
    partition_id INTEGER REFERENCES partitions (id),
    batch_id     TEXT,
    as_of        INTEGER,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    CHECK ((batch_id IS NOT NULL AND partition_id IS NOT NULL AND as_of IS NULL)
        OR (batch_id IS NULL AND partition_id IS NULL AND as_of IS NOT NULL))
);
CREATE UNIQUE INDEX pins_name ON pins (table_id, name);
CREATE INDEX pins_batch ON pins (batch_id) WHERE batch_id IS NOT NULL;
