package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/store"
)

var listTests = []namedTest{
	{Name: "InstallFilePagesAndFilters", Fn: testInstallFilePages},
	{Name: "InstallFilesManyWrites", Fn: testInstallFilesManyWrites},
	{Name: "AttributePagesAndFilters", Fn: testAttributePages},
}

func testInstallFilePages(t *testing.T, st store.Store) {
	var files []store.InstallFile
	for i := range 25 {
		files = append(files, store.InstallFile{Path: fmt.Sprintf("lib/f%02d.so", i), Type: "file"})
	}
	files = append(files,
		store.InstallFile{Path: "lib", Type: "dir"},
		store.InstallFile{Path: "lib64/x", Type: "file"},   // shares "lib" as a string, not as a directory
		store.InstallFile{Path: "lib%_/y", Type: "file"},   // LIKE's wildcards are plain characters
		store.InstallFile{Path: "LIB/upper", Type: "file"}, // case counts
		store.InstallFile{Path: "share/é/ü", Type: "file"}, // non-ASCII sorts bytewise
		store.InstallFile{Path: "share/z", Type: "file"},
	)
	record(t, st, 3, store.Analysis{InstallFiles: files})
	record(t, st, 4, store.Analysis{InstallFiles: []store.InstallFile{{Path: "lib/other", Type: "file"}}})

	first, err := st.ListInstallFiles(ctx(t), store.InstallFileQuery{BuildID: 3, PathPrefix: "lib/", Limit: 10})
	if err != nil || len(first) != 10 || first[0].Path != "lib/f00.so" || first[9].Path != "lib/f09.so" {
		t.Fatalf("first page = %s, %v", show2(first), err)
	}
	all := allFiles(t, st, store.InstallFileQuery{BuildID: 3, PathPrefix: "lib/", Limit: 10})
	if len(all) != 25 || all[24].Path != "lib/f24.so" {
		t.Errorf("lib/ = %d files, last %q; want 25", len(all), all[len(all)-1].Path)
	}
	paths := func(q store.InstallFileQuery) []string {
		var out []string
		for _, f := range allFiles(t, st, q) {
			out = append(out, f.Path)
		}
		return out
	}
	for _, c := range []struct {
		q    store.InstallFileQuery
		want string
	}{
		{store.InstallFileQuery{BuildID: 3, PathPrefix: "lib%"}, "[lib%_/y]"},
		{store.InstallFileQuery{BuildID: 3, PathPrefix: "LIB"}, "[LIB/upper]"},
		{store.InstallFileQuery{BuildID: 3, PathPrefix: "lib6"}, "[lib64/x]"},
		{store.InstallFileQuery{BuildID: 3, Type: "dir"}, "[lib]"},
		{store.InstallFileQuery{BuildID: 3, Type: "file", PathPrefix: "share/"}, "[share/z share/é/ü]"},
		{store.InstallFileQuery{BuildID: 3, PathPrefix: "share/", Limit: 1}, "[share/z share/é/ü]"},
		{store.InstallFileQuery{BuildID: 3, PathPrefix: "lib/f2", After: "lib/f21.so"}, "[lib/f22.so lib/f23.so lib/f24.so]"},
		{store.InstallFileQuery{BuildID: 3, Type: "link"}, "[]"},
		{store.InstallFileQuery{BuildID: 4}, "[lib/other]"},
		{store.InstallFileQuery{BuildID: 5}, "[]"},
	} {
		if got := fmt.Sprint(paths(c.q)); got != c.want {
			t.Errorf("%+v = %s, want %s", c.q, got, c.want)
		}
	}
	// Page sizes are clamped: 0 is the default, more than the maximum is the maximum.
	var many []store.InstallFile
	for i := range page.MaxSize + 5 {
		many = append(many, store.InstallFile{Path: fmt.Sprintf("f%05d", i)})
	}
	record(t, st, 6, store.Analysis{InstallFiles: many})
	for limit, want := range map[int]int{0: page.DefaultSize, -1: page.DefaultSize, 5000: page.MaxSize} {
		if files, err := st.ListInstallFiles(ctx(t), store.InstallFileQuery{BuildID: 6, Limit: limit}); err != nil || len(files) != want {
			t.Errorf("Limit %d: %d files, %v; want %d", limit, len(files), err, want)
		}
	}
}

func testAttributePages(t *testing.T, st store.Store) {
	for b := int64(1); b <= 3; b++ {
		var attrs []store.Attribute
		for i := range 5 {
			attrs = append(attrs,
				store.Attribute{InstallFile: fmt.Sprintf("lib/l%d.so", i), Analyzer: "symbolator", Name: "symbolator-json", JSONValue: ptr("{}")},
				store.Attribute{InstallFile: fmt.Sprintf("lib/l%d.so", i), Analyzer: "libabigail", Name: "abidw-xml", Value: ptr("<x/>")},
			)
		}
		attrs = append(attrs, store.Attribute{InstallFile: "lib/l0.so", Analyzer: "libabigail", Name: "other", Value: ptr("v")})
		record(t, st, b, store.Analysis{Attributes: attrs})
	}
	count := func(q store.AttributeQuery) int {
		n, last := 0, int64(0)
		for {
			refs := listAttributes(t, st, q)
			for _, r := range refs {
				if r.ID <= last {
					t.Errorf("%+v: id %d after %d", q, r.ID, last)
				}
				last = r.ID
				if (q.Analyzer != "" && r.Analyzer != q.Analyzer) || (q.Name != "" && r.Name != q.Name) {
					t.Errorf("%+v gave %+v", q, r)
				}
			}
			n += len(refs)
			if len(refs) < page.Size(q.Limit) {
				return n
			}
			q.AfterID = refs[len(refs)-1].ID
		}
	}
	for _, c := range []struct {
		q    store.AttributeQuery
		want int
	}{
		{store.AttributeQuery{BuildIDs: []int64{1}}, 11},
		{store.AttributeQuery{BuildIDs: []int64{1, 3}, Limit: 4}, 22},
		{store.AttributeQuery{BuildIDs: []int64{1, 2, 3}, Analyzer: "symbolator", Limit: 2}, 15},
		{store.AttributeQuery{BuildIDs: []int64{2}, Analyzer: "libabigail"}, 6},
		{store.AttributeQuery{BuildIDs: []int64{2}, Analyzer: "libabigail", Name: "other"}, 1},
		{store.AttributeQuery{BuildIDs: []int64{2, 3}, Name: "abidw-xml", Limit: 3}, 10},
		{store.AttributeQuery{BuildIDs: []int64{9}}, 0},
		{store.AttributeQuery{BuildIDs: nil}, 0},
		{store.AttributeQuery{BuildIDs: []int64{}, Analyzer: "symbolator"}, 0},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%+v: %d attributes, want %d", c.q, got, c.want)
		}
	}
	refs := listAttributes(t, st, store.AttributeQuery{BuildIDs: []int64{2}, Analyzer: "libabigail", Name: "other"})
	if len(refs) != 1 || refs[0].InstallFile != "lib/l0.so" || refs[0].BuildID != 2 {
		t.Errorf("refs = %+v", refs)
	}
}

// Many requests of up to 1,500 files each, manifests and attribute-named paths, fall below,
// between and above the files a build has; after each, every list of the build's files
// (whole, by prefix, by type, from a path, in pages of several lengths) is what a plain map
// of the build's files gives. A store that keeps files in groups is tested across the
// groups' edges.
func testInstallFilesManyWrites(t *testing.T, st store.Store) {
	rng := rand.New(rand.NewPCG(7, 15))
	// Paths in three directories, some sharing a directory's name as a string.
	pathOf := func(n int) string {
		return fmt.Sprintf("%s/f%05d", []string{"bin", "lib", "lib64", "share/doc"}[n%4], n)
	}
	model := map[string]store.InstallFile{}
	types := []string{"file", "dir", "link"}
	for round := range 12 {
		var a store.Analysis
		n := []int{1, 3, 40, 600, 1500}[rng.IntN(5)]
		base := rng.IntN(6000)
		for range n {
			p := pathOf(base + rng.IntN(max(n*3, 10)))
			if rng.IntN(4) == 0 {
				a.Attributes = append(a.Attributes, store.Attribute{InstallFile: p, Analyzer: "a", Name: "n", Value: ptr("v")})
				continue
			}
			f := store.InstallFile{Path: p, Type: types[rng.IntN(3)], Hash: fmt.Sprintf("h%d", round)}
			if rng.IntN(2) == 0 {
				f.Size = ptr(int64(rng.IntN(1000)))
			}
			a.InstallFiles = append(a.InstallFiles, f)
		}
		record(t, st, 9, a)
		for _, f := range a.InstallFiles {
			model[f.Path] = f
		}
		for _, at := range a.Attributes {
			if _, ok := model[at.InstallFile]; !ok {
				model[at.InstallFile] = store.InstallFile{Path: at.InstallFile}
			}
		}
		want := slices.SortedFunc(maps.Values(model), func(x, y store.InstallFile) int { return strings.Compare(x.Path, y.Path) })
		after := want[rng.IntN(len(want))].Path
		for _, q := range []store.InstallFileQuery{
			{BuildID: 9},
			{BuildID: 9, Limit: page.MaxSize},
			{BuildID: 9, Limit: 7, PathPrefix: "lib"},
			{BuildID: 9, Limit: 333, PathPrefix: "lib/"},
			{BuildID: 9, PathPrefix: "share/doc/f0"},
			{BuildID: 9, Type: "dir", Limit: 50},
			{BuildID: 9, Type: "dir", Limit: page.MaxSize},
			{BuildID: 9, Type: "none"},
			{BuildID: 9, After: after},
			{BuildID: 9, After: after, PathPrefix: after[:len(after)-2], Type: "link"},
			{BuildID: 9, PathPrefix: "lib/f99999"},
		} {
			var expect []store.InstallFile
			for _, f := range want {
				if f.Path > q.After && strings.HasPrefix(f.Path, q.PathPrefix) && (q.Type == "" || f.Type == q.Type) {
					expect = append(expect, f)
				}
			}
			if got := allFiles(t, st, q); show2(got) != show2(expect) {
				t.Fatalf("round %d (%d files in all), files %+v: %d, want %d\ngot  %.300s\nwant %.300s",
					round, len(want), q, len(got), len(expect), show2(got), show2(expect))
			}
		}
	}
}
