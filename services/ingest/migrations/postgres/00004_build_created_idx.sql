-- The dashboard's chart counts the builds of the last days: read them by creation time.

-- +goose Up
CREATE INDEX builds_created_idx ON builds (created_at);

-- +goose Down
DROP INDEX builds_created_idx;
