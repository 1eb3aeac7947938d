-- The builds search matches a full hash by its start (readsql.WithHashPrefix) through a
-- B-tree, instead of anywhere in it through a trigram index. Hashes are random: each of a
-- hash's 30 trigrams was a key of its own in the GIN index, which took 21 of the 56 KB per
-- spec of the specs table (100 specs of the load tool), more than the table's rows; the
-- B-tree takes 2.4 KB (about 60 bytes a row, where the GIN index took 170 to 680). A hash is quoted from its start (Spack's /abc1234),
-- so the search still finds every hash a user types or pastes a start of.

-- +goose Up
DROP INDEX IF EXISTS specs_full_hash_trgm_idx;
CREATE INDEX specs_full_hash_prefix_idx ON specs (lower(full_hash) text_pattern_ops);

-- +goose Down
DROP INDEX specs_full_hash_prefix_idx;
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX specs_full_hash_trgm_idx ON specs USING gin (full_hash gin_trgm_ops);
    END IF;
END
$$;
-- +goose StatementEnd
