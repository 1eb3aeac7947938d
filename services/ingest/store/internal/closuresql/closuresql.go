// Package closuresql writes the statement that keeps spec_closure, every (ancestor,
// descendant) pair of the spec DAGs, the same on PostgreSQL and SQLite.
package closuresql

// Extend is the statement that adds to spec_closure the pairs that the dependencies just
// written for some specs make: parents is a subquery yielding, as column id, the specs whose
// dependencies were written in the same transaction.
//
// Only those specs and their ancestors gain pairs (a spec's dependencies are usually written
// with it, before it has ancestors; a stub's come later, when its ancestors exist). Each of
// them is walked down the edges while the walk stays among them, and past that takes the
// pairs of the spec it reached, which are complete already: so a new DAG costs its own
// pairs, not a walk of every stored DAG below it.
func Extend(parents string) string {
	return `
INSERT INTO spec_closure (ancestor, descendant)
WITH RECURSIVE changed(id) AS (
    SELECT id FROM (` + parents + `) AS parents
    UNION
    SELECT d.spec_id FROM spec_dependencies d JOIN changed c ON d.dep_id = c.id
), reach(ancestor, descendant) AS (
    SELECT d.spec_id, d.dep_id FROM spec_dependencies d WHERE d.spec_id IN (SELECT id FROM changed)
    UNION
    SELECT r.ancestor, d.dep_id FROM reach r JOIN spec_dependencies d ON d.spec_id = r.descendant
    WHERE r.descendant IN (SELECT id FROM changed)
)
SELECT ancestor, descendant FROM reach
UNION
SELECT r.ancestor, c.descendant FROM reach r JOIN spec_closure c ON c.ancestor = r.descendant
WHERE r.descendant NOT IN (SELECT id FROM changed)
ON CONFLICT DO NOTHING`
}
