package postgres

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
)

// BuildsStatement is the statement ListBuilds runs for q, so that a benchmark can run it
// without probePlan.
func (s *Store) BuildsStatement(ctx context.Context, q store.BuildQuery) (string, []any, error) {
	_, err := readsql.ResolveDependency(ctx, &q, s.matchConstraint)
	sql, args := reads.ListBuilds(q)
	return sql, args, err
}

// SpecsStatement is the statement ListSpecs runs for q, like BuildsStatement.
func (s *Store) SpecsStatement(ctx context.Context, q store.SpecQuery) (string, []any, error) {
	_, err := readsql.ResolveDependsOn(ctx, &q, s.matchConstraint)
	sql, args := reads.ListSpecs(q)
	return sql, args, err
}

// SlowPhaseEvents reads every event of phase phaseID as ListEvents does, with a statement
// for the events that takes at least pause, so that a test can change the phase between
// that statement and the read of the log.
func (s *Store) SlowPhaseEvents(ctx context.Context, phaseID int64, pause time.Duration) ([]store.PhaseEvent, error) {
	query, args := reads.PhaseEvents(phaseID, "", math.MinInt32, 0, 1000)
	slow := `WITH p AS MATERIALIZED (SELECT pg_sleep(` + strconv.FormatFloat(pause.Seconds(), 'f', 3, 64) + `))
SELECT x.* FROM p, (` + query + `) x ORDER BY x.line_no, x.id`
	return s.phaseEvents(ctx, phaseID, "build", nil, slow, args...)
}
