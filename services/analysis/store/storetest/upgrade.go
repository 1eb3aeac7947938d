package storetest

import (
	"fmt"
	"maps"
	"testing"

	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// KeepsRecords records install files of three builds, of every type and with fields unset,
// and the environments of two, then runs downUp (the schema taken back to its first version
// and migrated again) and reads the same back: a migration that rebuilds a table keeps
// every row.
func KeepsRecords(t *testing.T, st store.Store, downUp func() error) {
	record(t, st, 1, store.Analysis{InstallFiles: []store.InstallFile{
		{Path: "bin/a", Type: "file", Mode: ptr[int64](33261), Owner: ptr[int64](0), Group: ptr[int64](0), Hash: "H1", Size: ptr[int64](10)},
		{Path: "bin", Type: "dir", Mode: ptr[int64](17901), Owner: ptr[int64](0), Group: ptr[int64](0)},
		{Path: "lib/é", Type: "link", Mode: ptr[int64](41471)},
	}, Attributes: []store.Attribute{{InstallFile: "share/named-by-an-attribute", Analyzer: "libabigail", Name: "abi", Value: ptr("x")}}})
	record(t, st, 2, store.Analysis{InstallFiles: []store.InstallFile{{Path: "bin/a", Type: "file", Hash: "H2"}}})
	// Enough files for a store that groups them to need several groups.
	var many []store.InstallFile
	for i := range 1100 {
		many = append(many, store.InstallFile{Path: fmt.Sprintf("lib/%04d.so", i), Type: "file", Size: ptr(int64(i))})
	}
	record(t, st, 3, store.Analysis{InstallFiles: many})
	envs := map[int64]map[string]string{
		1: {"PATH": "/usr/bin", "A": "", "a_b": "x", "Z": "é\n", "é": "ü"},
		2: {"SPACK_CC": "gcc"},
	}
	for b, env := range envs {
		record(t, st, b, store.Analysis{Environment: maps.Clone(env)})
	}
	queries := []store.InstallFileQuery{{BuildID: 1}, {BuildID: 1, Type: "dir"}, {BuildID: 1, PathPrefix: "lib/"}, {BuildID: 2},
		{BuildID: 3, Limit: page.MaxSize}, {BuildID: 3, PathPrefix: "lib/05"}}
	before := make([]string, len(queries))
	for i, q := range queries {
		before[i] = show2(allFiles(t, st, q))
	}
	if err := downUp(); err != nil {
		t.Fatalf("migrating down and up: %v", err)
	}
	for i, q := range queries {
		if got := show2(allFiles(t, st, q)); got != before[i] {
			t.Errorf("files %+v after the migrations = %s, want %s", q, got, before[i])
		}
	}
	for b, want := range envs {
		if got := environment(t, st, b); !maps.Equal(got, want) {
			t.Errorf("environment of build %d after the migrations = %v, want %v", b, got, want)
		}
	}
	// The key still refuses a second row for a path: recording it again replaces it.
	record(t, st, 1, store.Analysis{InstallFiles: []store.InstallFile{{Path: "bin/a", Type: "file", Hash: "H3"}}})
	if got := allFiles(t, st, store.InstallFileQuery{BuildID: 1, PathPrefix: "bin/a"}); len(got) != 1 || got[0].Hash != "H3" {
		t.Errorf("bin/a recorded again after the migrations: %s", show2(got))
	}
	record(t, st, 3, store.Analysis{InstallFiles: []store.InstallFile{{Path: "lib/0700.so", Type: "link"}}})
	if got := allFiles(t, st, store.InstallFileQuery{BuildID: 3, PathPrefix: "lib/070"}); len(got) != 10 || got[0].Type != "link" {
		t.Errorf("lib/0700.so recorded again after the migrations: %s", show2(got))
	}
}
