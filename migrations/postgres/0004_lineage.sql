-- Lineage by batch: each edge says batch `batch_pk` was built from batch
-- `input_pk`, recorded in the publish's transaction (DESIGN §9). Indexed both
-- ways: upstream (primary key) and downstream (batch_inputs_input).
-- Run reads: what a run (`meta get --run`) read since its last store, so
-- that a later `meta put --run` in another process records it.

CREATE TABLE batch_inputs (
    batch_pk bigint NOT NULL REFERENCES batches (id),
    input_pk bigint NOT NULL REFERENCES batches (id),
    PRIMARY KEY (batch_pk, input_pk)
);
CREATE INDEX batch_inputs_input ON batch_inputs (input_pk, batch_pk);

CREATE TABLE run_reads (
    run_id     text COLLATE "C" PRIMARY KEY,
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
