-- build_fingerprints_seen_idx carried each row's fingerprint, so that the failure list's
-- count of its window's first part day read the index alone: 7.0 KB per spec of the 129.3
-- on a 300-spec run of the load tool. A B-tree with an INCLUDE column keeps an entry per
-- row, while the rows of one build all have its kind and creation time: without the
-- fingerprint the index deduplicates them, one key and a list of row pointers per build
-- and kind. The count then reads the fingerprints from the rows, which a build writes
-- together, a day's worth of builds at most.

-- +goose Up
DROP INDEX build_fingerprints_seen_idx;
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at);

-- +goose Down
DROP INDEX build_fingerprints_seen_idx;
CREATE INDEX build_fingerprints_seen_idx ON build_fingerprints (kind, seen_at) INCLUDE (fingerprint);
