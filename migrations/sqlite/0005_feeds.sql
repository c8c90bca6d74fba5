-- Delivery feeds (docs/lineage.md, OpenLineage): a feed sends the event
-- log's publish events to a receiver, at least once. `cursor` is the id of
-- the last event delivered (a feed starts at the end of the log when it is
-- first claimed); `holder` and `lease_until` let one server of many deliver
-- at a time: another may claim the feed once the lease has run out.

CREATE TABLE delivery_feeds (
    feed        TEXT PRIMARY KEY,
    cursor      INTEGER NOT NULL,
    holder      TEXT,
    lease_until INTEGER,
    updated_at  INTEGER NOT NULL
);
