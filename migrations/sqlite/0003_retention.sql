-- Retention (docs/retention.md): the marks of batches that gc collects. A
-- batch's row keeps its state ('committed', 'staged' or 'abandoned'); a row
-- here overrides it: 'expiring' (marked in a transaction that re-checked
-- every rule, its files being deleted) then 'expired' (its files are gone).
-- A side table rather than a new CHECK on batches.state: SQLite cannot alter
-- a CHECK without rebuilding batches, which batch_files references. The
-- batch and its history rows stay forever.

CREATE TABLE batch_expiry (
    batch_pk   INTEGER PRIMARY KEY REFERENCES batches (id),
    state      TEXT NOT NULL CHECK (state IN ('expiring', 'expired')),
    marked_at  INTEGER NOT NULL,
    marked_by  TEXT NOT NULL,
    expired_at INTEGER,
    expired_by TEXT,
    files      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL
);
CREATE INDEX batch_expiry_state ON batch_expiry (state, batch_pk);
