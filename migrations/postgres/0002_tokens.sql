-- API tokens of `meta serve`. Only the SHA-256 of each secret is kept; a
-- presented token is looked up by its public id. Revoked tokens stay (who
-- held what, and when); a name is unique among tokens not revoked.

CREATE TABLE tokens (
    id          text COLLATE "C" PRIMARY KEY,
    name        text COLLATE "C" NOT NULL,
    secret_hash text NOT NULL,
    grants      jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
