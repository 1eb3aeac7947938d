package readsql

import (
	"context"
	"strconv"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// MaxConstraintSpecs bounds how many stored specs a dependency constraint may match: the
// ids travel as one parameter of the DAG walk, and a constraint broader than this is better
// narrowed by its asker than answered.
const MaxConstraintSpecs = 100_000

// WithIDSet tells the statements how the dialect passes a set of ids as one parameter:
// set is the subquery that yields the ids of the parameter param, encode the argument's
// value. Unless WithDependents says otherwise, spec_closure is read as a row per pair.
func (s *SQL) WithIDSet(set func(param string) string, encode func(ids []int64) any) *SQL {
	s.idSet, s.encodeIDs = set, encode
	if s.dependents == nil {
		s.dependents = s.pairDependents
	}
	return s
}

// WithDependents tells the statements how the dialect reads spec_closure: cond is the
// condition that column is the id of a spec depending on one of the ids of the parameter
// param (encoded by WithIDSet's encode), probing column's descendants when probe is set.
func (s *SQL) WithDependents(cond func(column, param string, probe bool) string) *SQL {
	s.dependents = cond
	return s
}

// pairDependents reads spec_closure kept as a row per (ancestor, descendant) pair: the
// ancestors of ids, or for a large set of ids whether column's descendants meet them.
func (s *SQL) pairDependents(column, param string, probe bool) string {
	set := s.idSet(param)
	if probe {
		return `EXISTS (SELECT 1 FROM spec_closure sc WHERE sc.ancestor = ` + column + ` AND sc.descendant IN (` + set + `))`
	}
	return column + ` IN (SELECT ancestor FROM spec_closure WHERE descendant IN (` + set + `))`
}

// ConstraintCandidates reads the specs of package $1 that a constraint is matched against
// (rows.Candidates): id, version, parameters and compiler. Stubs have no version to match.
func (s *SQL) ConstraintCandidates() string {
	return `
SELECT s.id, s.version, COALESCE(s.parameters, ''), COALESCE(c.name, ''), COALESCE(c.version, '')
FROM specs s LEFT JOIN compilers c ON c.id = s.compiler_id
WHERE s.name = ` + s.param(1) + ` AND NOT s.stub`
}

// MatchConstraint keeps the ids of the candidates that satisfy c, refusing a constraint that
// matches more than MaxConstraintSpecs.
func MatchConstraint(c *spackspec.Constraint, candidates []rows.Candidate) ([]int64, error) {
	var ids []int64
	for _, cand := range candidates {
		if c.Matches(cand.Version, []byte(cand.Parameters), cand.CompilerName, cand.CompilerVersion) {
			ids = append(ids, cand.ID)
		}
	}
	if len(ids) > MaxConstraintSpecs {
		return nil, errs.New(errs.BadRequest, "%s matches more than %d specs: narrow it", c, MaxConstraintSpecs)
	}
	return ids, nil
}

// ProbeDependentsAbove is how many matching specs make the dependency filter probe the
// descendants of each candidate row instead of collecting every dependent of the matching
// specs. A constraint that many specs satisfy is one that most rows satisfy: read in the
// page's order, the page fills after a few probes, where collecting would gather every
// dependent (98,000 specs for a leaf package in BenchmarkDependencyQuery). A rarer one
// has few dependents, which one index range per matching spec collects at once, where
// probing would read many rows that do not match before the page fills.
const ProbeDependentsAbove = 1000

// Probes tells whether a dependency filter on the specs ids probes each row's descendants.
func Probes(ids []int64) bool { return len(ids) > ProbeDependentsAbove }

// dependentsOf is the condition that column is the id of a spec that depends, at any depth of
// the DAG, on one of the specs ids, read from spec_closure.
func (w *where) dependentsOf(column string, ids []int64) {
	w.conds = append(w.conds, w.sql.dependents(column, w.arg(w.sql.encodeIDs(ids)), Probes(ids)))
}

// BuildDAG reads the DAG of build $1's spec (rows.DAGNodes): every node once, at its
// fewest edges from the root, cut at store.MaxDAGNodes+1 nodes. The walk stops at 100 edges,
// deeper than any Spack DAG, so that a cycle in bad data cannot run away.
func (s *SQL) BuildDAG() string {
	return `
WITH RECURSIVE down(id, depth) AS (
  SELECT spec_id, 0 FROM builds WHERE id = ` + s.param(1) + `
  UNION
  SELECT d.dep_id, down.depth + 1 FROM spec_dependencies d JOIN down ON d.spec_id = down.id
  WHERE down.depth < 100
), nearest AS (SELECT id, MIN(depth) AS depth FROM down GROUP BY id)
SELECT sp.name, sp.version, sp.full_hash,
       COALESCE(c.name || CASE WHEN c.version = '' THEN '' ELSE '@' || c.version END, ''),
       COALESCE(sp.parameters, ''), n.depth
FROM nearest n JOIN specs sp ON sp.id = n.id LEFT JOIN compilers c ON c.id = sp.compiler_id
ORDER BY n.depth, sp.name, sp.id
LIMIT ` + strconv.Itoa(store.MaxDAGNodes+1)
}

// Matcher finds the stored specs that satisfy a constraint, the dialect's way.
type Matcher func(ctx context.Context, c *spackspec.Constraint) ([]int64, error)

// ResolveDependency fills q.DependencyIDs with match; false when no stored spec satisfies
// the constraint, so that no build can match.
func ResolveDependency(ctx context.Context, q *store.BuildQuery, match Matcher) (bool, error) {
	if q.Dependency == nil {
		return true, nil
	}
	var err error
	q.DependencyIDs, err = match(ctx, q.Dependency)
	return len(q.DependencyIDs) > 0, err
}

// ResolveDependsOn fills q.DependsOnIDs, like ResolveDependency.
func ResolveDependsOn(ctx context.Context, q *store.SpecQuery, match Matcher) (bool, error) {
	if q.DependsOn == nil {
		return true, nil
	}
	var err error
	q.DependsOnIDs, err = match(ctx, q.DependsOn)
	return len(q.DependsOnIDs) > 0, err
}
