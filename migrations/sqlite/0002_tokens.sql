-- API tokens of `meta serve`. Only the SHA-256 of each secret is kept; a
-- presented token is looked up by its public id. Revoked tokens stay (who
-- held what, and when); a name is unique among tokens not revoked.

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    grants      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
