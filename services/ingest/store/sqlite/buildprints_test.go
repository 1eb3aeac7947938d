package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"

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
		fold(t, st)
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
		fold(t, st)
		if rewritten := printState(t, sq.Write); !reflect.DeepEqual(added, rewritten) {
			t.Fatalf("step %d: added\n%v\nrewritten\n%v", i, added, rewritten)
		}
		if rolled, want := rollupState(t, sq.Write, false), rollupState(t, sq.Write, true); !reflect.DeepEqual(rolled, want) {
			t.Fatalf("step %d: rollup\n%v\nwant (from build_fingerprints)\n%v", i, rolled, want)
		}
	}
}

func fold(t *testing.T, st *Store) {
	t.Helper()
	if err := st.foldFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// withoutBackgroundFold is a store on sq that folds the rollup only when asked, so that a
// test sees the rows waiting.
func withoutBackgroundFold(sq *db.SQLite) *Store {
	s := &Store{db: sq, stopFold: make(chan struct{}), folded: make(chan struct{})}
	close(s.folded)
	return s
}

// TestFailureRollupFolds checks that the rollup is what build_fingerprints adds up to after
// each way a row can meet the mark of migration 00017: new rows folded in as a set, a row
// removed before it was folded, a counted row removed, a new row given the rowid of a removed
// one (at or below the mark), and a schema taken down past 00017 with rows waiting and up
// again. The failure list folds before it counts.
func TestFailureRollupFolds(t *testing.T) {
	ctx := context.Background()
	sq := Migrated(t)
	st := withoutBackgroundFold(sq)
	defer st.Close()
	if _, err := st.PutSpec(ctx, "0.17", &spackspec.Document{Nodes: []spackspec.Node{{Name: "zlib", Version: "1.3",
		FullHash: "zlib-fh", Hash: "zlib-h", Namespace: "builtin", Parameters: []byte(`{}`),
		Compiler: &spackspec.Compiler{Name: "gcc", Version: "13.2"}}}}); err != nil {
		t.Fatal(err)
	}
	alice := store.Actor{Name: "alice"}
	post := func(host, phase string, vars ...int) int64 {
		t.Helper()
		res, err := st.GetOrCreateBuild(ctx, store.NewBuild{FullHash: "zlib-fh", SpackVersion: "0.17", Owner: "alice",
			Env: store.BuildEnv{Hostname: host, KernelVersion: "6.1", HostOS: "debian12", HostTarget: "x86_64", Platform: "linux"}})
		if err != nil {
			t.Fatal(err)
		}
		var es []logparse.Event
		for i, v := range vars {
			es = append(es, logparse.Event{Kind: logparse.Error, LineNo: i + 1,
				Text: fmt.Sprintf("a.c:%d:3: error: '%c%c' undeclared", i, 'a'+v/26, 'a'+v%26)})
		}
		if _, err := st.UpdatePhase(ctx, alice, store.PhaseUpdate{BuildID: res.Build.ID, Name: phase,
			Status: store.StatusFailed, Events: es}); err != nil {
			t.Fatal(err)
		}
		return res.Build.ID
	}
	consistent := func(step string) {
		t.Helper()
		if rolled, want := rollupState(t, sq.Write, false), rollupState(t, sq.Write, true); !reflect.DeepEqual(rolled, want) {
			t.Fatalf("%s: rollup\n%v\nwant (from build_fingerprints)\n%v", step, rolled, want)
		}
	}
	exec := func(statements ...string) {
		t.Helper()
		for _, q := range statements {
			if _, err := sq.Write.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	pending := func() int {
		t.Helper()
		var n int
		if err := sq.Read.QueryRow(`SELECT count(*) FROM build_fingerprints
WHERE rowid > (SELECT last_rowid FROM failure_rollup_mark)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	post("h1", "build", 0, 1, 2)
	post("h2", "build", 1, 2, 3)
	if pending() == 0 {
		t.Fatal("new rows were counted as they were written, not left for the fold")
	}
	list, err := st.ListFailures(ctx, store.FailureQuery{Kind: logparse.Error, Since: time.Now().Add(-time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || list[0].Builds != 2 {
		t.Fatalf("failure list of 4 fingerprints, the first in 2 builds: %+v", list)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d rows left past the mark after the failure list was read", n)
	}
	consistent("folded before the list")

	h3 := post("h3", "build", 3, 4)
	exec(`DELETE FROM build_fingerprints WHERE build_id = ` + strconv.FormatInt(h3, 10) + ` AND rowid = (SELECT max(rowid) FROM build_fingerprints)`)
	fold(t, st)
	consistent("a waiting row removed")

	exec(`CREATE TEMP TABLE last_print AS SELECT * FROM build_fingerprints WHERE rowid = (SELECT max(rowid) FROM build_fingerprints)`,
		`DELETE FROM build_fingerprints WHERE rowid = (SELECT max(rowid) FROM build_fingerprints)`)
	consistent("a counted row removed")
	exec(`INSERT INTO build_fingerprints SELECT * FROM last_print`)
	if n := pending(); n != 0 {
		t.Fatalf("the row put back took a rowid past the mark (%d waiting); the test needs one at or below it", n)
	}
	consistent("a row put back at a counted rowid")

	many := make([]int, foldBatch+50)
	for i := range many {
		many[i] = i
	}
	post("h7", "build", many...)
	if n := pending(); n <= foldBatch {
		t.Fatalf("%d rows waiting, want more than one fold's %d", n, foldBatch)
	}
	fold(t, st)
	consistent("more than one fold's rows")

	post("h4", "build", 0, 5)
	if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, 16, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	consistent("taken down past 00017 with rows waiting")
	post("h5", "build", 5)
	consistent("written by the triggers of 00009")
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	post("h6", "build", 1)
	fold(t, st)
	consistent("up again")
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
