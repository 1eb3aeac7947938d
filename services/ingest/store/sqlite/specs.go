package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/closuresql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
	"github.com/spackmon/spackmon/services/ingest/store/internal/specplan"
)

// PutSpec answers a repeat upload from the reader pool, without waiting for the writer.
func (s *Store) PutSpec(ctx context.Context, spackVersion string, doc *spackspec.Document) (store.SpecResult, error) {
	plan, err := specplan.New(spackVersion, doc)
	if err != nil {
		return store.SpecResult{}, err
	}
	byKey, byHash := plan.Lookups()
	found, err := lookupSpecs(ctx, s.db.Read, spackVersion, byKey, byHash)
	if err != nil {
		return store.SpecResult{}, wrap("put spec", err)
	}
	if res := plan.Resolve(found); res.Complete() {
		return res.Answer(found, false)
	}
	var out store.SpecResult
	err = s.write(ctx, "put spec", func(tx *sql.Tx) error {
		var err error
		out, err = putSpec(ctx, tx, plan)
		return err
	})
	return out, err
}

func putSpec(ctx context.Context, tx *sql.Tx, plan *specplan.Plan) (store.SpecResult, error) {
	sv := plan.SpackVersion()
	byKey, byHash := plan.Lookups()
	found, err := lookupSpecs(ctx, tx, sv, byKey, byHash)
	if err != nil {
		return store.SpecResult{}, err
	}
	res := plan.Resolve(found)
	if res.Complete() { // another writer got there between the two looks
		return res.Answer(found, false)
	}
	written, err := writeSpecs(ctx, tx, sv, res.Writes())
	if err != nil {
		return store.SpecResult{}, err
	}
	answer, err := lookupSpecs(ctx, tx, sv, res.AnswerKeys(), nil)
	if err != nil {
		return store.SpecResult{}, err
	}
	return res.Answer(answer, res.WasWritten(written))
}

func lookupSpecs(ctx context.Context, q querier, spackVersion string, byKey, byHash []specplan.Key) ([]specplan.Row, error) {
	rs, err := q.QueryContext(ctx, `
SELECT s.id, s.name, s.full_hash, s.hash, s.version, s.stub, s.failed_concretization,
       EXISTS (SELECT 1 FROM spec_dependencies d WHERE d.spec_id = s.id)
FROM jsonb_each(?2) k
CROSS JOIN specs s ON s.name = k.value->>'n' AND s.full_hash = k.value->>'h' AND s.spack_version = ?1
UNION ALL
SELECT s.id, s.name, s.full_hash, s.hash, s.version, s.stub, s.failed_concretization,
       EXISTS (SELECT 1 FROM spec_dependencies d WHERE d.spec_id = s.id)
FROM jsonb_each(?3) k
CROSS JOIN specs s ON s.name = k.value->>'n' AND s.hash = k.value->>'h' AND s.spack_version = ?1 AND NOT s.stub`,
		spackVersion, jsonText(byKey), jsonText(byHash))
	if err != nil {
		return nil, err
	}
	return collect(rs, rows.PlanRows())
}

// jsonText is v as a JSON parameter; an empty list stays a list, so that json_each sees
// no rows rather than a null.
func jsonText[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types passed here always marshal
	}
	return string(b)
}

// writeSpecs writes what is missing and returns the keys of the spec rows it created or
// filled in. "WHERE true" keeps SQLite from reading ON CONFLICT as part of a join.
func writeSpecs(ctx context.Context, tx *sql.Tx, spackVersion string, w specplan.Writes) ([]specplan.Key, error) {
	steps := []struct {
		sql  string
		args []any
		skip bool
	}{
		{`
INSERT INTO targets (name, vendor, generation, features, parents)
SELECT value->>'name', value->>'vendor', value->>'generation', value->>'features', value->>'parents'
FROM jsonb_each(?) WHERE true
ON CONFLICT DO NOTHING`, []any{jsonText(w.Targets)}, len(w.Targets) == 0},
		// A target first seen as a bare name gets its details when a document has them.
		{`
UPDATE targets SET vendor = i.vendor, generation = i.generation, features = i.features, parents = i.parents
FROM (SELECT value->>'name' AS name, value->>'vendor' AS vendor, value->>'generation' AS generation,
             value->>'features' AS features, value->>'parents' AS parents FROM jsonb_each(?)) AS i
WHERE targets.name = i.name AND targets.vendor = '' AND i.vendor <> ''`, []any{jsonText(w.Targets)}, len(w.Targets) == 0},
		{`
INSERT INTO compilers (name, version)
SELECT value->>'name', value->>'version' FROM jsonb_each(?) WHERE true
ON CONFLICT DO NOTHING`, []any{jsonText(w.Compilers)}, len(w.Compilers) == 0},
		{`
INSERT INTO architectures (platform, platform_os, target_id)
SELECT j.value->>'platform', j.value->>'os', t.id
FROM jsonb_each(?) j JOIN targets t ON t.name = j.value->>'target' WHERE true
ON CONFLICT DO NOTHING`, []any{jsonText(w.Archs)}, len(w.Archs) == 0},
	}
	for _, st := range steps {
		if st.skip {
			continue
		}
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return nil, err
		}
	}

	var written []specplan.Key
	if len(w.Inserts) > 0 {
		keys, err := specKeys(ctx, tx, insertSpecsSQL, spackVersion, jsonText(w.Inserts), now())
		if err != nil {
			return nil, err
		}
		written = append(written, keys...)
	}
	// Stubs to fill are few, so one statement each, by key, beats a join that SQLite
	// would drive from the specs table.
	for _, sp := range w.Fills {
		keys, err := specKeys(ctx, tx, fillStubSQL, spackVersion, jsonText([]specplan.Spec{sp}))
		if err != nil {
			return nil, err
		}
		written = append(written, keys...)
	}
	if len(w.Edges) > 0 {
		if _, err := tx.ExecContext(ctx, insertEdgesSQL, spackVersion, jsonText(w.Edges)); err != nil {
			return nil, err
		}
		if err := extendClosure(ctx, tx, spackVersion, w.Edges, w.Inserts); err != nil {
			return nil, err
		}
	}
	return written, nil
}

func specKeys(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]specplan.Key, error) {
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rs, rows.Keys())
}

// specInputSQL is the specs of ?2 (specplan.Spec as JSON) as a relation, with their
// compiler and architecture ids.
const specInputSQL = `
(SELECT j.value->>'n' AS name, j.value->>'h' AS key, j.value->>'hash' AS hash,
        j.value->>'build_hash' AS build_hash, j.value->>'package_hash' AS package_hash,
        j.value->>'namespace' AS namespace, j.value->>'version' AS version,
        c.id AS compiler_id, a.id AS arch_id, j.value->>'parameters' AS parameters,
        j.value->>'failed' AS failed, j.value->>'stub' AS stub
 FROM jsonb_each(?2) j
 LEFT JOIN compilers c
        ON c.name = j.value->'compiler'->>'name' AND c.version = j.value->'compiler'->>'version'
 LEFT JOIN architectures a
        ON a.platform = j.value->'arch'->>'platform' AND a.platform_os = j.value->'arch'->>'os'
       AND a.target_id = (SELECT t.id FROM targets t WHERE t.name = j.value->'arch'->>'target'))`

const insertSpecsSQL = `
INSERT INTO specs (name, full_hash, spack_version, hash, build_hash, package_hash, namespace, version,
                   compiler_id, arch_id, parameters, failed_concretization, stub, created_at)
SELECT i.name, i.key, ?1, i.hash, i.build_hash, i.package_hash, i.namespace, i.version,
       i.compiler_id, i.arch_id, i.parameters, i.failed, i.stub, ?3
FROM ` + specInputSQL + ` AS i WHERE true
ON CONFLICT DO NOTHING
RETURNING name, full_hash`

// fillStubSQL completes the stub row of the one spec in ?2.
const fillStubSQL = `
UPDATE specs
SET (hash, build_hash, package_hash, namespace, version, compiler_id, arch_id, parameters,
     failed_concretization, stub) =
    (SELECT i.hash, i.build_hash, i.package_hash, i.namespace, i.version, i.compiler_id, i.arch_id,
            i.parameters, i.failed, 0
     FROM ` + specInputSQL + ` AS i)
WHERE stub AND (name, full_hash) = (SELECT value->>'n', value->>'h' FROM jsonb_each(?2)) AND spack_version = ?1
RETURNING name, full_hash`

const insertEdgesSQL = `
INSERT INTO spec_dependencies (spec_id, dep_id, types, position)
SELECT p.id, c.id, j.value->>'types', j.value->>'pos'
FROM jsonb_each(?2) j
CROSS JOIN specs p ON p.name = j.value->'p'->>'n' AND p.full_hash = j.value->'p'->>'h' AND p.spack_version = ?1
CROSS JOIN specs c ON c.name = j.value->'c'->>'n' AND c.full_hash = j.value->'c'->>'h' AND c.spack_version = ?1
WHERE true
ON CONFLICT DO NOTHING`

// extendClosure adds the spec_closure pairs of the edges just written: the parents' own,
// worked out from the document (closuresql.Document), then, when a parent was stored before
// this write (a filled stub, or a spec given its dependencies only now), its stored
// ancestors'. A parent inserted now had no row when putSpec looked in this transaction, so
// no stored edge or pair names it: its ancestors are the document's, whose pairs
// documentClosureSQL writes. Most writes, a new DAG above stored dependencies, skip the
// look.
func extendClosure(ctx context.Context, tx *sql.Tx, spackVersion string, edges []specplan.Edge, inserts []specplan.Spec) error {
	pairs := closuresql.Document(edges)
	keys, frontier := jsonText(pairs.Keys), jsonText(packPairs(pairs.Frontier))
	inserted := make(map[specplan.Key]bool, len(inserts))
	for _, sp := range inserts {
		inserted[sp.Key] = true
	}
	var parentKeys []specplan.Key
	older := false
	for _, e := range edges {
		if n := len(parentKeys); n == 0 || parentKeys[n-1] != e.Parent {
			parentKeys = append(parentKeys, e.Parent)
			older = older || !inserted[e.Parent]
		}
	}
	parents := ""
	if older {
		parents = jsonText(parentKeys)
	}
	if err := checkClosureSize(ctx, tx, spackVersion, keys, frontier, parents, len(pairs.Within)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, documentClosureSQL, spackVersion, keys, jsonText(packPairs(pairs.Within)), frontier); err != nil {
		return err
	}
	if !older {
		return nil
	}
	_, err := tx.ExecContext(ctx, propagateClosureSQL, spackVersion, parents)
	return err
}

// checkClosureSize refuses a write whose closure pairs, with those it copies from specs
// stored before (frontierCountSQL) and gives their stored ancestors (propagateCountSQL),
// pass store.MaxClosurePairs. The walk of the second stops at what is left of the limit;
// parents is "" when the write gives stored ancestors nothing (see extendClosure).
func checkClosureSize(ctx context.Context, tx *sql.Tx, spackVersion, keys, frontier, parents string, within int) error {
	room := store.MaxClosurePairs - within
	var n int
	if err := tx.QueryRowContext(ctx, frontierCountSQL, spackVersion, keys, frontier).Scan(&n); err != nil {
		return err
	}
	if n > room {
		// The count above adds up descendants two frontier specs share: count the pairs.
		if err := tx.QueryRowContext(ctx, frontierPairsSQL, spackVersion, keys, frontier, room+1).Scan(&n); err != nil {
			return err
		}
	}
	if room -= n; room >= 0 && parents != "" {
		if err := tx.QueryRowContext(ctx, propagateCountSQL, spackVersion, parents, room+1).Scan(&n); err != nil {
			return err
		}
		room -= n
	}
	if room < 0 {
		return errs.New(errs.BadRequest, "The spec would add more than %d pairs of a spec and one it depends on, "+
			"counting those it gives the specs stored above and below it", store.MaxClosurePairs)
	}
	return nil
}

// packPairs packs each pair of positions into one integer, first<<32 | second, which
// json_each yields as its value: a pair as a JSON array costs two JSON extractions per row,
// and a document has as many pairs as its DAG has paths between nodes. Positions are
// 1-based indexes into a document's specs, far below 2^32.
func packPairs(pairs [][2]int64) []int64 {
	out := make([]int64, len(pairs))
	for i, p := range pairs {
		out[i] = p[0]<<32 | p[1]
	}
	return out
}

// documentSpecsSQL is the CTE n(ord, id): the stored specs whose keys ?2 lists, by their
// 1-based place in it, as the packed pairs name them (packPairs).
const documentSpecsSQL = `n AS MATERIALIZED (
    SELECT j.key + 1 AS ord, s.id FROM jsonb_each(?2) j
    JOIN specs s ON s.name = j.value->>'n' AND s.full_hash = j.value->>'h' AND s.spack_version = ?1
)`

// documentClosureSQL inserts closuresql.DocumentPairs: the specs ?2 lists, the pairs
// within the document by position (?3), and the frontier ones (?4), packed by packPairs.
const documentClosureSQL = `
WITH ` + documentSpecsSQL + `
INSERT INTO spec_closure (ancestor, descendant)
SELECT a.id, d.id FROM jsonb_each(?3) p
JOIN n a ON a.ord = p.value >> 32 JOIN n d ON d.ord = p.value & 4294967295
UNION ALL
SELECT a.id, c.descendant FROM jsonb_each(?4) f
JOIN n a ON a.ord = f.value >> 32 JOIN n r ON r.ord = f.value & 4294967295
JOIN spec_closure c ON c.ancestor = r.id
WHERE true
ON CONFLICT DO NOTHING`

// frontierCountSQL bounds from above the pairs documentClosureSQL copies from the stored
// descendants of the frontier specs (?2 and ?3 are its ?2 and ?4): each frontier spec's
// descendants once, times the document's specs above it.
const frontierCountSQL = `
WITH ` + documentSpecsSQL + `
SELECT coalesce(sum(f.above * (SELECT count(*) FROM spec_closure c WHERE c.ancestor = r.id)), 0)
FROM (SELECT value & 4294967295 AS ord, count(*) AS above FROM jsonb_each(?3) GROUP BY 1) f
JOIN n r ON r.ord = f.ord`

// frontierPairsSQL counts, up to ?4, the distinct pairs documentClosureSQL copies from the
// stored descendants of the frontier specs: ?2 and ?3 are its ?2 and ?4. Dearer than
// frontierCountSQL, it runs only when that one passes the limit.
const frontierPairsSQL = `
WITH ` + documentSpecsSQL + `
SELECT count(*) FROM (
    SELECT DISTINCT a.id, c.descendant FROM jsonb_each(?3) f
    JOIN n a ON a.ord = f.value >> 32 JOIN n r ON r.ord = f.value & 4294967295
    JOIN spec_closure c ON c.ancestor = r.id
    LIMIT ?4)`

// closureParentsSQL is the ids of the specs whose keys ?2 lists.
const closureParentsSQL = `
SELECT p.id FROM jsonb_each(?2) j
JOIN specs p ON p.name = j.value->>'n' AND p.full_hash = j.value->>'h' AND p.spack_version = ?1`

var (
	notParent           = func(column string) string { return column + ` NOT IN (` + closureParentsSQL + `)` }
	propagateClosureSQL = closuresql.StubsPropagate(closureParentsSQL, notParent)
	propagateCountSQL   = closuresql.StubsPropagateCount(closureParentsSQL, notParent, "?3")
)

// GetSpec prefers a spec whose full hash is hash over one whose DAG hash is.
func (s *Store) GetSpec(ctx context.Context, hash, spackVersion string) (store.Spec, error) {
	q, args := reads.GetSpec(hash, spackVersion)
	sp, err := rows.Specs(parseTime).Scan(s.db.Read.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Spec{}, rows.NoSpec(hash)
	}
	if err != nil {
		return store.Spec{}, wrap("get spec", err)
	}
	if sp.Deps, err = s.links(ctx, reads.SpecDeps, sp.ID); err != nil {
		return store.Spec{}, err
	}
	if sp.Dependents, err = s.links(ctx, reads.SpecDependents, sp.ID); err != nil {
		return store.Spec{}, err
	}
	return sp, nil
}

func (s *Store) links(ctx context.Context, query string, id int64) ([]store.SpecLink, error) {
	rs, err := s.db.Read.QueryContext(ctx, query, id)
	if err != nil {
		return nil, wrap("spec links", err)
	}
	links, err := collect(rs, rows.Links())
	if links == nil && err == nil {
		links = []store.SpecLink{}
	}
	return links, wrap("spec links", err)
}

// ListSpecs lists specs by id, each with its dependencies.
func (s *Store) ListSpecs(ctx context.Context, q store.SpecQuery) ([]store.Spec, error) {
	if ok, err := readsql.ResolveDependsOn(ctx, &q, s.matchConstraint); !ok || err != nil {
		return nil, err
	}
	query, args := reads.ListSpecs(q)
	rs, err := s.db.Read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap("list specs", err)
	}
	specs, err := collect(rs, rows.Specs(parseTime))
	if err != nil || len(specs) == 0 {
		return specs, wrap("list specs", err)
	}
	ids := make([]int64, len(specs))
	for i, sp := range specs {
		ids[i] = sp.ID
	}
	set, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rs, err = s.db.Read.QueryContext(ctx, specDepsOf, string(set))
	if err != nil {
		return nil, wrap("list spec dependencies", err)
	}
	deps, err := collect(rs, rows.OwnedLinks())
	if err != nil {
		return nil, wrap("list spec dependencies", err)
	}
	rows.AttachDeps(specs, deps)
	return specs, nil
}

// The dependencies of a set of specs, passed as a JSON array of ids.
var specDepsOf = readsql.SpecDepsOf(`SELECT value FROM json_each(?1)`)
