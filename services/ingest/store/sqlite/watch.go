package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// BuildChanges reads the build's row before its phases: a phase stored in between has a
// revision above the build's read, so it is either read now or announced later, never
// passed over by a watcher's cursor.
func (s *Store) BuildChanges(ctx context.Context, buildID, after int64, limit int, hold store.LogHold) (store.BuildChanges, error) {
	var c store.BuildChanges
	err := rows.ScanBuildRevision(s.db.Read.QueryRowContext(ctx, reads.BuildRevision(), buildID), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return c, rows.BuildNotFound(buildID)
	}
	if err != nil {
		return c, wrap("build changes", err)
	}
	rs, err := s.db.Read.QueryContext(ctx, reads.ChangedPhases(), buildID, after, limit)
	if err != nil {
		return c, wrap("build changes", err)
	}
	phases, err := collect(rs, rows.ChangedPhases())
	if err != nil {
		return c, wrap("build changes", err)
	}
	err = rows.AddPhaseChanges(&c, phases, func(phaseID int64) ([]store.PhaseEvent, error) {
		return s.phaseEvents(ctx, phaseID, "", hold, reads.PhaseErrors(), phaseID)
	})
	return c, wrap("build changes", err)
}
