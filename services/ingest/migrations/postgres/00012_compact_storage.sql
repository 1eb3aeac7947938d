-- Bytes per spec. spec_closure kept a row per (ancestor, descendant) pair and two B-trees
-- over them, about 140 bytes a pair; a DAG of 150 nodes has thousands of pairs. It keeps
-- instead one row per ancestor with its descendants as a sorted array, and a GIN index on
-- the arrays for the reverse question (which specs have X below them), whose posting
-- lists are compressed: a few bytes a pair. fastupdate is off so that a read never scans
-- a pending list that a burst of writes left behind.
--
-- Specs are looked up by full hash alone with an equality, never a range or an order: a
-- hash index keeps a 4-byte code per row where the B-tree kept the whole 32-character
-- hash and the spack version. (The DAG hash keeps its B-tree: a stub's is empty, and a
-- hash index keeps equal keys in one ever longer bucket.)

-- +goose Up
CREATE TABLE spec_descendants (
    ancestor    bigint PRIMARY KEY,
    descendants bigint[] NOT NULL CHECK (cardinality(descendants) > 0)
);
INSERT INTO spec_descendants (ancestor, descendants)
SELECT ancestor, array_agg(descendant ORDER BY descendant) FROM spec_closure GROUP BY ancestor;
DROP TABLE spec_closure;
ALTER TABLE spec_descendants RENAME TO spec_closure;
ALTER INDEX spec_descendants_pkey RENAME TO spec_closure_pkey;
CREATE INDEX spec_closure_descendants_idx ON spec_closure USING gin (descendants) WITH (fastupdate = off);
DROP INDEX specs_full_hash_idx;
CREATE INDEX specs_full_hash_idx ON specs USING hash (full_hash);

-- +goose Down
DROP INDEX specs_full_hash_idx;
CREATE INDEX specs_full_hash_idx ON specs (full_hash, spack_version);
CREATE TABLE spec_pairs (
    ancestor   bigint NOT NULL,
    descendant bigint NOT NULL,
    PRIMARY KEY (descendant, ancestor)
);
INSERT INTO spec_pairs (ancestor, descendant)
SELECT c.ancestor, d.descendant FROM spec_closure c CROSS JOIN LATERAL unnest(c.descendants) AS d(descendant);
DROP TABLE spec_closure;
ALTER TABLE spec_pairs RENAME TO spec_closure;
ALTER INDEX spec_pairs_pkey RENAME TO spec_closure_pkey;
CREATE INDEX spec_closure_ancestor_idx ON spec_closure (ancestor, descendant);
