-- The failure rollup is kept in the order builds write it. A failing build adds a row to
-- each of the rollup tables for every fingerprint it has (80 on average in the load tool's
-- workload), and keyed by fingerprint those rows lie all over each table: the page of every
-- one of them went to the WAL again at each commit. On a copy of a 300-spec run, adding the
-- fingerprints of a build with 209 of them, on the day of the run, wrote 791 pages to the
-- WAL; 206 in this layout (TestRollupWritesClustered compares the two).
--
-- - The day and month counts are keyed by (kind, day or month, fingerprint): a build's rows
--   are that day's, side by side, and the failure list's window reads the key alone, so the
--   window index goes.
-- - The spread is keyed by (dim, value, fingerprint): a build has one package, one compiler
--   and one host, so its rows are three runs. The failure list counts a fingerprint's values
--   through failure_spread_seen_idx, which now holds each value's last day (UTC) rather than
--   its last time: it changes on a value's first build of a day only, and the triggers set it
--   in a statement of its own, so the other builds of the day leave the index alone. The
--   list checks last_seen in the rows of the window's first day only, as PostgreSQL does
--   since its 00017.

-- Each copy is written in its new key's order, so that its pages fill one after another.

-- +goose Up
DROP TRIGGER failure_rollup_remove;
DROP TRIGGER failure_rollup_add;

CREATE TABLE failure_days_copy (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    day         TEXT NOT NULL CHECK (length(day) = 10),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (kind, day, fingerprint)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_days_copy SELECT kind, fingerprint, day, builds FROM failure_days ORDER BY kind, day, fingerprint;
DROP TABLE failure_days;
ALTER TABLE failure_days_copy RENAME TO failure_days;

CREATE TABLE failure_months_copy (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    month       TEXT NOT NULL CHECK (length(month) = 7),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (kind, month, fingerprint)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_months_copy SELECT kind, fingerprint, month, builds FROM failure_months ORDER BY kind, month, fingerprint;
DROP TABLE failure_months;
ALTER TABLE failure_months_copy RENAME TO failure_months;

CREATE TABLE failure_spread_copy (
    fingerprint TEXT NOT NULL,
    dim         TEXT NOT NULL CHECK (dim IN ('package', 'compiler', 'host')),
    value       TEXT NOT NULL,
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    last_seen   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    CHECK (last_day = substr(last_seen, 1, 10)),
    PRIMARY KEY (dim, value, fingerprint)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_spread_copy
SELECT fingerprint, dim, value, builds, last_seen, substr(last_seen, 1, 10) FROM failure_spread ORDER BY dim, value, fingerprint;
DROP TABLE failure_spread;
ALTER TABLE failure_spread_copy RENAME TO failure_spread;
CREATE INDEX failure_spread_seen_idx ON failure_spread (fingerprint, dim, last_day);

-- A new row's spread, for the build's package, compiler and host: a value's last day moves
-- first, in a statement that writes only when it moves; the count and the last time then
-- change in the row alone.
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_add AFTER INSERT ON build_fingerprints
BEGIN
    INSERT INTO failure_days (kind, fingerprint, day, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 10), 1)
    ON CONFLICT (kind, day, fingerprint) DO UPDATE SET builds = builds + 1;
    INSERT INTO failure_months (kind, fingerprint, month, builds)
    VALUES (NEW.kind, NEW.fingerprint, substr(NEW.seen_at, 1, 7), 1)
    ON CONFLICT (kind, month, fingerprint) DO UPDATE SET builds = builds + 1;
    UPDATE failure_spread SET last_day = substr(NEW.seen_at, 1, 10), last_seen = NEW.seen_at
    FROM (
        SELECT 'package' AS dim, s.name AS value FROM specs s WHERE s.id = NEW.spec_id
        UNION ALL
        SELECT 'compiler', CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = NEW.spec_id AND s.compiler_id IS NOT NULL
        UNION ALL
        SELECT 'host', e.hostname FROM build_environments e WHERE e.id = NEW.env_id) x
    WHERE failure_spread.dim = x.dim AND failure_spread.value = x.value AND failure_spread.fingerprint = NEW.fingerprint
      AND failure_spread.last_day < substr(NEW.seen_at, 1, 10);
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen, last_day)
    SELECT NEW.fingerprint, x.dim, x.value, 1, NEW.seen_at, substr(NEW.seen_at, 1, 10) FROM (
        SELECT 'package' AS dim, s.name AS value FROM specs s WHERE s.id = NEW.spec_id
        UNION ALL
        SELECT 'compiler', CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = NEW.spec_id AND s.compiler_id IS NOT NULL
        UNION ALL
        SELECT 'host', e.hostname FROM build_environments e WHERE e.id = NEW.env_id) x
    WHERE true
    ON CONFLICT (dim, value, fingerprint) DO UPDATE
    SET builds = builds + 1, last_seen = max(last_seen, excluded.last_seen);
END;
-- +goose StatementEnd

-- A removed row takes its build out of the counts; when that build was a value's newest,
-- the value's last time is read again from the rows left. Every statement finds its row by
-- the primary key.
-- +goose StatementBegin
CREATE TRIGGER failure_rollup_remove AFTER DELETE ON build_fingerprints
BEGIN
    UPDATE failure_days SET builds = builds - 1
    WHERE kind = OLD.kind AND day = substr(OLD.seen_at, 1, 10) AND fingerprint = OLD.fingerprint;
    DELETE FROM failure_days
    WHERE kind = OLD.kind AND day = substr(OLD.seen_at, 1, 10) AND fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_months SET builds = builds - 1
    WHERE kind = OLD.kind AND month = substr(OLD.seen_at, 1, 7) AND fingerprint = OLD.fingerprint;
    DELETE FROM failure_months
    WHERE kind = OLD.kind AND month = substr(OLD.seen_at, 1, 7) AND fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET builds = builds - 1
    WHERE dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint;
    DELETE FROM failure_spread
    WHERE dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET (last_seen, last_day) = (
        SELECT m, substr(m, 1, 10) FROM (
            SELECT max(bf.seen_at) AS m FROM build_fingerprints bf
            WHERE bf.fingerprint = OLD.fingerprint AND (SELECT s.name FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value))
    WHERE dim = 'package' AND value = (SELECT s.name FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET builds = builds - 1
    WHERE dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint;
    DELETE FROM failure_spread
    WHERE dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET (last_seen, last_day) = (
        SELECT m, substr(m, 1, 10) FROM (
            SELECT max(bf.seen_at) AS m FROM build_fingerprints bf
            WHERE bf.fingerprint = OLD.fingerprint AND (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = bf.spec_id) = failure_spread.value))
    WHERE dim = 'compiler' AND value = (SELECT CAST(s.compiler_id AS TEXT) FROM specs s WHERE s.id = OLD.spec_id) AND fingerprint = OLD.fingerprint AND last_seen = OLD.seen_at;
    UPDATE failure_spread SET builds = builds - 1
    WHERE dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id) AND fingerprint = OLD.fingerprint;
    DELETE FROM failure_spread
    WHERE dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id) AND fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread SET (last_seen, last_day) = (
        SELECT m, substr(m, 1, 10) FROM (
            SELECT max(bf.seen_at) AS m FROM build_fingerprints bf
            WHERE bf.fingerprint = OLD.fingerprint AND (SELECT e.hostname FROM build_environments e WHERE e.id = bf.env_id) = failure_spread.value))
    WHERE dim = 'host' AND value = (SELECT e.hostname FROM build_environments e WHERE e.id = OLD.env_id) AND fingerprint = OLD.fingerprint AND last_seen = OLD.seen_at;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER failure_rollup_remove;
DROP TRIGGER failure_rollup_add;

CREATE TABLE failure_days_copy (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    day         TEXT NOT NULL CHECK (length(day) = 10),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, day)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_days_copy SELECT kind, fingerprint, day, builds FROM failure_days ORDER BY fingerprint, day;
DROP TABLE failure_days;
ALTER TABLE failure_days_copy RENAME TO failure_days;
CREATE INDEX failure_days_window_idx ON failure_days (kind, day, fingerprint, builds);

CREATE TABLE failure_months_copy (
    kind        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    month       TEXT NOT NULL CHECK (length(month) = 7),
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, month)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_months_copy SELECT kind, fingerprint, month, builds FROM failure_months ORDER BY fingerprint, month;
DROP TABLE failure_months;
ALTER TABLE failure_months_copy RENAME TO failure_months;
CREATE INDEX failure_months_window_idx ON failure_months (kind, month, fingerprint, builds);

CREATE TABLE failure_spread_copy (
    fingerprint TEXT NOT NULL,
    dim         TEXT NOT NULL CHECK (dim IN ('package', 'compiler', 'host')),
    value       TEXT NOT NULL,
    builds      INTEGER NOT NULL CHECK (builds >= 0),
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (fingerprint, dim, value)
) STRICT, WITHOUT ROWID;
INSERT INTO failure_spread_copy SELECT fingerprint, dim, value, builds, last_seen FROM failure_spread ORDER BY fingerprint, dim, value;
DROP TABLE failure_spread;
ALTER TABLE failure_spread_copy RENAME TO failure_spread;
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

