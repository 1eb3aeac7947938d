-- The failure list reads a rollup of build_fingerprints instead of every row of its window;
-- see the PostgreSQL migration of the same number for the design. Triggers keep it for every
-- writer. Times are stored as fixed-width UTC text, so a day is its first 10 characters and a
-- month its first 7.

-- +goose Up
CREATE TABLE failure_days (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    day         TEXT NOT NULL CHECK (length(day) = 10),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, day)
) STRICT;
CREATE INDEX failure_days_window_idx ON failure_days (kind, day, fingerprint, builds);

CREATE TABLE failure_months (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    month       TEXT NOT NULL CHECK (length(month) = 7),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, month)
) STRICT;
CREATE INDEX failure_months_window_idx ON failure_months (kind, month, fingerprint, builds);

-- dim is 'package' (a spec name), 'compiler' (a compiler id) or 'host' (a host name).
CREATE TABLE failure_spread (
    fingerprint TEXT NOT NULL,
    dim         TEXT NOT NULL CHECK (dim IN ('package', 'compiler', 'host')),
    value       TEXT NOT NULL,
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (fingerprint, dim, value)
) STRICT;
CREATE INDEX failure_spread_seen_idx ON failure_spread (fingerprint, dim, last_seen);

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

-- A removed row takes its build out of the counts; when that build was a value's newest, the
-- value's newest time is read again from the rows left.
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

-- The rollup of the rows already there.
INSERT INTO failure_days (kind, fingerprint, day, builds)
SELECT min(kind), fingerprint, substr(seen_at, 1, 10) AS d, count(*) FROM build_fingerprints GROUP BY fingerprint, d;
INSERT INTO failure_months (kind, fingerprint, month, builds)
SELECT min(kind), fingerprint, substr(day, 1, 7) AS m, sum(builds) FROM failure_days GROUP BY fingerprint, m;
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT fingerprint, 'package', value, count(*), max(seen_at)
FROM (SELECT bf.fingerprint, bf.seen_at, (SELECT s.name FROM specs s WHERE s.id = bf.spec_id) AS value FROM build_fingerprints bf)
WHERE value IS NOT NULL GROUP BY fingerprint, value;
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT fingerprint, 'compiler', value, count(*), max(seen_at)
FROM (SELECT bf.fingerprint, bf.seen_at, (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = bf.spec_id) AS value FROM build_fingerprints bf)
WHERE value IS NOT NULL GROUP BY fingerprint, value;
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT fingerprint, 'host', value, count(*), max(seen_at)
FROM (SELECT bf.fingerprint, bf.seen_at, (SELECT e.hostname FROM build_environments e WHERE e.id = bf.env_id) AS value FROM build_fingerprints bf)
WHERE value IS NOT NULL GROUP BY fingerprint, value;

-- +goose Down
DROP TRIGGER failure_rollup_remove;
DROP TRIGGER failure_rollup_add;
DROP TABLE failure_spread;
DROP TABLE failure_months;
DROP TABLE failure_days;
