-- Retention drops old phase logs but keeps their events, so output_pruned tells a log that
-- was pruned from one that was never sent (both have no output). The partial index finds
-- the logs still held, oldest first, for spackmon prune.

-- +goose Up
ALTER TABLE phases ADD COLUMN output_pruned boolean NOT NULL DEFAULT false;
CREATE INDEX phases_output_held_idx ON phases (updated_at, id) WHERE NOT output_null;

-- +goose Down
DROP INDEX phases_output_held_idx;
ALTER TABLE phases DROP COLUMN output_pruned;
