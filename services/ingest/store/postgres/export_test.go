package postgres

import (
	"context"

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
