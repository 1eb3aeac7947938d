-- Bytes per spec of the failure tables (load tool, 100 specs: build_fingerprints 31 KB of the
-- ingest tables' 194, failure_spread 34).
--
-- failure_spread keeps its two B-trees, the primary key (fingerprint, dim, value) for the
-- trigger's upsert and (fingerprint, dim, last_seen) for the list's count of the values
-- seen in its window, although every upsert writes a new entry in the second (16 of its 34
-- KB per spec, most of them versions of rows until vacuum). One tree, the key carrying
-- last_seen as a non-key column, took 9 KB where the two took 24, but the count then read
-- every value of a fingerprint and filtered: BenchmarkFailures' 7-day list (50 values of
-- 200 in the window) took 1.2 times as long. Vacuum is what bounds them.
--
-- build_fingerprints had its key twice, as the primary key (build_id, fingerprint) and as
-- the index (fingerprint, build_id) the list and the trigger read a fingerprint's builds
-- from. The primary key now runs in the second order, and a build's rows (its fingerprints,
-- its deletion) are found by an index of build_id alone, whose equal keys B-tree
-- deduplication stores once per build: a few bytes a row where the key took forty.
--
-- build_fingerprints_seen_idx carried build_id, spec_id and env_id for no statement: the
-- list's first-day count reads only the fingerprint from it, and the trigger that needs a
-- row's spec and host reaches it through the fingerprint's index.
--
-- Per-table autovacuum thresholds for the rollup tables were tried and left out: at the
-- load tool's rate (a failing spec updates some 400 rollup rows) a minute of writes, the
-- autovacuum naptime, leaves tens of thousands of dead rows whatever the threshold. After
-- 1,000 specs failure_spread's size followed the run's throughput, not the thresholds:
-- 18.7 KB per spec at 9.6 specs/s without them, 28.3 at 16.4 specs/s with them.

-- +goose Up
DROP INDEX build_fingerprints_seen_idx;
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at) INCLUDE (fingerprint);
ALTER TABLE build_fingerprints DROP CONSTRAINT build_fingerprints_pkey;
DROP INDEX build_fingerprints_print_idx;
ALTER TABLE build_fingerprints ADD PRIMARY KEY (fingerprint, build_id);
CREATE INDEX build_fingerprints_build_idx ON build_fingerprints (build_id);

-- +goose Down
DROP INDEX build_fingerprints_build_idx;
ALTER TABLE build_fingerprints DROP CONSTRAINT build_fingerprints_pkey;
ALTER TABLE build_fingerprints ADD PRIMARY KEY (build_id, fingerprint);
CREATE INDEX build_fingerprints_print_idx ON build_fingerprints (fingerprint, build_id);
DROP INDEX build_fingerprints_seen_idx;
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at) INCLUDE (fingerprint, build_id, spec_id, env_id);
