-- The dashboard's chart counts the builds of the last days: read them by creation time;
-- its table may sort them by update time, a page at a time.

-- +goose Up
CREATE INDEX builds_created_idx ON builds (created_at);
CREATE INDEX builds_updated_idx ON builds (updated_at, id);

-- +goose Down
DROP INDEX builds_updated_idx;
DROP INDEX builds_created_idx;
