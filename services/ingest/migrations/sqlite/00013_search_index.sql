-- The builds search (q) finds each table's matching rows, then the builds from them by
-- their indexes: this one finds the specs of a compiler that matched.

-- +goose Up
CREATE INDEX specs_compiler_idx ON specs (compiler_id);

-- +goose Down
DROP INDEX specs_compiler_idx;
