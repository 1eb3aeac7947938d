-- Revisions let a watcher of a build resume where it left off: every change of a build (a
-- phase stored, a status changed) takes the build's next revision, and the phase or status
-- remembers the revision that last changed it. The triggers keep them for every writer
-- (the protocol, CDash, JUnit) and announce the change to every ingest replica with NOTIFY,
-- which PostgreSQL delivers when the writing transaction commits.

-- +goose Up
ALTER TABLE builds ADD COLUMN revision bigint NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN status_revision bigint NOT NULL DEFAULT 0;
ALTER TABLE phases ADD COLUMN revision bigint NOT NULL DEFAULT 0;
CREATE INDEX phases_revision_idx ON phases (build_id, revision);

-- +goose StatementBegin
CREATE FUNCTION phases_take_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE builds SET revision = revision + 1 WHERE id = NEW.build_id RETURNING revision INTO NEW.revision;
    PERFORM pg_notify('spackmon_build_changes', NEW.build_id::text);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION builds_status_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := NEW.revision + 1;
    NEW.status_revision := NEW.revision;
    PERFORM pg_notify('spackmon_build_changes', NEW.id::text);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER phases_take_revision BEFORE INSERT OR UPDATE OF status, output, output_null, error_count, warning_count, updated_at
    ON phases FOR EACH ROW EXECUTE FUNCTION phases_take_revision();
CREATE TRIGGER builds_status_revision BEFORE UPDATE OF status ON builds
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION builds_status_revision();

-- +goose Down
DROP TRIGGER builds_status_revision ON builds;
DROP TRIGGER phases_take_revision ON phases;
DROP FUNCTION builds_status_revision();
DROP FUNCTION phases_take_revision();
DROP INDEX phases_revision_idx;
ALTER TABLE phases DROP COLUMN revision;
ALTER TABLE builds DROP COLUMN status_revision;
ALTER TABLE builds DROP COLUMN revision;
