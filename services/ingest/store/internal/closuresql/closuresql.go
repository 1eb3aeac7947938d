// Package closuresql writes the statements that keep spec_closure, every (ancestor,
// descendant) pair of the spec DAGs, the same on PostgreSQL and SQLite.
//
// A spec's dependencies are written once and never change, so the pairs of a spec are its
// direct dependencies plus the pairs of each of them: one index range per dependency, no
// walk. The dependencies must hold their pairs first, so a write extends the closure level
// by level, leaves first (Levels). A stub filled by the write already has ancestors; they
// gain its new descendants in a second, non-recursive statement (Propagate).
package closuresql

import "github.com/spackmon/spackmon/services/ingest/store/internal/specplan"

// Own is the statement that adds the pairs of the specs that parents yields (as column
// id): each spec's edges and its dependencies' pairs.
func Own(parents string) string {
	return `
INSERT INTO spec_closure (ancestor, descendant)
SELECT d.spec_id, d.dep_id FROM spec_dependencies d
WHERE d.spec_id IN (` + parents + `)
UNION
SELECT d.spec_id, c.descendant FROM spec_dependencies d JOIN spec_closure c ON c.ancestor = d.dep_id
WHERE d.spec_id IN (` + parents + `)
ON CONFLICT DO NOTHING`
}

// Propagate is the statement that gives every ancestor of the specs parents yields the
// descendants those specs have now. A spec new in this write has no ancestors yet, so it
// costs one index probe; a filled stub costs its ancestors times its descendants.
//
// Stores run it for one spec at a time, after Own for its level: two filled stubs of one
// level may reach each other through a spec stored earlier, and the second must see the
// ancestors the first one's statement gave it.
func Propagate(parents string) string {
	return `
INSERT INTO spec_closure (ancestor, descendant)
SELECT up.ancestor, down.descendant
FROM spec_closure up JOIN spec_closure down ON down.ancestor = up.descendant
WHERE up.descendant IN (` + parents + `)
ON CONFLICT DO NOTHING`
}

// Levels groups the parents of edges so that each group's dependencies among the parents
// are all in earlier groups: a parent whose dependencies have no edges of their own in
// this write is in the first group. Within a group, parents keep the order of edges.
func Levels(edges []specplan.Edge) [][]specplan.Key {
	children := map[specplan.Key][]specplan.Key{}
	var parents []specplan.Key
	for _, e := range edges {
		if _, ok := children[e.Parent]; !ok {
			parents = append(parents, e.Parent)
		}
		children[e.Parent] = append(children[e.Parent], e.Child)
	}
	level := make(map[specplan.Key]int, len(parents))
	var levels [][]specplan.Key
	for _, p := range parents {
		l := levelOf(p, children, level, map[specplan.Key]bool{})
		for len(levels) <= l {
			levels = append(levels, nil)
		}
		levels[l] = append(levels[l], p)
	}
	return levels
}

// levelOf is 0 for a parent none of whose dependencies are parents, else one more than
// the highest of theirs. onPath breaks a cycle, which a spec document should not have
// but a client may send: the edge closing it counts as a leaf.
func levelOf(k specplan.Key, children map[specplan.Key][]specplan.Key, level map[specplan.Key]int, onPath map[specplan.Key]bool) int {
	if l, ok := level[k]; ok {
		return l
	}
	onPath[k] = true
	l := 0
	for _, c := range children[k] {
		if _, isParent := children[c]; !isParent || onPath[c] {
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
