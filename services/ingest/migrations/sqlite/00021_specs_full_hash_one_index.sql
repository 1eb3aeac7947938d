-- A spec's full hash had two indexes: specs_full_hash_idx for look-ups by the hash, and
-- specs_full_hash_nocase_idx (00017) for the builds search, which matches a hash by its
-- start ignoring case. Every spec written added a row to both, each on a page of its own
-- (hashes are random). The look-ups now narrow through the NOCASE index and compare the
-- hash exactly after it (specHashIs in the store), so the first index goes.

-- +goose Up
DROP INDEX specs_full_hash_idx;

-- +goose Down
CREATE INDEX specs_full_hash_idx ON specs (full_hash, spack_version);
