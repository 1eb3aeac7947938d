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
// must give back the same answers, and so must the reshapes undone (Down) and done again.
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
		if err := exec(section(t, migrations, name, "Up")); err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
	}
	check := func(when string) {
		t.Helper()
		if got := dependents(t, st, "zlib@1.2.11"); !slices.Equal(got, want) {
			t.Fatalf("%s, specs depending on zlib@1.2.11 = %v, want %v", when, got, want)
		}
		if got := listIDs(t, st, store.BuildQuery{SpecName: "hdf5", Dependency: constraint(t, "openmpi@4")}); !slices.Equal(got, wantBuilds) {
			t.Fatalf("%s, hdf5 builds depending on openmpi@4 = %v, want %v", when, got, wantBuilds)
		}
	}
	check("after the backfill")
	for i := len(reshape) - 1; i >= 0; i-- {
		if err := exec(section(t, migrations, reshape[i], "Down")); err != nil {
			t.Fatalf("migration %s down: %v", reshape[i], err)
		}
	}
	for _, name := range reshape {
		if err := exec(section(t, migrations, name, "Up")); err != nil {
			t.Fatalf("migration %s up again: %v", name, err)
		}
	}
	check("after the reshapes undone and done again")
}

// section is the Up or Down section of a migration that mentions spec_closure.
func section(t *testing.T, migrations fs.FS, name, which string) string {
	t.Helper()
	text, err := fs.ReadFile(migrations, name)
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(text), "-- +goose Up")
	up, down, _ := strings.Cut(up, "-- +goose Down")
	if which == "Down" {
		up = down
	}
	if !ok || !strings.Contains(up, "spec_closure") {
		t.Fatalf("no %s section about spec_closure in migration %s:\n%s", which, name, text)
	}
	return up
}
