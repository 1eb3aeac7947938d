package readsql

import (
	"github.com/spackmon/spackmon/services/ingest/store"
)

// PrunableBuilds selects a batch of builds past their age (rows.PrunedBuilds): $1 the id
// to continue after, $2 the cut-off of builds, $3 that of failed ones, $4 the batch size.
// The newest build of each spec is never one of them.
func (s *SQL) PrunableBuilds() string {
	return `
SELECT b.id, s.name, s.full_hash, b.status, b.created_at
FROM builds b JOIN specs s ON s.id = b.spec_id
WHERE b.id > ` + s.param(1) + ` AND b.created_at < ` + s.param(2) + `
  AND (b.status <> '` + store.StatusFailed + `' OR b.created_at < ` + s.param(3) + `)
  AND EXISTS (SELECT 1 FROM builds n WHERE n.spec_id = b.spec_id AND n.id > b.id)
ORDER BY b.id LIMIT ` + s.param(4)
}

// DeleteBuilds deletes the builds whose ids are the set $1.
func (s *SQL) DeleteBuilds() string {
	return `DELETE FROM builds WHERE id IN (` + s.idSet(s.param(1)) + `)`
}

// PrunableLogs selects a batch of phase logs past their age (rows.PrunedLogs): $1 the
// phase id to continue after, $2 the cut-off, $3 the batch size. held is the dialect's
// condition that a phase holds its output, as its partial index writes it.
func (s *SQL) PrunableLogs(held string) string {
	return `
SELECT p.id, p.build_id, p.name, length(p.output)
FROM phases p
WHERE ` + held + ` AND p.updated_at < ` + s.param(2) + ` AND p.id > ` + s.param(1) + `
ORDER BY p.id LIMIT ` + s.param(3)
}

// DropLogs drops the outputs of the phases whose ids are the set $1; pruned is the
// dialect's true.
func (s *SQL) DropLogs(pruned string) string {
	return `UPDATE phases SET output = NULL, output_null = ` + pruned + `, output_pruned = ` + pruned +
		` WHERE id IN (` + s.idSet(s.param(1)) + `)`
}

// PruneLimit is the batch size of q, bounded by store.MaxPruneBatch.
func PruneLimit(q store.PruneQuery) int {
	if q.Limit <= 0 || q.Limit > store.MaxPruneBatch {
		return store.MaxPruneBatch
	}
	return q.Limit
}
