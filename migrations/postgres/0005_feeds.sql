-- Delivery feeds (docs/lineage.md, OpenLineage): a feed sends the event
-- log's publish events to a receiver, at least once. `cursor` is the id of
-- the last event delivered (a feed starts at the end of the log when it is
-- first claimed); `holder` and `lease_until` let one server of many deliver
-- at a time: another may claim the feed once the lease has run out.

CREATE TABLE delivery_feeds (
    feed        text COLLATE "C" PRIMARY KEY,
    cursor      bigint NOT NULL,
    holder      text,
    lease_until timestamptz,
    updated_at  timestamptz NOT NULL
);
