-- spec_closure holds every (ancestor, descendant) pair of the spec DAGs, so that "which specs
-- depend on X at any depth" is one index range instead of a walk of spec_dependencies at
-- query time. Ingest keeps it in the transaction that writes a spec's dependencies. Specs
-- are never deleted, so there is no foreign key to pay for on every pair; a future deletion
-- of specs must delete their pairs too.

-- +goose Up
CREATE TABLE spec_closure (
    ancestor   bigint NOT NULL,
    descendant bigint NOT NULL,
    PRIMARY KEY (descendant, ancestor)
);
INSERT INTO spec_closure (ancestor, descendant)
WITH RECURSIVE pairs(ancestor, descendant) AS (
    SELECT spec_id, dep_id FROM spec_dependencies
    UNION
    SELECT p.ancestor, d.dep_id FROM pairs p JOIN spec_dependencies d ON d.spec_id = p.descendant
)
SELECT ancestor, descendant FROM pairs;
-- Keeping the table walks down from a spec through its descendants' pairs.
CREATE INDEX spec_closure_ancestor_idx ON spec_closure (ancestor, descendant);

-- +goose Down
DROP TABLE spec_closure;
