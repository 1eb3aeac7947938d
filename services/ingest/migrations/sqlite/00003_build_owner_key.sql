-- As in the PostgreSQL migration: ownership is matched on owner_key ("user:<id>", else the
-- name); owner stays the name. Renaming the column carries its UNIQUE and CHECK along, so the
-- table need not be rebuilt.

-- +goose Up
ALTER TABLE builds RENAME COLUMN owner TO owner_key;
ALTER TABLE builds ADD COLUMN owner TEXT NOT NULL DEFAULT '' CHECK (length(owner) <= 250);
UPDATE builds SET owner = owner_key;
DROP INDEX builds_owner_idx;
CREATE INDEX builds_owner_key_idx ON builds (owner_key, id);
CREATE INDEX builds_owner_idx ON builds (owner, id);

-- +goose Down
DROP INDEX builds_owner_idx;
DROP INDEX builds_owner_key_idx;
UPDATE builds SET owner_key = owner;
ALTER TABLE builds DROP COLUMN owner;
ALTER TABLE builds RENAME COLUMN owner_key TO owner;
CREATE INDEX builds_owner_idx ON builds (owner, id);
