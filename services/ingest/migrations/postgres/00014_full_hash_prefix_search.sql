-- The builds search matches a full hash by its start (readsql.WithHashPrefix) through a
-- B-tree, instead of anywhere in it through a trigram index. Hashes are random: each of a
-- hash's 30 trigrams was a key of its own in the GIN index, which took 21 of the 56 KB per
-- spec of the specs table (100 specs of the load tool), more than the table's rows; the
-- B-tree takes 2.4 KB (about 60 bytes a row, where the GIN index took 170 to 680). A hash
-- is quoted from its start (Spack's /abc1234), so the search still finds every hash a user
-- types or pastes a start of.
--
-- The other trigram indexes write straight into their trees (fastupdate off), as
-- spec_closure's does: with the default, inserts went to a pending list of up to 4 MB that
-- every search reads whole and that an insert now and then merges, which held the whole
-- of the name and version indexes (129 pages after 100 specs, 10 KB per spec where the
-- trees take a few pages) and cost that insert of specs up to 0.9 s.

-- +goose Up
DROP INDEX IF EXISTS specs_full_hash_trgm_idx;
CREATE INDEX specs_full_hash_prefix_idx ON specs (lower(full_hash) text_pattern_ops);
-- +goose StatementBegin
DO $$
DECLARE
    idx text;
BEGIN
    FOREACH idx IN ARRAY ARRAY['specs_name_trgm_idx', 'specs_version_trgm_idx', 'build_environments_hostname_trgm_idx',
                               'cdash_builds_build_name_trgm_idx', 'cdash_builds_project_trgm_idx'] LOOP
        IF to_regclass(idx) IS NOT NULL THEN
            EXECUTE format('ALTER INDEX %I SET (fastupdate = off)', idx);
            PERFORM gin_clean_pending_list(to_regclass(idx));
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX specs_full_hash_prefix_idx;
-- +goose StatementBegin
DO $$
DECLARE
    idx regclass;
BEGIN
    FOR idx IN SELECT c.oid FROM pg_class c
               WHERE c.relkind = 'i' AND c.relname LIKE '%\_trgm\_idx' AND c.relnamespace = current_schema()::regnamespace LOOP
        EXECUTE format('ALTER INDEX %s RESET (fastupdate)', idx);
    END LOOP;
    -- Only where 00013 made its indexes: pg_trgm may have been installed since.
    IF to_regclass('specs_name_trgm_idx') IS NOT NULL THEN
        CREATE INDEX specs_full_hash_trgm_idx ON specs USING gin (full_hash gin_trgm_ops);
    END IF;
END
$$;
-- +goose StatementEnd
