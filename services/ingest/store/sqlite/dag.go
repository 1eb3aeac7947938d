package sqlite

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
	rs, err := s.db.Read.QueryContext(ctx, constraintCandidates, c.Name)
	if err != nil {
		return nil, wrap("match constraint", err)
	}
	candidates, err := collect(rs, rows.Candidates())
	if err != nil {
		return nil, wrap("match constraint", err)
	}
	return readsql.MatchConstraint(c, candidates)
}

// resolveDependency fills q.DependencyIDs; false when no stored spec satisfies the
// constraint, so that no build can match.
func (s *Store) resolveDependency(ctx context.Context, q *store.BuildQuery) (bool, error) {
	if q.Dependency == nil {
		return true, nil
	}
	var err error
	q.DependencyIDs, err = s.matchConstraint(ctx, q.Dependency)
	return len(q.DependencyIDs) > 0, err
}

// resolveDependsOn fills q.DependsOnIDs, like resolveDependency.
func (s *Store) resolveDependsOn(ctx context.Context, q *store.SpecQuery) (bool, error) {
	if q.DependsOn == nil {
		return true, nil
	}
	var err error
	q.DependsOnIDs, err = s.matchConstraint(ctx, q.DependsOn)
	return len(q.DependsOnIDs) > 0, err
}

var buildDAG = reads.BuildDAG()

// BuildDAG reads the DAG of a build's spec in one statement.
func (s *Store) BuildDAG(ctx context.Context, buildID int64) ([]store.DAGNode, error) {
	rs, err := s.db.Read.QueryContext(ctx, buildDAG, buildID)
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
