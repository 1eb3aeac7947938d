-- The failure rollup (migration 00009) is written once per statement rather than once per
-- build fingerprint row; the builds search gets indexes (at the end).
--
-- Seeding showed the rollup triggers among the writer's costs: a trigger call per row ran
-- three upserts and a function each time. Now the triggers run per statement on its
-- transition table: one upsert per rollup table for all the rows a statement wrote, grouped
-- by key, and nothing at all for the statements (most of them: a phase whose fingerprints
-- the build already had) that wrote none. Writers lock the rollup rows table by table (days,
-- months, spread), each in key order, so two writers still wait rather than deadlock.
--
-- The rollup's indexes stay as they were, counters and newest times included, although that
-- makes every update of a rollup row write a new entry in each index (no HOT update): taken
-- out, the updates were HOT, but the failure list read the counters from the heap, and
-- BenchmarkFailures (run beside the previous schema) was 1.2 to 1.9 times slower over 30
-- and 365 days, 3.5 times over 7 days without the spread's index.

-- +goose Up
DROP TRIGGER failure_rollup_add ON build_fingerprints;
DROP TRIGGER failure_rollup_remove ON build_fingerprints;
DROP FUNCTION failure_rollup_add();
DROP FUNCTION failure_rollup_remove();

ALTER TABLE fingerprints SET (fillfactor = 90);

-- +goose StatementBegin
CREATE FUNCTION failure_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most statements (a phase whose fingerprints the build already had) add no row.
    IF NOT EXISTS (SELECT 1 FROM added) THEN
        RETURN NULL;
    END IF;
    INSERT INTO failure_days (kind, fingerprint, day, builds)
    SELECT min(a.kind), a.fingerprint, to_char(a.seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d, count(*)
    FROM added a GROUP BY a.fingerprint, d ORDER BY a.fingerprint, d
    ON CONFLICT (fingerprint, day) DO UPDATE SET builds = failure_days.builds + EXCLUDED.builds;
    INSERT INTO failure_months (kind, fingerprint, month, builds)
    SELECT min(a.kind), a.fingerprint, to_char(a.seen_at AT TIME ZONE 'UTC', 'YYYY-MM') AS m, count(*)
    FROM added a GROUP BY a.fingerprint, m ORDER BY a.fingerprint, m
    ON CONFLICT (fingerprint, month) DO UPDATE SET builds = failure_months.builds + EXCLUDED.builds;
    INSERT INTO failure_spread (fingerprint, dim, value, builds, last_seen)
    SELECT a.fingerprint, v.dim, v.value, count(*), max(a.seen_at)
    FROM added a, failure_spread_values(a.spec_id, a.env_id) v
    GROUP BY a.fingerprint, v.dim, v.value ORDER BY a.fingerprint, v.dim, v.value
    ON CONFLICT (fingerprint, dim, value) DO UPDATE
    SET builds = failure_spread.builds + EXCLUDED.builds,
        last_seen = greatest(failure_spread.last_seen, EXCLUDED.last_seen);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Removed rows take their builds out of the counts; a value whose newest time was that of a
-- removed row (then the newest removed one) has it read again from the rows left.
-- +goose StatementBegin
CREATE FUNCTION failure_rollup_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nearly every statement (a phase reported again with the same fingerprints) removes none.
    IF NOT EXISTS (SELECT 1 FROM removed) THEN
        RETURN NULL;
    END IF;
    UPDATE failure_days d SET builds = d.builds - r.n
    FROM (SELECT fingerprint, to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS n
          FROM removed GROUP BY 1, 2) r
    WHERE d.fingerprint = r.fingerprint AND d.day = r.day;
    DELETE FROM failure_days d USING (SELECT DISTINCT fingerprint FROM removed) r
    WHERE d.fingerprint = r.fingerprint AND d.builds = 0;
    UPDATE failure_months m SET builds = m.builds - r.n
    FROM (SELECT fingerprint, to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*) AS n
          FROM removed GROUP BY 1, 2) r
    WHERE m.fingerprint = r.fingerprint AND m.month = r.month;
    DELETE FROM failure_months m USING (SELECT DISTINCT fingerprint FROM removed) r
    WHERE m.fingerprint = r.fingerprint AND m.builds = 0;
    UPDATE failure_spread sp SET builds = sp.builds - r.n
    FROM (SELECT o.fingerprint, v.dim, v.value, count(*) AS n
          FROM removed o, failure_spread_values(o.spec_id, o.env_id) v GROUP BY 1, 2, 3) r
    WHERE sp.fingerprint = r.fingerprint AND sp.dim = r.dim AND sp.value = r.value;
    DELETE FROM failure_spread sp USING (SELECT DISTINCT fingerprint FROM removed) r
    WHERE sp.fingerprint = r.fingerprint AND sp.builds = 0;
    UPDATE failure_spread sp SET last_seen = (
        SELECT max(bf.seen_at) FROM build_fingerprints bf
        WHERE bf.fingerprint = sp.fingerprint
          AND EXISTS (SELECT 1 FROM failure_spread_values(bf.spec_id, bf.env_id) w WHERE w.dim = sp.dim AND w.value = sp.value))
    FROM (SELECT o.fingerprint, v.dim, v.value, max(o.seen_at) AS seen
          FROM removed o, failure_spread_values(o.spec_id, o.env_id) v GROUP BY 1, 2, 3) r
    WHERE sp.fingerprint = r.fingerprint AND sp.dim = r.dim AND sp.value = r.value AND sp.last_seen = r.seen;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER failure_rollup_add AFTER INSERT ON build_fingerprints
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION failure_rollup_add();
CREATE TRIGGER failure_rollup_remove AFTER DELETE ON build_fingerprints
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION failure_rollup_remove();

-- The builds search (q) matches a substring of a spec's name, version or hash, a host, a
-- CDash build name or project. Trigram indexes (pg_trgm) find the rows of each table that
-- match, so the search no longer reads every build with its joins. Creating the extension
-- needs a privilege the service's role may lack: without it the search works as before,
-- by scanning.
-- The specs of a compiler, for the builds search matching a compiler.
CREATE INDEX specs_compiler_idx ON specs (compiler_id);
-- The builds of a set of specs (the search, the matrix of a package) read without the
-- table: with only the wider unique index the planner read all builds instead (100,000
-- builds: matrix 64 ms, against 9 ms with this index; search by package 134 against 13 ms).
CREATE INDEX builds_spec_idx ON builds (spec_id) INCLUDE (id, status);
-- +goose StatementBegin
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm is not available (%): the builds search scans', SQLERRM;
        RETURN;
    END;
    CREATE INDEX specs_name_trgm_idx ON specs USING gin (name gin_trgm_ops);
    CREATE INDEX specs_version_trgm_idx ON specs USING gin (version gin_trgm_ops);
    CREATE INDEX specs_full_hash_trgm_idx ON specs USING gin (full_hash gin_trgm_ops);
    CREATE INDEX build_environments_hostname_trgm_idx ON build_environments USING gin (hostname gin_trgm_ops);
    CREATE INDEX cdash_builds_build_name_trgm_idx ON cdash_builds USING gin (build_name gin_trgm_ops);
    CREATE INDEX cdash_builds_project_trgm_idx ON cdash_builds USING gin (project gin_trgm_ops);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS cdash_builds_project_trgm_idx;
DROP INDEX IF EXISTS cdash_builds_build_name_trgm_idx;
DROP INDEX IF EXISTS build_environments_hostname_trgm_idx;
DROP INDEX IF EXISTS specs_full_hash_trgm_idx;
DROP INDEX IF EXISTS specs_version_trgm_idx;
DROP INDEX IF EXISTS specs_name_trgm_idx;
DROP INDEX builds_spec_idx;
DROP INDEX specs_compiler_idx;
DROP TRIGGER failure_rollup_add ON build_fingerprints;
DROP TRIGGER failure_rollup_remove ON build_fingerprints;
DROP FUNCTION failure_rollup_add();
DROP FUNCTION failure_rollup_remove();
ALTER TABLE fingerprints RESET (fillfactor);

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
