package readsql

import "github.com/spackmon/spackmon/services/ingest/store/internal/rows"

// BuildRevision reads revision, status and status_revision of build $1.
func (q *SQL) BuildRevision() string {
	return `SELECT revision, status, status_revision FROM builds WHERE id = ` + q.param(1)
}

// ChangedPhases reads the phases of build $1 stored after revision $2, oldest change first,
// at most $3 (rows.ChangedPhases).
func (q *SQL) ChangedPhases() string {
	return `
SELECT id, revision, name, status, output_bytes, error_count, warning_count, errors_total, warnings_total
FROM phases WHERE build_id = ` + q.param(1) + ` AND revision > ` + q.param(2) + `
ORDER BY revision LIMIT ` + q.param(3)
}

// PhaseErrors reads the error events of phase $1 in line order (rows.Events).
func (q *SQL) PhaseErrors() string {
	return rows.EventColumns + ` WHERE e.phase_id = ` + q.param(1) + ` AND e.kind = 'error' ORDER BY e.line_no, e.id`
}
