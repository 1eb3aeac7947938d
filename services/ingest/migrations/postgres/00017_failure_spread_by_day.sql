-- Every failing build updates the spread rows of its fingerprints (a package, a compiler
-- and a host each), and each update changed last_seen, a column of failure_spread_seen_idx:
-- so each left a new row version in the table and in both indexes, which only vacuum
-- reclaims (after 300 specs of the load tool on a server without autovacuum, 19,700 live
-- and 51,500 dead rows, 32.8 KB per spec).
--
-- The index now holds each value's last day (UTC) instead, a stored generated column: an
-- update within the day leaves every indexed column as it was, so with room left on the
-- page (fillfactor 70) it is a heap-only tuple, written in no index, and its old version
-- is pruned by the next visit to the page, vacuum or not. The failure list counts the
-- values last seen on days after the window's first from the index alone, and checks
-- last_seen in the rows of that first day only.
--
-- Adding the column rewrites the table while holding it exclusively: failing builds wait
-- to be written meanwhile (10 s for 1.9 million rows, 100,000 seeded builds). A migration
-- that cannot have the table within 30 s fails, to be run again, rather than queue every
-- writer behind a long read.

-- +goose Up
SET LOCAL lock_timeout = '30s';
ALTER TABLE failure_spread SET (fillfactor = 70);
DROP INDEX failure_spread_seen_idx;
ALTER TABLE failure_spread ADD COLUMN last_day date GENERATED ALWAYS AS ((last_seen AT TIME ZONE 'UTC')::date) STORED;
CREATE INDEX failure_spread_seen_idx ON failure_spread (fingerprint, dim, last_day);

-- +goose Down
DROP INDEX failure_spread_seen_idx;
ALTER TABLE failure_spread DROP COLUMN last_day;
ALTER TABLE failure_spread RESET (fillfactor);
CREATE INDEX failure_spread_seen_idx ON failure_spread (fingerprint, dim, last_seen);
