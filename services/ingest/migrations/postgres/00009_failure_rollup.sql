-- The failure list reads a rollup of build_fingerprints instead of every row of its window,
-- which for a year is most of the table. Triggers on build_fingerprints keep the rollup for
-- every writer (ingest, the fingerprint backfill, a build deleted by cascade) in the writer's
-- own transaction.
--
-- Builds per fingerprint in a window: failure_days and failure_months count them per UTC day
-- and month (keys 'YYYY-MM-DD' and 'YYYY-MM'); the list adds whole months, the whole days
-- before the first of them, and reads the part of the first day that is in the window from
-- build_fingerprints itself, so the counts stay exact.
--
-- Distinct packages, compilers and hosts: a window always runs up to now, so a value had a
-- build in it exactly when its newest build is in it. failure_spread keeps, per fingerprint
-- and value, its number of builds and its newest build's time; the list counts the values
-- whose newest time is in the window, an index range of at most a few hundred rows per
-- fingerprint.
--
-- Writers: every failing build now updates its fingerprints' day, month and spread rows, so
-- concurrent writers of the same fingerprint wait for each other's commit. They lock those
-- rows in fingerprint order (FillBuild inserts in that order); only a phase reported again
-- with fewer fingerprints deletes out of that order, and the deadlock it can rarely meet is
-- retried by the store's write (db.Retry). A removed build that was a value's newest makes
-- the trigger read that fingerprint's builds again, an index range per fingerprint.

-- +goose Up
CREATE TABLE failure_days (
    kind        text NOT NULL,
    fingerprint text NOT NULL,
    day         text NOT NULL CHECK (length(day) = 10),
    builds      bigint NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, day)
);
CREATE INDEX failure_days_window_idx ON failure_days (kind, day) INCLUDE (fingerprint, builds);

CREATE TABLE failure_months (
    kind        text NOT NULL,
    fingerprint text NOT NULL,
    month       text NOT NULL CHECK (length(month) = 7),
    builds      bigint NOT NULL CHECK (builds >= 0),
    PRIMARY KEY (fingerprint, month)
);
CREATE INDEX failure_months_window_idx ON failure_months (kind, month) INCLUDE (fingerprint, builds);

-- dim is 'package' (a spec name), 'compiler' (a compiler id) or 'host' (a host name).
CREATE TABLE failure_spread (
    fingerprint text NOT NULL,
    dim         text NOT NULL CHECK (dim IN ('package', 'compiler', 'host')),
    value       text NOT NULL,
    builds      bigint NOT NULL CHECK (builds >= 0),
    last_seen   timestamptz NOT NULL,
    PRIMARY KEY (fingerprint, dim, value)
);
CREATE INDEX failure_spread_seen_idx ON failure_spread (fingerprint, dim, last_seen);

-- The values a build fingerprint row spreads over: its spec's name and compiler, its host.
-- +goose StatementBegin
CREATE FUNCTION failure_spread_values(spec bigint, env bigint)
RETURNS TABLE (dim text, value text) LANGUAGE sql STABLE AS $$
    SELECT 'package', s.name FROM specs s WHERE s.id = spec
    UNION ALL SELECT 'compiler', s.compiler_id::text FROM specs s WHERE s.id = spec AND s.compiler_id IS NOT NULL
    UNION ALL SELECT 'host', e.hostname FROM build_environments e WHERE e.id = env
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION failure_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO failure_days (kind, fingerprint, day, builds)
    VALUES (NEW.kind, NEW.fingerprint, to_char(NEW.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 1)
    ON CONFLICT (fingerprint, day) DO UPDATE SET builds = failure_days.builds + 1;
    INSERT INTO failure_months (kind, fingerprint, month, builds)
    VALUES (NEW.kind, NEW.fingerprint, to_char(NEW.seen_at AT TIME ZONE 'UTC', 'YYYY-MM'), 1)
    ON CONFLICT (fingerprint, month) DO UPDATE SET builds = failure_months.builds + 1;
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT NEW.fingerprint, v.dim, v.value, 1, NEW.seen_at FROM failure_spread_values(NEW.spec_id, NEW.env_id) v
    ORDER BY v.dim
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = failure_spread.builds + 1, last_seen = greatest(failure_spread.last_seen, EXCLUDED.last_seen);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A removed row takes its build out of the counts; when that build was a value's newest, the
-- value's newest time is read again from the rows left.
-- +goose StatementBegin
CREATE FUNCTION failure_rollup_remove() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d text := to_char(OLD.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD');
BEGIN
    UPDATE failure_days SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND day = d;
    DELETE FROM failure_days WHERE fingerprint = OLD.fingerprint AND day = d AND builds = 0;
    UPDATE failure_months SET builds = builds - 1 WHERE fingerprint = OLD.fingerprint AND month = left(d, 7);
    DELETE FROM failure_months WHERE fingerprint = OLD.fingerprint AND month = left(d, 7) AND builds = 0;
    UPDATE failure_spread sp SET builds = sp.builds - 1
    FROM failure_spread_values(OLD.spec_id, OLD.env_id) v
    WHERE sp.fingerprint = OLD.fingerprint AND sp.dim = v.dim AND sp.value = v.value;
    DELETE FROM failure_spread WHERE fingerprint = OLD.fingerprint AND builds = 0;
    UPDATE failure_spread sp SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = OLD.fingerprint
          AND EXISTS (SELECT 1 FROM failure_spread_values(bf.spec_id, bf.env_id) w WHERE w.dim = sp.dim AND w.value = sp.value))
    FROM failure_spread_values(OLD.spec_id, OLD.env_id) v
    WHERE sp.fingerprint = OLD.fingerprint AND sp.dim = v.dim AND sp.value = v.value AND sp.last_seen = OLD.seen_at;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER failure_rollup_add AFTER INSERT ON build_fingerprints
    FOR EACH ROW EXECUTE FUNCTION failure_rollup_add();
CREATE TRIGGER failure_rollup_remove AFTER DELETE ON build_fingerprints
    FOR EACH ROW EXECUTE FUNCTION failure_rollup_remove();

-- The rollup of the rows already there.
INSERT INTO failure_days (kind, fingerprint, day, builds)
SELECT min(kind), fingerprint, to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)
FROM build_fingerprints GROUP BY fingerprint, day;
INSERT INTO failure_months (kind, fingerprint, month, builds)
SELECT min(kind), fingerprint, left(day, 7) AS month, sum(builds) FROM failure_days GROUP BY fingerprint, month;
INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
SELECT bf.fingerprint, v.dim, v.value, count(*), max(bf.seen_at)
FROM build_fingerprints bf, failure_spread_values(bf.spec_id, bf.env_id) v
GROUP BY bf.fingerprint, v.dim, v.value;

-- +goose Down
DROP TRIGGER failure_rollup_remove ON build_fingerprints;
DROP TRIGGER failure_rollup_add ON build_fingerprints;
DROP FUNCTION failure_rollup_remove();
DROP FUNCTION failure_rollup_add();
DROP FUNCTION failure_spread_values(bigint, bigint);
DROP TABLE failure_spread;
DROP TABLE failure_months;
DROP TABLE failure_days;
