-- Retention (docs/retention.md): the marks of batches that gc collects. A
-- batch's row keeps its state ('committed', 'staged' or 'abandoned'); a row
-- here overrides it: 'expiring' (marked in a transaction that re-checked
-- every rule, its files being deleted) then 'expired' (its files are gone).
-- The same side table as SQLite's (which cannot alter a CHECK in place), so
-- that both backends read a batch's state with one expression.

CREATE TABLE batch_expiry (
    batch_pk   bigint PRIMARY KEY REFERENCES batches (id),
    state      text NOT NULL CHECK (state IN ('expiring', 'expired')),
    marked_at  timestamptz NOT NULL,
    marked_by  text NOT NULL,
    expired_at timestamptz,
    expired_by text,
    files      bigint NOT NULL,
    bytes      bigint NOT NULL
);
CREATE INDEX batch_expiry_state ON batch_expiry (state, batch_pk);
