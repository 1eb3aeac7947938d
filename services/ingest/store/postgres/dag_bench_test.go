package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
)

// seedStacks fills the schema with 100,000 specs, each built once: 2,000 stacks of 50
// packages (pkg-0 the root … pkg-49 a leaf), node j depending on j+1, j+2 and j+7 of its
// stack, so every root reaches its whole stack. pkg-j's version is j.(stack%20).(stack/20%5),
// its compiler gcc or clang by stack, +mpi on every third stack.
const seedStacks = `
INSERT INTO compilers (name, version) VALUES ('gcc', '11.3.0'), ('clang', '14.0.0');
INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
VALUES ('bench', '6.1', 'debian12', 'skylake', 'linux');
INSERT INTO specs (name, spack_version, full_hash, version, compiler_id, parameters)
SELECT 'pkg-' || (i % 50), '0.21.0', md5(i::text),
       (i % 50) || '.' || ((i / 50) % 20) || '.' || ((i / 1000) % 5),
       (SELECT id FROM compilers WHERE name = CASE WHEN (i / 50) % 2 = 0 THEN 'gcc' ELSE 'clang' END),
       '{"mpi":' || CASE WHEN (i / 50) % 3 = 0 THEN 'true' ELSE 'false' END || '}'
FROM generate_series(0, 99999) i ORDER BY i;
INSERT INTO spec_dependencies (spec_id, dep_id, types, position)
SELECT p.id, c.id, 'build,link', e.k
FROM generate_series(0, 99999) i CROSS JOIN (VALUES (1), (2), (7)) AS e(k)
JOIN specs p ON p.full_hash = md5(i::text)
JOIN specs c ON c.full_hash = md5((i + e.k)::text)
WHERE i % 50 + e.k < 50;
INSERT INTO builds (spec_id, env_id, owner, owner_key, status, created_at, updated_at)
SELECT s.id, (SELECT id FROM build_environments), 'bench', 'bench',
       CASE WHEN s.id % 10 = 0 THEN 'FAILED' ELSE 'SUCCESS' END, now(), now()
FROM specs s;
ANALYZE;`

// fillClosure gives the seeded specs their spec_closure rows, as migrations 00010 and 00012
// do for the specs stored before them: the seed writes spec_dependencies directly, not
// through PutSpec, which keeps the table. VACUUM sets the visibility map that index-only
// scans of the table need, as autovacuum does on a server.
const fillClosure = `
INSERT INTO spec_closure (ancestor, descendants)
WITH RECURSIVE pairs(ancestor, descendant) AS (
  SELECT spec_id, dep_id FROM spec_dependencies
  UNION
  SELECT p.ancestor, d.dep_id FROM pairs p JOIN spec_dependencies d ON d.spec_id = p.descendant)
SELECT ancestor, array_agg(descendant ORDER BY descendant) FROM pairs GROUP BY ancestor`

// The ways of answering "builds of $2 that depend on one of the specs $1": recursive walks
// up the edges, and a look-up in the closure table (the store's way).
const (
	buildsByWalk = `
SELECT b.id FROM builds b JOIN specs s ON s.id = b.spec_id
WHERE s.name = $2 AND b.spec_id IN (
  WITH RECURSIVE up(id) AS (
    SELECT d.spec_id FROM spec_dependencies d WHERE d.dep_id IN (SELECT unnest(CAST($1 AS bigint[])))
    UNION
    SELECT d.spec_id FROM spec_dependencies d JOIN up ON d.dep_id = up.id)
  SELECT id FROM up)
ORDER BY b.id DESC LIMIT 100`
	// buildsByLateralWalk is the walk with each step an index probe per spec reached,
	// which the planner cannot turn into a hash of the whole edge table.
	buildsByLateralWalk = `
SELECT b.id FROM builds b JOIN specs s ON s.id = b.spec_id
WHERE s.name = $2 AND b.spec_id IN (
  WITH RECURSIVE up(id) AS (
    SELECT d.spec_id FROM unnest(CAST($1 AS bigint[])) AS x(id)
    CROSS JOIN LATERAL (SELECT spec_id FROM spec_dependencies WHERE dep_id = x.id OFFSET 0) d
    UNION
    SELECT d.spec_id FROM up
    CROSS JOIN LATERAL (SELECT spec_id FROM spec_dependencies WHERE dep_id = up.id OFFSET 0) d)
  SELECT id FROM up)
ORDER BY b.id DESC LIMIT 100`
	buildsByClosure = `
SELECT b.id FROM builds b JOIN specs s ON s.id = b.spec_id
WHERE s.name = $2 AND b.spec_id IN (
  SELECT unnest(ARRAY(SELECT c.ancestor FROM unnest(CAST($1 AS bigint[])) AS x(id)
  CROSS JOIN LATERAL (SELECT ancestor FROM spec_closure WHERE descendants && ARRAY[x.id]) c)))
ORDER BY b.id DESC LIMIT 100`
)

// BenchmarkDependencyQuery measures the DAG queries on 100,000 specs: through the store
// (constraint matching included), and in plain SQL the recursive walk of spec_dependencies
// that the store used before spec_closure against a look-up in spec_closure.
// Run with: go test -run '^$' -bench DependencyQuery ./services/ingest/store/postgres/
func BenchmarkDependencyQuery(b *testing.B) {
	ctx := context.Background()
	url := pgtest.NewDatabase(b, "ingest", migrate)
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	for _, step := range []string{seedStacks, fillClosure, "VACUUM ANALYZE"} {
		if _, err := pool.Exec(ctx, step); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	queries := []struct{ name, specName, constraint string }{
		{"narrow", "pkg-0", "pkg-40@40.11"},         // 100 stacks
		{"range", "pkg-0", "pkg-40@40.11:40.13"},    // 300 stacks
		{"variant", "pkg-0", "pkg-45+mpi%clang@14"}, // a sixth of the stacks
		{"broad", "pkg-0", "pkg-49"},                // every stack: the walk reaches 98,000 specs
		{"shallow", "pkg-48", "pkg-49@49.3.1"},      // one edge up
	}
	for _, q := range queries {
		c, err := spackspec.ParseConstraint(q.constraint)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("store/"+q.name, func(b *testing.B) {
			for b.Loop() {
				if builds, err := st.ListBuilds(ctx, store.BuildQuery{SpecName: q.specName, Dependency: &c, Limit: 100}); err != nil || len(builds) == 0 {
					b.Fatalf("ListBuilds: %d builds, %v", len(builds), err)
				}
			}
		})
		b.Run("store-reverse/"+q.name, func(b *testing.B) {
			for b.Loop() {
				if specs, err := st.ListSpecs(ctx, store.SpecQuery{DependsOn: &c, Limit: 100}); err != nil || len(specs) == 0 {
					b.Fatalf("ListSpecs: %d specs, %v", len(specs), err)
				}
			}
		})
		benchUnplanned(b, pool, "sql-unplanned/"+q.name, func() (string, []any, error) {
			return st.BuildsStatement(ctx, store.BuildQuery{SpecName: q.specName, Dependency: &c, Limit: 100})
		})
		benchUnplanned(b, pool, "sql-unplanned-reverse/"+q.name, func() (string, []any, error) {
			return st.SpecsStatement(ctx, store.SpecQuery{DependsOn: &c, Limit: 100})
		})
	}
	for _, q := range queries {
		c, _ := spackspec.ParseConstraint(q.constraint)
		ids := matchingIDs(b, pool, &c)
		walk := answer(b, pool, buildsByWalk, ids, q.specName)
		if closure := answer(b, pool, buildsByClosure, ids, q.specName); len(walk) != len(closure) || len(walk) == 0 {
			b.Fatalf("%s: the walk answers %d builds, the closure table %d", q.name, len(walk), len(closure))
		}
		for _, way := range []struct{ name, sql string }{{"walk", buildsByWalk}, {"lateral-walk", buildsByLateralWalk}, {"closure", buildsByClosure}} {
			b.Run("sql-"+way.name+"/"+q.name, func(b *testing.B) {
				for b.Loop() {
					answer(b, pool, way.sql, ids, q.specName)
				}
			})
		}
	}
}

// benchUnplanned runs the list statement that statement gives (constraint matching included)
// on the pool as the store ran it before probePlan: cached, so generic plans after five
// runs, and with parallel workers.
func benchUnplanned(b *testing.B, pool *pgxpool.Pool, name string, statement func() (string, []any, error)) {
	b.Run(name, func(b *testing.B) {
		for b.Loop() {
			sql, args, err := statement()
			if err != nil {
				b.Fatal(err)
			}
			rs, err := pool.Query(context.Background(), sql, args...)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(collectAll(b, rs)); n == 0 {
				b.Fatal("no rows")
			}
		}
	})
}

// collectAll reads every row, as values.
func collectAll(tb testing.TB, rs pgx.Rows) [][]any {
	got, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// matchingIDs are the specs satisfying c, as the store finds them.
func matchingIDs(tb testing.TB, pool *pgxpool.Pool, c *spackspec.Constraint) []int64 {
	rs, err := pool.Query(context.Background(), `
SELECT s.id, s.version, COALESCE(s.parameters, ''), COALESCE(cc.name, ''), COALESCE(cc.version, '')
FROM specs s LEFT JOIN compilers cc ON cc.id = s.compiler_id WHERE s.name = $1`, c.Name)
	if err != nil {
		tb.Fatal(err)
	}
	defer rs.Close()
	var ids []int64
	for rs.Next() {
		var id int64
		var version, params, cname, cversion string
		if err := rs.Scan(&id, &version, &params, &cname, &cversion); err != nil {
			tb.Fatal(err)
		}
		if c.Matches(version, []byte(params), cname, cversion) {
			ids = append(ids, id)
		}
	}
	return ids
}

func answer(tb testing.TB, pool *pgxpool.Pool, sql string, ids []int64, specName string) []int64 {
	rs, err := pool.Query(context.Background(), sql, ids, specName)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := pgx.CollectRows(rs, pgx.RowTo[int64])
	if err != nil {
		tb.Fatal(err)
	}
	return got
}
