// Package closuresql keeps spec_closure, every (ancestor, descendant) pair of the spec
// DAGs, the same way on PostgreSQL and SQLite. SQLite keeps a row per pair; PostgreSQL a
// row per ancestor with an array of its descendants, which its store writes with the
// same plan.
//
// A spec's dependencies are written once and never change, so the pairs of a spec are its
// direct dependencies plus the pairs of each of them: one index range per dependency, no
// walk of the stored DAGs. A write's own pairs are worked out from its document and
// inserted in one statement (Document); a stub filled by the write already has ancestors,
// which gain its new descendants in a non-recursive statement (StubsPropagate).
package closuresql

import "github.com/spackmon/spackmon/services/ingest/store/internal/specplan"

// In is how a store says that column is one of the specs whose dependencies were just
// written, or (negated) none of them.
type In func(column string) string

// DocumentPairs is the closure of a write's new parents worked out from its document, so
// a store inserts it in one statement instead of one per level. Keys are the specs the
// pairs name; a pair holds 1-based positions in Keys.
type DocumentPairs struct {
	Keys []specplan.Key
	// Within are (ancestor, descendant) pairs reached through the edges being written.
	Within [][2]int64
	// Frontier are (ancestor, spec) pairs where the write stores no edges of the spec (a
	// leaf, a stub, or a spec stored before): the ancestor also takes its stored pairs.
	Frontier [][2]int64
}

// Document walks down from each parent of edges through the parents of edges only: their
// dependencies are what this write stores. A spec reached that is not one of them has its
// dependencies stored already (or none), so it is a frontier whose stored pairs are taken,
// whatever the document says below it.
func Document(edges []specplan.Edge) DocumentPairs {
	children := map[specplan.Key][]specplan.Key{}
	var parents []specplan.Key
	for _, e := range edges {
		if _, ok := children[e.Parent]; !ok {
			parents = append(parents, e.Parent)
		}
		children[e.Parent] = append(children[e.Parent], e.Child)
	}
	var out DocumentPairs
	pos := map[specplan.Key]int64{}
	at := func(k specplan.Key) int64 {
		if i, ok := pos[k]; ok {
			return i
		}
		out.Keys = append(out.Keys, k)
		pos[k] = int64(len(out.Keys))
		return pos[k]
	}
	for _, parent := range parents {
		p := at(parent)
		reached := map[specplan.Key]bool{parent: true}
		stack := append([]specplan.Key(nil), children[parent]...)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if reached[k] {
				continue
			}
			reached[k] = true
			pair := [2]int64{p, at(k)}
			out.Within = append(out.Within, pair)
			if _, isParent := children[k]; !isParent {
				out.Frontier = append(out.Frontier, pair)
			}
			stack = append(stack, children[k]...)
		}
	}
	return out
}

// StubsPropagate gives the ancestors of the filled stubs among the specs parents yields
// (as column id: those with an ancestor outside them, stored before) everything now below
// them. A spec new in this write has only ancestors among the parents, complete already
// (Document), so it costs a look at those. What is below a filled stub is walked down
// spec_dependencies rather than read from spec_closure: a stub may reach another filled
// stub of the same write through a spec stored before, whose pairs to that stub's new
// descendants do not exist yet, and a chain of any length is covered in one statement.
// CROSS JOIN keeps below as the outer loop: without statistics SQLite would otherwise read
// all of spec_closure against a bloom filter of below, on every write of a spec.
func StubsPropagate(parents string, notIn In) string {
	return stubsBelow(parents, notIn) + `
INSERT INTO spec_closure (ancestor, descendant)
SELECT up.ancestor, below.id
FROM below CROSS JOIN spec_closure up ON up.descendant = below.top
WHERE true
ON CONFLICT DO NOTHING`
}

// StubsPropagateCount counts the pairs StubsPropagate would try to add, up to the
// expression limit: the walk stops there, so a refused write costs no more than that.
func StubsPropagateCount(parents string, notIn In, limit string) string {
	return stubsBelow(parents, notIn) + `
SELECT count(*) FROM (
  SELECT 1 FROM below CROSS JOIN spec_closure up ON up.descendant = below.top LIMIT ` + limit + `)`
}

func stubsBelow(parents string, notIn In) string {
	return `
WITH RECURSIVE filled(id) AS (
  SELECT f.id FROM (` + parents + `) AS f
  WHERE EXISTS (SELECT 1 FROM spec_closure o WHERE o.descendant = f.id AND ` + notIn("o.ancestor") + `)),
` + BelowFilled
}

// BelowFilled is the recursive CTE below(top, id): every spec below each spec of the CTE
// filled, walked down spec_dependencies.
const BelowFilled = `below(top, id) AS (
  SELECT d.spec_id, d.dep_id FROM filled JOIN spec_dependencies d ON d.spec_id = filled.id
  UNION
  SELECT below.top, d.dep_id FROM below JOIN spec_dependencies d ON d.spec_id = below.id)`
