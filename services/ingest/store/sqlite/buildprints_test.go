package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// TestAddedPrintsMatchRewrite posts phases whose fingerprints overlap (and a phase posted
// again, and one with no events) and checks after each that the build fingerprints and the
// rollup the phase-only addition left are exactly what rewriting the build's fingerprints
// from all of its events gives, and that the rollup is what its rows add up to.
func TestAddedPrintsMatchRewrite(t *testing.T) {
	ctx := context.Background()
	sq := Migrated(t)
	st := New(sq)
	defer st.Close()
	if _, err := st.PutSpec(ctx, "0.17", &spackspec.Document{Nodes: []spackspec.Node{{Name: "zlib", Version: "1.3",
		FullHash: "zlib-fh", Hash: "zlib-h", Namespace: "builtin", Parameters: []byte(`{}`),
		Compiler: &spackspec.Compiler{Name: "gcc", Version: "13.2"}}}}); err != nil {
		t.Fatal(err)
	}
	alice := store.Actor{Name: "alice"}
	var builds []int64
	for _, host := range []string{"h1", "h2"} {
		res, err := st.GetOrCreateBuild(ctx, store.NewBuild{FullHash: "zlib-fh", SpackVersion: "0.17", Owner: "alice",
			Env: store.BuildEnv{Hostname: host, KernelVersion: "6.1", HostOS: "debian12", HostTarget: "x86_64", Platform: "linux"}})
		if err != nil {
			t.Fatal(err)
		}
		builds = append(builds, res.Build.ID)
	}
	// Warnings about variables from first on, n of them, each twice.
	events := func(first, n int) []logparse.Event {
		var es []logparse.Event
		for i := range 2 * n {
			es = append(es, logparse.Event{Kind: logparse.Warning, LineNo: i + 1,
				Text: fmt.Sprintf("a.c:%d:3: warning: unused variable 'v%d' [-Wunused-variable]", i, first+i%n)})
		}
		return es
	}
	for i, step := range []struct {
		build        int
		phase        string
		first, count int
	}{
		{0, "configure", 0, 5}, {0, "build", 3, 6}, {1, "build", 4, 2}, {0, "install", 0, 10},
		{0, "test", 0, 0}, {0, "build", 7, 3}, {1, "install", 0, 1},
	} {
		if _, err := st.UpdatePhase(ctx, alice, store.PhaseUpdate{BuildID: builds[step.build], Name: step.phase,
			Status: store.StatusSuccess, Events: events(step.first, step.count)}); err != nil {
			t.Fatal(err)
		}
		added := printState(t, sq.Write)
		if err := sq.WriteTx(ctx, func(tx *sql.Tx) error {
			for _, id := range builds {
				if err := rewriteBuildPrints(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if rewritten := printState(t, sq.Write); !reflect.DeepEqual(added, rewritten) {
			t.Fatalf("step %d: added\n%v\nrewritten\n%v", i, added, rewritten)
		}
		if rolled, want := rollupState(t, sq.Write, false), rollupState(t, sq.Write, true); !reflect.DeepEqual(rolled, want) {
			t.Fatalf("step %d: rollup\n%v\nwant (from build_fingerprints)\n%v", i, rolled, want)
		}
	}
}

// rollupState is every row of the rollup, or (fromPrints) what they should be, worked out
// from build_fingerprints as migration 00009 does.
func rollupState(t *testing.T, q *sql.DB, fromPrints bool) []string {
	queries := []string{
		`SELECT kind, fingerprint, day, builds, '' FROM failure_days ORDER BY 2, 3`,
		`SELECT kind, fingerprint, month, builds, '' FROM failure_months ORDER BY 2, 3`,
		`SELECT fingerprint, dim, value, builds, last_seen FROM failure_spread ORDER BY 1, 2, 3`,
	}
	if fromPrints {
		queries = []string{
			`SELECT min(kind), fingerprint, substr(seen_at, 1, 10) AS d, count(*), '' FROM build_fingerprints GROUP BY fingerprint, d ORDER BY 2, 3`,
			`SELECT min(kind), fingerprint, substr(seen_at, 1, 7) AS m, count(*), '' FROM build_fingerprints GROUP BY fingerprint, m ORDER BY 2, 3`,
			`SELECT fingerprint, dim, value, count(*), max(seen_at) FROM (
    SELECT bf.fingerprint, 'package' AS dim, s.name AS value, bf.seen_at FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
    UNION ALL
    SELECT bf.fingerprint, 'compiler', CAST(s.compiler_id AS TEXT), bf.seen_at FROM build_fingerprints bf JOIN specs s ON s.id = bf.spec_id
    WHERE s.compiler_id IS NOT NULL
    UNION ALL
    SELECT bf.fingerprint, 'host', e.hostname, bf.seen_at FROM build_fingerprints bf JOIN build_environments e ON e.id = bf.env_id)
GROUP BY fingerprint, dim, value ORDER BY 1, 2, 3`,
		}
	}
	return rowsText(t, q, queries, 5)
}

// printState is every row of the build fingerprints and the rollup, as text.
func printState(t *testing.T, q *sql.DB) []string {
	out := rowsText(t, q, []string{
		`SELECT build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id FROM build_fingerprints ORDER BY 1, 2`,
		`SELECT kind, fingerprint, day, builds, '', '', '', '' FROM failure_days ORDER BY 2, 3`,
		`SELECT kind, fingerprint, month, builds, '', '', '', '' FROM failure_months ORDER BY 2, 3`,
		`SELECT fingerprint, dim, value, builds, last_seen, '', '', '' FROM failure_spread ORDER BY 1, 2, 3`,
	}, 8)
	if len(out) == 0 {
		t.Fatal("no build fingerprints")
	}
	return out
}

// rowsText is the rows of queries, each of n columns, as text.
func rowsText(t *testing.T, q *sql.DB, queries []string, n int) []string {
	var out []string
	for _, query := range queries {
		rs, err := q.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			v := make([]any, n)
			for i := range v {
				v[i] = new(any)
			}
			if err := rs.Scan(v...); err != nil {
				t.Fatal(err)
			}
			row := ""
			for _, c := range v {
				row += fmt.Sprint(*c.(*any)) + " "
			}
			out = append(out, row)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		rs.Close()
	}
	return out
}
