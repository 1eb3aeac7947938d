-- The day and month failure counts (failure_days, failure_months) are updated by every
-- failing build, and their window indexes carried the count: each update was a new row
-- version in the table and in both indexes (272 live and about 24,100 dead rows each,
-- 5.5 KB per spec each, of the 122.9 on a 300-spec run of the load tool; vacuum reclaims
-- them, but only once it passes). Without the count in any index, an update is a heap-only
-- tuple, pruned by the next visit to its page.
--
-- The failure list then reads each count from its row. A day's rows are written that day
-- and stay where they are, so the rows of a window's days lie together: the tables are
-- rewritten here in (kind, day) order once, for the rows migration 00009 wrote in
-- fingerprint order. The index keeps (kind, day) alone, which B-tree deduplication stores
-- once per day and kind.
--
-- CLUSTER holds each table while it rewrites it; failing builds wait to be written
-- meanwhile (a table holds at most a row per fingerprint and day).

-- +goose Up
SET LOCAL lock_timeout = '30s';
DROP INDEX failure_days_window_idx;
CREATE INDEX failure_days_window_idx ON failure_days (kind, day);
CLUSTER failure_days USING failure_days_window_idx;
DROP INDEX failure_months_window_idx;
CREATE INDEX failure_months_window_idx ON failure_months (kind, month);
CLUSTER failure_months USING failure_months_window_idx;

-- +goose Down
SET LOCAL lock_timeout = '30s';
ALTER TABLE failure_months SET WITHOUT CLUSTER;
DROP INDEX failure_months_window_idx;
CREATE INDEX failure_months_window_idx ON failure_months (kind, month) INCLUDE (fingerprint, builds);
ALTER TABLE failure_days SET WITHOUT CLUSTER;
DROP INDEX failure_days_window_idx;
CREATE INDEX failure_days_window_idx ON failure_days (kind, day) INCLUDE (fingerprint, builds);
