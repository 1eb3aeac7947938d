package postgres

import (
	"context"

	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

var constraintCandidates = reads.ConstraintCandidates()

// matchConstraint finds the stored specs that satisfy c. Version ranges and variants are
// matched here rather than in SQL: Spack's version order is not the database's.
func (s *Store) matchConstraint(ctx context.Context, c *spackspec.Constraint) ([]int64, error) {
	rs, err := s.pool.Query(ctx, constraintCandidates, c.Name)
	if err != nil {
		return nil, wrap("match constraint", err)
	}
	candidates, err := collect(rs, rows.Candidates())
	if err != nil {
		return nil, wrap("match constraint", err)
	}
	return readsql.MatchConstraint(c, candidates)
}

var buildDAG = reads.BuildDAG()

// BuildDAG reads the DAG of a build's spec in one statement.
func (s *Store) BuildDAG(ctx context.Context, buildID int64) ([]store.DAGNode, error) {
	rs, err := s.pool.Query(ctx, buildDAG, buildID)
	if err != nil {
		return nil, wrap("build dag", err)
	}
	nodes, err := collect(rs, rows.DAGNodes())
	if err != nil {
		return nil, wrap("build dag", err)
	}
	if len(nodes) == 0 {
		return nil, rows.BuildNotFound(buildID)
	}
	return nodes, nil
}
