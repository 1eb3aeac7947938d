package storetest

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store"
)

// ClosureBackfill checks that migration 00010, read from migrations (the dialect's files),
// fills spec_closure for the specs stored before it, and that the later migrations named
// by reshape (the dialect's own) keep what it filled: exec runs SQL on st's database. The
// table is dropped as if the migrations had never run, and their Up sections run again
// must give back the same answers.
func ClosureBackfill(t *testing.T, st store.Store, migrations fs.FS, exec func(query string) error, reshape ...string) {
	s := seedStack(t, st)
	want := dependents(t, st, "zlib@1.2.11")
	wantBuilds := listIDs(t, st, store.BuildQuery{SpecName: "hdf5", Dependency: constraint(t, "openmpi@4")})
	if len(want) == 0 || !slices.Equal(wantBuilds, []int64{s.hdf5Clang, s.hdf5New}) {
		t.Fatalf("before the backfill: dependents %v, builds %v", want, wantBuilds)
	}
	if err := exec("DROP TABLE spec_closure"); err != nil {
		t.Fatal(err)
	}
	for _, name := range append([]string{"00010_spec_closure.sql"}, reshape...) {
		if err := exec(upSection(t, migrations, name)); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	if got := dependents(t, st, "zlib@1.2.11"); !slices.Equal(got, want) {
		t.Fatalf("after the backfill, specs depending on zlib@1.2.11 = %v, want %v", got, want)
	}
	if got := listIDs(t, st, store.BuildQuery{SpecName: "hdf5", Dependency: constraint(t, "openmpi@4")}); !slices.Equal(got, wantBuilds) {
		t.Fatalf("after the backfill, hdf5 builds depending on openmpi@4 = %v, want %v", got, wantBuilds)
	}
}

// upSection is the Up section of a migration that mentions spec_closure.
func upSection(t *testing.T, migrations fs.FS, name string) string {
	t.Helper()
	text, err := fs.ReadFile(migrations, name)
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(text), "-- +goose Up")
	up, _, _ = strings.Cut(up, "-- +goose Down")
	if !ok || !strings.Contains(up, "spec_closure") {
		t.Fatalf("no Up section that fills spec_closure in migration %s:\n%s", name, text)
	}
	return up
}
