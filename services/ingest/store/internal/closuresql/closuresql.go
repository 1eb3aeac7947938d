// Package closuresql writes the statements that keep spec_closure, every (ancestor,
// descendant) pair of the spec DAGs, on PostgreSQL and SQLite.
//
// A spec's dependencies are written once and never change, so the pairs of a spec are its
// direct dependencies plus the pairs of each of them: one index range per dependency, no
// walk of the stored DAGs. Within a write the dependencies must hold their pairs first:
// SQLite extends the closure level by level, leaves first (Levels, Own); PostgreSQL, where
// each statement of a batch costs its planning, works the write's pairs out from the
// document and inserts them at once (Document). A stub filled by the write already has
// ancestors; they gain its new descendants in a non-recursive statement (Propagate,
// StubsPropagate).
package closuresql

import (
	"maps"
	"slices"

	"github.com/spackmon/spackmon/services/ingest/store/internal/specplan"
)

// In is how a store says that column is one of the specs whose dependencies were just
// written: a condition the planner must answer from an index on column, whatever the
// size of the tables (PostgreSQL would otherwise hash a whole table for a semi-join).
type In func(column string) string

// Own is the statement that adds the pairs of the specs in: each spec's edges and its
// dependencies' pairs.
func Own(in In) string {
	return `
INSERT INTO spec_closure (ancestor, descendant)
SELECT d.spec_id, d.dep_id FROM spec_dependencies d
WHERE ` + in("d.spec_id") + `
UNION
SELECT d.spec_id, c.descendant FROM spec_dependencies d JOIN spec_closure c ON c.ancestor = d.dep_id
WHERE ` + in("d.spec_id") + `
ON CONFLICT DO NOTHING`
}

// Propagate is the statement that gives every ancestor of the specs in the descendants
// those specs have now. A spec new in this write has no ancestors yet, so it costs one
// index probe; a filled stub costs its ancestors times its descendants.
//
// Stores run it once per level, after Own: no spec of a level reaches another of it, so
// no ancestor it gives is one another spec of the level should have given more to.
func Propagate(in In) string {
	return `
INSERT INTO spec_closure (ancestor, descendant)
SELECT up.ancestor, down.descendant
FROM spec_closure up JOIN spec_closure down ON down.ancestor = up.descendant
WHERE ` + in("up.descendant") + `
ON CONFLICT DO NOTHING`
}

// Levels groups the parents of edges so that none of a group reaches another of it in the
// document (shape: all its edges, edges included), and a group's dependencies that are
// parents are in earlier groups. Levels are counted in the whole document, so a parent
// reaching another through a spec whose edges were stored before is still above it.
func Levels(edges, shape []specplan.Edge) [][]specplan.Key {
	children := map[specplan.Key][]specplan.Key{}
	for _, e := range shape {
		children[e.Parent] = append(children[e.Parent], e.Child)
	}
	for _, e := range edges {
		if !slices.Contains(children[e.Parent], e.Child) {
			children[e.Parent] = append(children[e.Parent], e.Child)
		}
	}
	level := map[specplan.Key]int{}
	byLevel := map[int][]specplan.Key{}
	seen := map[specplan.Key]bool{}
	for _, e := range edges {
		if seen[e.Parent] {
			continue
		}
		seen[e.Parent] = true
		l := levelOf(e.Parent, children, level, map[specplan.Key]bool{})
		byLevel[l] = append(byLevel[l], e.Parent)
	}
	var levels [][]specplan.Key
	for _, l := range slices.Sorted(maps.Keys(byLevel)) {
		levels = append(levels, byLevel[l])
	}
	return levels
}

// levelOf is 0 for a spec none of whose dependencies have dependencies in the document,
// else one more than the highest of theirs. onPath breaks a cycle, which a spec document
// should not have but a client may send: the edge closing it counts as a leaf.
func levelOf(k specplan.Key, children map[specplan.Key][]specplan.Key, level map[specplan.Key]int, onPath map[specplan.Key]bool) int {
	if l, ok := level[k]; ok {
		return l
	}
	onPath[k] = true
	l := 0
	for _, c := range children[k] {
		if _, hasChildren := children[c]; !hasChildren || onPath[c] {
			continue
		}
		if cl := levelOf(c, children, level, onPath) + 1; cl > l {
			l = cl
		}
	}
	onPath[k] = false
	level[k] = l
	return l
}
