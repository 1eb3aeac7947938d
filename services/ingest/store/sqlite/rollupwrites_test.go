package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// TestRollupWritesClustered: a failing build's rollup rows are written side by side
// (migration 00020), so its commit sends few pages to the WAL. The same history, stored in
// the layout before 00020 and in 00020's, takes one more build of 100 fingerprints; the
// pages its commits write are counted in each.
func TestRollupWritesClustered(t *testing.T) {
	var before, after int
	t.Run("layouts", func(t *testing.T) {
		t.Run("00019", func(t *testing.T) { t.Parallel(); before = rollupCommitPages(t, 19) })
		t.Run("00020", func(t *testing.T) { t.Parallel(); after = rollupCommitPages(t, 20) })
	})
	if before == 0 || after == 0 {
		return // failed or skipped
	}
	t.Logf("pages the commits wrote: %d in the layout of 00019, %d in 00020's", before, after)
	if after*2 > before {
		t.Errorf("the build's commits wrote %d pages, %d before migration 00020: want at most half", after, before)
	}
}

// rollupCommitPages stores 80 failing builds of 40 packages on 4 hosts, each with 100 of
// 300 fingerprints, in a database taken to migration version and back up to it (so that
// both layouts are written by a migration's copy), and counts the WAL frames of the commits
// of one more build, like one before it.
func rollupCommitPages(t *testing.T, version int64) int {
	ctx := context.Background()
	sq := Migrated(t)
	st := New(sq)
	defer st.Close()
	rng := rand.New(rand.NewPCG(20, 1))
	words := make([]string, 300)
	for i := range words {
		words[i] = fmt.Sprintf("sym%c%c%c", 'a'+i/100, 'a'+i/10%10, 'a'+i%10)
	}
	var hashes []string
	for p := range 40 {
		h := fmt.Sprintf("pkg%d-fh", p)
		if _, err := st.PutSpec(ctx, "0.17", &spackspec.Document{Nodes: []spackspec.Node{{Name: fmt.Sprintf("pkg%d", p),
			Version: "1.0", FullHash: h, Hash: h, Namespace: "builtin", Parameters: []byte(`{}`),
			Compiler: &spackspec.Compiler{Name: "gcc", Version: "13.2"}}}}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	perms := make([][]int, 80)
	for i := range perms {
		perms[i] = rng.Perm(len(words))[:100]
	}
	build := func(i int, perm []int) {
		res, err := st.GetOrCreateBuild(ctx, store.NewBuild{FullHash: hashes[i%len(hashes)], SpackVersion: "0.17",
			Owner: "alice", Env: store.BuildEnv{Hostname: fmt.Sprintf("host%d", i%4), KernelVersion: fmt.Sprint(i),
				HostOS: "debian12", HostTarget: "x86_64", Platform: "linux"}})
		if err != nil {
			t.Fatal(err)
		}
		var events []logparse.Event
		for j, w := range perm {
			events = append(events, logparse.Event{Kind: logparse.Error, LineNo: j + 1,
				Text: "src/x.c:3: error: undefined symbol " + words[w]})
		}
		if _, err := st.UpdatePhase(ctx, store.Actor{Name: "alice"}, store.PhaseUpdate{BuildID: res.Build.ID,
			Name: "build", Status: store.StatusFailed, Events: events}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 80 {
		build(i, perms[i])
	}
	var prints int
	if err := sq.Write.QueryRowContext(ctx, `SELECT count(DISTINCT fingerprint) FROM build_fingerprints`).Scan(&prints); err != nil || prints < 295 {
		t.Fatalf("%d distinct fingerprints stored, %v: the events should have about 300", prints, err)
	}
	opt := db.WithVersionTable(migrations.VersionTable)
	if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, version-1, opt); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateUpTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, version, opt); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	// The package, host and compiler of build 40, and its fingerprints, on the same day:
	// every rollup row the build writes is there already, the case the layout is for (a
	// new row splits a page of the migration's copy in either layout, and a value's first
	// build of a day moves its entry in the index).
	build(80, perms[40])
	var days int
	if err := sq.Write.QueryRowContext(ctx, `SELECT count(DISTINCT substr(seen_at, 1, 10)) FROM build_fingerprints`).Scan(&days); err != nil {
		t.Fatal(err)
	} else if days != 1 {
		t.Skip("the builds straddle midnight (UTC): the last one moved each value's day")
	}
	var busy, frames, done int
	if err := sq.Write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
		t.Fatal(err)
	}
	return frames
}
