package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

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

// probePlan is how a list whose dependency filter probes (readsql.Probes) is planned,
// measured with BenchmarkDependencyQuery. A custom plan every time: after five runs of a
// prepared statement PostgreSQL may switch to a generic plan, which takes the set of
// matching specs for ten rows and so collects and sorts the 98,000 dependents of 2,000
// specs where the page needs 100. No parallel workers: the early-stopping scan reads a few
// thousand rows, which workers starting on a busy host made seven times slower.
const probePlan = `SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
       set_config('max_parallel_workers_per_gather', '0', true)`

// list runs a list statement and reads its rows with read; one that probes runs in a
// read-only transaction planned by probePlan.
func (s *Store) list(ctx context.Context, probes bool, sql string, args []any, read func(pgx.Rows) error) error {
	if !probes {
		rs, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		return read(rs)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, probePlan); err != nil {
			return err
		}
		rs, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		return read(rs)
	})
}
