-- batchmeta catalog, PostgreSQL. The same tables and indexes as the SQLite
-- catalog, in native types: timestamptz times, bigint ids, jsonb documents.
-- Every text column that is compared or ordered uses the "C" collation so
-- that order is byte order, as in SQLite, whatever the database's locale.
-- Every hot lookup is one indexed query: resolve (partitions_path), list a page
-- of partitions (partitions_list), one partition's history and as-of
-- (events_partition, events_partition_at), events by namespace/table/principal/time
-- (events_namespace, events_table, events_principal, events_at).

CREATE TABLE namespaces (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text COLLATE "C" NOT NULL UNIQUE,
    description text,
    owner       text,
    properties  jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE tables (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace_id   bigint NOT NULL REFERENCES namespaces (id),
    name           text COLLATE "C" NOT NULL,
    location       text NOT NULL,
    schema         jsonb NOT NULL,
    schema_version bigint NOT NULL DEFAULT 1,
    partition_keys jsonb NOT NULL,
    description    text,
    owner          text,
    properties     jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    dropped_at     timestamptz
);
-- A name is unique among live tables; dropped ones keep their rows and history.
CREATE UNIQUE INDEX tables_live_name ON tables (namespace_id, name) WHERE dropped_at IS NULL;

CREATE TABLE partitions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id      bigint NOT NULL REFERENCES tables (id),
    path          text COLLATE "C" NOT NULL,
    sort_key      text COLLATE "C" NOT NULL,
    current_batch text COLLATE "C",
    version       bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX partitions_path ON partitions (table_id, path);
CREATE UNIQUE INDEX partitions_list ON partitions (table_id, sort_key);

CREATE TABLE batches (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id           text COLLATE "C" NOT NULL UNIQUE,
    partition_id       bigint NOT NULL REFERENCES partitions (id),
    location           text NOT NULL,
    state              text NOT NULL CHECK (state IN ('staged', 'committed', 'abandoned')),
    parent_batch       text COLLATE "C",
    rows               bigint NOT NULL DEFAULT 0,
    bytes              bigint NOT NULL DEFAULT 0,
    file_count         bigint NOT NULL DEFAULT 0,
    schema             jsonb,
    schema_fingerprint text,
    principal          text NOT NULL,
    message            text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    idempotency_key    text,
    created_at         timestamptz NOT NULL,
    committed_at       timestamptz,
    commit_id          text
);
CREATE INDEX batches_partition ON batches (partition_id, batch_id);
CREATE UNIQUE INDEX batches_idempotency ON batches (partition_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE batch_files (
    batch_pk bigint NOT NULL REFERENCES batches (id),
    path     text COLLATE "C" NOT NULL,
    size     bigint NOT NULL,
    rows     bigint NOT NULL,
    PRIMARY KEY (batch_pk, path)
);

CREATE TABLE events (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                 timestamptz NOT NULL,
    principal          text COLLATE "C" NOT NULL,
    action             text NOT NULL,
    namespace          text COLLATE "C",
    table_name         text COLLATE "C",
    table_id           bigint REFERENCES tables (id),
    -- Set only for pointer moves (publish, rollback).
    partition_id       bigint REFERENCES partitions (id),
    partition          text COLLATE "C",
    from_batch         text COLLATE "C",
    to_batch           text COLLATE "C",
    commit_id          text,
    message            text,
    rows               bigint,
    bytes              bigint,
    files              bigint,
    schema_fingerprint text,
    metadata           jsonb NOT NULL DEFAULT '{}',
    request_id         text,
    details            jsonb
);
CREATE INDEX events_partition ON events (partition_id, id) WHERE partition_id IS NOT NULL;
CREATE INDEX events_partition_at ON events (partition_id, at) WHERE partition_id IS NOT NULL;
CREATE INDEX events_table ON events (namespace, table_name, id);
CREATE INDEX events_namespace ON events (namespace, id);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX events_principal ON events (principal, id);
CREATE INDEX events_commit ON events (commit_id) WHERE commit_id IS NOT NULL;

-- The audit trail is append-only: no UPDATE, DELETE or TRUNCATE.
CREATE FUNCTION batchmeta_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION batchmeta_events_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION batchmeta_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION batchmeta_events_append_only();

CREATE TABLE pins (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id     bigint NOT NULL REFERENCES tables (id),
    name         text COLLATE "C" NOT NULL,
    owner        text,
    reason       text,
    partition_id bigint REFERENCES partitions (id),
    batch_id     text COLLATE "C",
    as_of        timestamptz,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    CHECK ((batch_id IS NOT NULL AND partition_id IS NOT NULL AND as_of IS NULL)
        OR (batch_id IS NULL AND partition_id IS NULL AND as_of IS NOT NULL))
);
CREATE UNIQUE INDEX pins_name ON pins (table_id, name);
CREATE INDEX pins_batch ON pins (batch_id) WHERE batch_id IS NOT NULL;
