-- A phase keeps only the first errors and warnings of its log as events; these columns
-- count all of them, so that a reader can tell the list was capped.

-- +goose Up
ALTER TABLE phases
    ADD COLUMN errors_total   bigint NOT NULL DEFAULT 0 CHECK (errors_total >= 0),
    ADD COLUMN warnings_total bigint NOT NULL DEFAULT 0 CHECK (warnings_total >= 0);
UPDATE phases SET errors_total = error_count, warnings_total = warning_count;

-- +goose Down
ALTER TABLE phases DROP COLUMN errors_total, DROP COLUMN warnings_total;
