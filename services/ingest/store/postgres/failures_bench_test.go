package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/pgtest"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/service"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

// The size of the seeded failure history: builds of specs of packages over 180 days,
// each with one failed phase of eventsPerBuild errors whose fingerprints follow a skewed
// distribution over distinctPrints (a few failures are everywhere, most are rare).
const (
	benchBuilds    = 100_000
	eventsPerBuild = 10
	benchPackages  = 200
	versionsPerPkg = 10
	benchHosts     = benchBuilds / (benchPackages * versionsPerPkg)
	distinctPrints = 5000
)

// seedFailures writes the history with set-based SQL (the ingest path would take hours at
// this size), then fills build_fingerprints exactly as ingest does, and analyzes.
func seedFailures(tb testing.TB, pool *pgxpool.Pool) {
	ctx := context.Background()
	steps := []string{
		`INSERT INTO compilers (name, version) SELECT 'gcc', v::text || '.1.0' FROM generate_series(9, 12) v`,
		`INSERT INTO targets (name) VALUES ('zen2')`,
		`INSERT INTO architectures (platform, platform_os, target_id) SELECT 'linux', 'rhel8', id FROM targets`,
		`INSERT INTO specs (name, spack_version, full_hash, version, compiler_id, arch_id)
		 SELECT 'pkg' || (i / ` + itoa(versionsPerPkg) + `), '0.18.0', 'fh' || i, (i % ` + itoa(versionsPerPkg) + `)::text,
		        (SELECT min(id) FROM compilers) + (i / ` + itoa(versionsPerPkg) + `) % 4, (SELECT id FROM architectures)
		 FROM generate_series(0, ` + itoa(benchPackages*versionsPerPkg-1) + `) i`,
		`INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform)
		 SELECT 'host' || h, '5.14', 'rhel8', 'zen2', 'linux' FROM generate_series(0, ` + itoa(benchHosts-1) + `) h`,
		`INSERT INTO builds (spec_id, env_id, owner, owner_key, status, created_at, updated_at)
		 SELECT s.id, e.id, 'ci', 'ci', 'FAILED', t, t
		 FROM generate_series(0, ` + itoa(benchBuilds-1) + `) i
		 JOIN specs s ON s.full_hash = 'fh' || (i % ` + itoa(benchPackages*versionsPerPkg) + `)
		 JOIN build_environments e ON e.hostname = 'host' || (i / ` + itoa(benchPackages*versionsPerPkg) + `),
		 LATERAL (SELECT now() - (` + itoa(benchBuilds) + ` - i) * interval '155 seconds' AS t) w
		 ORDER BY i`,
		`INSERT INTO phases (build_id, name, status, output_null, updated_at) SELECT id, 'build', 'ERROR', true, now() FROM builds`,
		`INSERT INTO fingerprints (hash, kind, class, normal, first_seen, last_seen)
		 SELECT lpad(to_hex(f), 16, '0'), 'error', 'compiler-error', 'src/file' || f || '.c:<n>: error: failure ' || f, now() - interval '180 days', now()
		 FROM generate_series(0, ` + itoa(distinctPrints-1) + `) f`,
		`INSERT INTO phase_events (phase_id, kind, line_no, text, start_line, end_line, fingerprint)
		 SELECT p.id, 'error', n, 'src/file' || f || '.c:' || n || ': error: failure ' || f, n, n + 1, lpad(to_hex(f), 16, '0')
		 FROM phases p, generate_series(1, ` + itoa(eventsPerBuild) + `) n,
		      -- naming p.id and n makes the draw one per event, not one for the whole statement
		      LATERAL (SELECT floor(power(random(), 3) * ` + itoa(distinctPrints) + ` + p.id * 0 + n * 0)::int AS f) r`,
		`INSERT INTO build_fingerprints (build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id)
		 SELECT p.build_id, e.fingerprint, min(e.kind), count(*), min(e.id), min(b.created_at), min(b.spec_id), min(b.env_id)
		 FROM phases p JOIN phase_events e ON e.phase_id = p.id JOIN builds b ON b.id = p.build_id
		 GROUP BY p.build_id, e.fingerprint`,
		`VACUUM ANALYZE`,
	}
	start := time.Now()
	for _, q := range steps {
		if _, err := pool.Exec(ctx, q); err != nil {
			tb.Fatalf("seed: %v\n%s", err, q)
		}
	}
	var events, prints int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM phase_events), (SELECT count(*) FROM build_fingerprints)`).Scan(&events, &prints); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d builds, %d events, %d build fingerprints in %s", benchBuilds, events, prints, time.Since(start).Round(time.Second))
}

// seedBeforeRollup seeds a database at the schema before migration 00009, then migrates it,
// as a database upgraded with this history would be: the migration rolls up what the seed
// wrote in one pass, where the ingest triggers would take a row at a time.
func seedBeforeRollup(b *testing.B) *pgxpool.Pool {
	ctx := context.Background()
	older, err := storetest.MigrationsBefore(migrations.Postgres, "00009")
	if err != nil {
		b.Fatal(err)
	}
	url := pgtest.NewDatabase(b, "ingest-v8", func(ctx context.Context, url string) error {
		return db.MigratePostgres(ctx, url, older, db.WithVersionTable(migrations.VersionTable))
	})
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	seedFailures(b, pool)
	start := time.Now()
	if err := migrate(ctx, url); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("migration 00009 rolled up the seeded history in %s", time.Since(start).Round(time.Second))
	return pool
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkFailures measures the failure list (7 days, 30 days and a whole year) and the delta of a
// recent build against its reference on 100,000 builds and 1,000,000 events.
func BenchmarkFailures(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million events")
	}
	pool := seedBeforeRollup(b)
	st := postgres.New(pool)
	defer st.Close()
	failures := service.NewFailures(st)
	ctx := context.Background()
	for _, w := range []struct {
		name  string
		since time.Duration
	}{
		{"ListFailures7d", 7 * 24 * time.Hour},
		{"ListFailures30d", 30 * 24 * time.Hour},
		{"ListFailures365d", 365 * 24 * time.Hour},
	} {
		b.Run(w.name, func(b *testing.B) {
			for range b.N {
				list, err := st.ListFailures(ctx, store.FailureQuery{Kind: logparse.Error, Since: time.Now().Add(-w.since), Limit: 50})
				if err != nil || len(list) != 50 {
					b.Fatalf("ListFailures: %d, %v", len(list), err)
				}
			}
		})
	}
	var newest int64
	if err := pool.QueryRow(ctx, `SELECT max(id) FROM builds`).Scan(&newest); err != nil {
		b.Fatal(err)
	}
	b.Run("ListBuildFingerprints", func(b *testing.B) {
		for i := range b.N {
			resp, err := failures.ListBuildFingerprints(ctx, &ingestv1.ListBuildFingerprintsRequest{BuildId: newest - int64(i%1000)})
			if err != nil || len(resp.GetFingerprints()) == 0 {
				b.Fatalf("ListBuildFingerprints: %v, %v", resp, err)
			}
		}
	})
	b.Run("GetBuildDelta", func(b *testing.B) {
		for i := range b.N {
			d, err := failures.GetBuildDelta(ctx, &ingestv1.GetBuildDeltaRequest{BuildId: newest - int64(i%1000)})
			if err != nil || d.GetReference() == nil {
				b.Fatalf("GetBuildDelta: %v, %v", d, err)
			}
		}
	})
}
