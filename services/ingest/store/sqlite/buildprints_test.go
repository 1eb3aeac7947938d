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
// from all of its events gives.
func TestAddedPrintsMatchRewrite(t *testing.T) {
	ctx := context.Background()
	sq := Migrated(t)
	st := New(sq)
	defer st.Close()
	if _, err := st.PutSpec(ctx, "0.17", &spackspec.Document{Nodes: []spackspec.Node{{Name: "zlib", Version: "1.3",
		FullHash: "zlib-fh", Hash: "zlib-h", Namespace: "builtin", Parameters: []byte(`{}`)}}}); err != nil {
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
	}
}

// printState is every row of the build fingerprints and the rollup, as text.
func printState(t *testing.T, q *sql.DB) []string {
	var out []string
	for _, query := range []string{
		`SELECT build_id, fingerprint, kind, events, example_event, seen_at, spec_id, env_id FROM build_fingerprints ORDER BY 1, 2`,
		`SELECT kind, fingerprint, day, builds, '', '', '', '' FROM failure_days ORDER BY 2, 3`,
		`SELECT kind, fingerprint, month, builds, '', '', '', '' FROM failure_months ORDER BY 2, 3`,
		`SELECT fingerprint, dim, value, builds, last_seen, '', '', '' FROM failure_spread ORDER BY 1, 2, 3`,
	} {
		rs, err := q.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			v := make([]any, 8)
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
	if len(out) == 0 {
		t.Fatal("no build fingerprints")
	}
	return out
}
