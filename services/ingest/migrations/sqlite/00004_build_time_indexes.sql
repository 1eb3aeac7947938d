-- The dashboard's chart counts the builds of the last days by status, of everyone or of one
-- owner: read them by creation time from the index alone. Its table may sort them by update
-- time, a page at a time.

-- +goose Up
CREATE INDEX builds_created_idx ON builds (created_at, status, owner);
CREATE INDEX builds_updated_idx ON builds (updated_at, id);

-- +goose Down
DROP INDEX builds_updated_idx;
DROP INDEX builds_created_idx;
