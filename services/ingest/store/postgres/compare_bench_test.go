package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/service"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
)

// The compared builds are the two newest of the failure history: package pkg199 at versions
// 9 (a) and 8 (b). Each spec gets a DAG of 50 nodes, packages pkg0 … pkg48 at the root's
// version, node j depending on j+1, j+2 and j+7; b's nodes from pkg40 down are a's, so the
// compare finds 40 changed packages and 9 the same. Each build gets an install phase of
// comparedErrors errors, b's shifted by a third: new, fixed and outstanding fingerprints.
const (
	comparedErrors = 300
	dagDepth       = 48 // nodes 0 … dagDepth under the root
	sharedFrom     = 40
)

var seedCompared = []string{
	`INSERT INTO spec_dependencies (spec_id, dep_id, types, position)
	 SELECT p.id, c.id, 'build,link', e.k
	 FROM (VALUES (9), (8)) v(ver) CROSS JOIN generate_series(-1, ` + itoa(dagDepth) + `) j
	 CROSS JOIN (VALUES (1), (2), (7)) e(k)
	 JOIN specs p ON p.full_hash = CASE WHEN j < 0 THEN 'fh199' || v.ver ELSE 'fh' || (10 * j + v.ver) END
	 JOIN specs c ON c.full_hash = 'fh' || (10 * (j + e.k) + CASE WHEN v.ver = 8 AND j + e.k >= ` + itoa(sharedFrom) + ` THEN 9 ELSE v.ver END)
	 WHERE j + e.k <= ` + itoa(dagDepth) + ` AND NOT (v.ver = 8 AND j >= ` + itoa(sharedFrom) + `)
	 ON CONFLICT DO NOTHING`,
	`INSERT INTO phases (build_id, name, status, output_null, updated_at)
	 SELECT id, 'install', 'ERROR', true, now() FROM builds ORDER BY id DESC LIMIT 2`,
	`INSERT INTO phase_event_lists (phase_id, context_in_log, kinds, line_nos, texts, source_files, source_lines, pre_contexts,
	                               post_contexts, start_lines, end_lines, repeat_counts, fingerprints, text_in_log)
	 SELECT p.id, false, array_agg('error'::text ORDER BY n), array_agg(n ORDER BY n),
	        array_agg('src/file' || f || '.c:' || n || ': error: failure ' || f ORDER BY n), array_agg(''::text ORDER BY n),
	        array_agg(0 ORDER BY n), array_agg(''::text ORDER BY n), array_agg(''::text ORDER BY n), array_agg(n ORDER BY n),
	        array_agg(n + 1 ORDER BY n), array_agg(0 ORDER BY n), array_agg(lpad(to_hex(f), 16, '0') ORDER BY n),
	        array_agg(false ORDER BY n)
	 FROM phases p, generate_series(1, ` + itoa(comparedErrors) + `) n,
	      LATERAL (SELECT 4000 + n + CASE WHEN p.build_id = (SELECT max(id) FROM builds) THEN ` + itoa(comparedErrors/3) + ` ELSE 0 END AS f) r
	 WHERE p.name = 'install'
	 GROUP BY p.id`,
	`INSERT INTO build_fingerprints (build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id)
	 SELECT p.build_id, e.fingerprint, min(e.kind), count(*), min(e.id), min(b.created_at), min(b.spec_id), min(b.env_id)
	 FROM phases p JOIN phase_events e ON e.phase_id = p.id JOIN builds b ON b.id = p.build_id
	 WHERE p.name = 'install'
	 GROUP BY p.build_id, e.fingerprint
	 ON CONFLICT DO NOTHING`,
	`ANALYZE`,
}

// BenchmarkCompare measures CompareBuilds, through the service on the store, for two builds
// of one package with DAGs of 50 nodes and some 300 errors each, among 100,000 builds and
// 1,000,000 events.
// Run with: go test -run '^$' -bench Compare ./services/ingest/store/postgres/
func BenchmarkCompare(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million events")
	}
	pool := seedBeforeRollup(b)
	st := postgres.New(pool)
	defer st.Close()
	a, bb := comparedBuilds(b, pool)
	ctx := context.Background()
	for _, id := range []int64{a, bb} {
		if dag, err := st.BuildDAG(ctx, id); err != nil || len(dag) != dagDepth+2 {
			b.Fatalf("build %d: a DAG of %d nodes, %v", id, len(dag), err)
		}
	}
	compare := service.NewCompare(st)
	c, err := compare.CompareBuilds(ctx, &ingestv1.CompareBuildsRequest{A: a, B: bb})
	if err != nil {
		b.Fatal(err)
	}
	e := c.GetErrors()
	b.Logf("builds %d and %d: %d packages differ, %d new, %d fixed and %d outstanding errors",
		a, bb, len(c.GetPackages()), len(e.GetNew()), len(e.GetFixed()), len(e.GetOutstanding()))
	b.Run("CompareBuilds", func(b *testing.B) {
		for b.Loop() {
			c, err := compare.CompareBuilds(ctx, &ingestv1.CompareBuildsRequest{A: a, B: bb})
			if err != nil {
				b.Fatal(err)
			}
			checkComparison(b, c)
		}
	})
}

// comparedBuilds seeds the compared DAGs and errors and answers the ids of builds a and b.
func comparedBuilds(tb testing.TB, pool *pgxpool.Pool) (int64, int64) {
	ctx := context.Background()
	for _, q := range seedCompared {
		if _, err := pool.Exec(ctx, q); err != nil {
			tb.Fatalf("seed compared builds: %v\n%s", err, q)
		}
	}
	var a, b int64
	if err := pool.QueryRow(ctx, `SELECT max(id), max(id) - 1 FROM builds`).Scan(&a, &b); err != nil {
		tb.Fatal(err)
	}
	return a, b
}

// checkComparison fails unless c is the comparison the seed makes.
func checkComparison(tb testing.TB, c *ingestv1.BuildComparison) {
	changed := 0
	for _, p := range c.GetPackages() {
		if p.GetChange() == "changed" {
			changed++
		}
	}
	e := c.GetErrors()
	if changed != sharedFrom+1 || len(e.GetNew()) < comparedErrors/3 || len(e.GetFixed()) < comparedErrors/3 || len(e.GetOutstanding()) < comparedErrors/3 {
		tb.Fatalf("compare: %d packages changed, %d new, %d fixed, %d outstanding errors",
			changed, len(e.GetNew()), len(e.GetFixed()), len(e.GetOutstanding()))
	}
}
