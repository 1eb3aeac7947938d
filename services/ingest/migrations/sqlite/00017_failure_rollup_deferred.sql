-- The rollup triggers of migration 00009 ran five upserts for every build_fingerprints row
-- as it was written: about a fifth of the server's CPU under load, and most of those upserts
-- hit the same few rollup rows again. Rows past failure_rollup_mark are now left for the store
-- to fold in as one set (sqlite.Store.foldFailures): in the background, and before the failure
-- list is read, so a read still counts every committed row.
--
-- The triggers stay for rows at or below the mark: a removed row that was counted, and a new
-- row that reuses the rowid of a removed one (SQLite may hand out the highest rowid again).

-- +goose Up
CREATE TABLE failure_rollup_mark (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_rowid INTEGER NOT NULL
) STRICT;
INSERT INTO failure_rollup_mark (id, last_rowid) SELECT 1, coalesce(max(rowid), 0) FROM build_fingerprints;

DROP TRIGGER failure_rollup_add;
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_add AFTER INSERT ON build_fingerprints
WHEN NEW.rowid <= (SELECT last_rowid FROM failure_rollup_mark)
BEGIN
    INSERT INTO failure_days (kind, fingerprint, day, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 10), 1)
    ON CONFLICT (fingerprint, day) DO UPDATE SET builds = builds + 1;
    INSERT INTO failure_months (kind, fingerprint, month, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 7), 1)
    ON CONFLICT (fingerprint, month) DO UPDATE SET builds = builds + 1;
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'package', x.value, 1, NEW.seen_at FROM (SELECT (SELECT s.name FROM specs s WHERE s.id = NEW.spec_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'compiler', x.value, 1, NEW.seen_at FROM (SELECT (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = NEW.spec_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'host', x.value, 1, NEW.seen_at FROM (SELECT (SELECT e.hostname FROM build_environments e WHERE e.id = NEW.env_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
END;
-- +goose StatementEnd

DROP TRIGGER failure_rollup_remove;
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_remove AFTER DELETE ON build_fingerprints
WHEN OLD.rowid <= (SELECT last_rowid FROM failure_rollup_mark)
BEGIN
    UPDATE failure_days SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND day = substr(OLD.seen_at, 1, 10);
    DELETE FROM failure_days WHERE fingerprint = OLD.fingerprint AND day = substr(OLD.seen_at, 1, 10) AND builds = 0;
    UPDATE failure_months SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND month = substr(OLD.seen_at, 1, 7);
    DELETE FROM failure_months WHERE fingerprint = OLD.fingerprint AND month = substr(OLD.seen_at, 1, 7) AND builds = 0;
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id);
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id);
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id);
    DELETE FROM failure_spread WHERE fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT s.name FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id) AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id) AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT e.hostname FROM build_environments e WHERE e.id = bf.env_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id) AND last_seen = OLD.seen_at;
END;
-- +goose StatementEnd

-- +goose Down
INSERT INTO failure_days (kind, fingerprint, day, builds)
SELECT min(kind), fingerprint, substr(seen_at, 1, 10) AS d, count(*) FROM build_fingerprints
WHERE rowid > (SELECT last_rowid FROM failure_rollup_mark) GROUP BY fingerprint, d
ON CONFLICT (fingerprint, day) DO UPDATE SET builds = builds + excluded.builds;
INSERT INTO failure_months (kind, fingerprint, month, builds)
SELECT min(kind), fingerprint, substr(seen_at, 1, 7) AS m, count(*) FROM build_fingerprints
WHERE rowid > (SELECT last_rowid FROM failure_rollup_mark) GROUP BY fingerprint, m
ON CONFLICT (fingerprint, month) DO UPDATE SET builds = builds + excluded.builds;
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'package', s.name, count(*), max(bf.seen_at) FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
WHERE bf.rowid > (SELECT last_rowid FROM failure_rollup_mark) GROUP BY bf.fingerprint, s.name
ON CONFLICT (fingerprint, dim, value) DO UPDATE SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen);
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'compiler', CAST(s.compiler_id AS TEXT), count(*), max(bf.seen_at) FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
WHERE bf.rowid > (SELECT last_rowid FROM failure_rollup_mark) AND s.compiler_id IS NOT NULL GROUP BY bf.fingerprint, s.compiler_id
ON CONFLICT (fingerprint, dim, value) DO UPDATE SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen);
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, 'host', e.hostname, count(*), max(bf.seen_at) FROM build_fingerprints bf JOIN build_environments e ON e.id = bf.env_id
WHERE bf.rowid > (SELECT last_rowid FROM failure_rollup_mark) GROUP BY bf.fingerprint, e.hostname
ON CONFLICT (fingerprint, dim, value) DO UPDATE SET builds = builds + excluded.builds, last_seen = max(last_seen, excluded.last_seen);

DROP TRIGGER failure_rollup_add;
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_add AFTER INSERT ON build_fingerprints
BEGIN
    INSERT INTO failure_days (kind, fingerprint, day, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 10), 1)
    ON CONFLICT (fingerprint, day) DO UPDATE SET builds = builds + 1;
    INSERT INTO failure_months (kind, fingerprint, month, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 7), 1)
    ON CONFLICT (fingerprint, month) DO UPDATE SET builds = builds + 1;
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'package', x.value, 1, NEW.seen_at FROM (SELECT (SELECT s.name FROM specs s WHERE s.id = NEW.spec_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'compiler', x.value, 1, NEW.seen_at FROM (SELECT (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = NEW.spec_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, 'host', x.value, 1, NEW.seen_at FROM (SELECT (SELECT e.hostname FROM build_environments e WHERE e.id = NEW.env_id) AS value) x WHERE x.value IS NOT NULL
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
END;
-- +goose StatementEnd

DROP TRIGGER failure_rollup_remove;
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_remove AFTER DELETE ON build_fingerprints
BEGIN
    UPDATE failure_days SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND day = substr(OLD.seen_at, 1, 10);
    DELETE FROM failure_days WHERE fingerprint = OLD.fingerprint AND day = substr(OLD.seen_at, 1, 10) AND builds = 0;
    UPDATE failure_months SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND month = substr(OLD.seen_at, 1, 7);
    DELETE FROM failure_months WHERE fingerprint = OLD.fingerprint AND month = substr(OLD.seen_at, 1, 7) AND builds = 0;
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id);
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id);
    UPDATE failure_spread SET builds = builds - 1
    WHERE fingerprint = OLD.fingerprint AND dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id);
    DELETE FROM failure_spread WHERE fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT s.name FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id) AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id) AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint AND (SELECT e.hostname FROM build_environments e WHERE e.id = bf.env_id) = failure_spread.value)
    WHERE fingerprint = OLD.fingerprint AND dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id) AND last_seen = OLD.seen_at;
END;
-- +goose StatementEnd

DROP TABLE failure_rollup_mark;
