-- Revisions let a watcher of a build resume where it left off: every change of a build (a
-- phase stored, a status changed) takes the build's next revision, and the phase or status
-- remembers the revision that last changed it. The triggers keep them for every writer
-- (the protocol, CDash, JUnit). SQLite has one process: ingest announces changes itself.

-- +goose Up
ALTER TABLE builds ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN status_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phases ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE INDEX phases_revision_idx ON phases (build_id, revision);

-- +goose StatementBegin
CREATE TRIGGER phases_revision_insert AFTER INSERT ON phases
BEGIN
    UPDATE builds SET revision = revision + 1 WHERE id = NEW.build_id;
    UPDATE phases SET revision = (SELECT revision FROM builds WHERE id = NEW.build_id) WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER phases_revision_update AFTER UPDATE OF status, output, output_null, error_count, warning_count, updated_at ON phases
BEGIN
    UPDATE builds SET revision = revision + 1 WHERE id = NEW.build_id;
    UPDATE phases SET revision = (SELECT revision FROM builds WHERE id = NEW.build_id) WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER builds_status_revision AFTER UPDATE OF status ON builds
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE builds SET revision = revision + 1, status_revision = revision + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER builds_status_revision;
DROP TRIGGER phases_revision_update;
DROP TRIGGER phases_revision_insert;
DROP INDEX phases_revision_idx;
ALTER TABLE phases DROP COLUMN revision;
ALTER TABLE builds DROP COLUMN status_revision;
ALTER TABLE builds DROP COLUMN revision;
