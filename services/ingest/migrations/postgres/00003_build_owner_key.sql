-- Builds are owned by the realm's user id, which is never reused, rather than by a user name,
-- which a new user may take after the old one is deleted. owner_key is what ownership is
-- matched on: "user:<id>" for a user of this realm (whose names cannot hold a colon), else the
-- name (the anonymous user of disabled auth, users of an external realm). owner stays the
-- name, for display and listing. Existing builds keep their name as owner_key: spackmon
-- migrate and serve hand them to the user of that name who existed when they were made.
-- Renaming the column keeps its unique constraint, now on owner_key.

-- +goose Up
ALTER TABLE builds RENAME COLUMN owner TO owner_key;
ALTER TABLE builds ADD COLUMN owner text;
UPDATE builds SET owner = owner_key;
ALTER TABLE builds ALTER COLUMN owner SET NOT NULL,
    ADD CONSTRAINT builds_owner_name_check CHECK (length(owner) BETWEEN 1 AND 250);
ALTER INDEX builds_owner_idx RENAME TO builds_owner_key_idx;
CREATE INDEX builds_owner_idx ON builds (owner, id);

-- +goose Down
DROP INDEX builds_owner_idx;
ALTER INDEX builds_owner_key_idx RENAME TO builds_owner_idx;
UPDATE builds SET owner_key = owner;
ALTER TABLE builds DROP COLUMN owner;
ALTER TABLE builds RENAME COLUMN owner_key TO owner;
