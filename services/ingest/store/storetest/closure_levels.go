package storetest

import (
	"slices"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store"
)

// testClosureLevels stores one document whose new specs sit at several depths and whose
// stubs are filled below specs stored earlier: w refers to stub a, x (stored) to stub p.
// The document then gives a (depending on x and a new y -> z) and p (over q -> r), so a
// reaches p only through x, a spec the write does not touch, and a and p are extended at
// the same depth. Every spec must depend on everything below it however it got there.
func testClosureLevels(t *testing.T, st store.Store) {
	putSpec(t, st, doc(n("w", "1", "w-fh", ref("a", "a-fh", "run"))))
	putSpec(t, st, doc(n("x", "1", "x-fh", ref("p", "p-fh", "link"))))
	putSpec(t, st, doc(
		n("a", "1", "a-fh", dep("x", 1, "link"), dep("y", 5, "link")),
		n("x", "1", "x-fh", dep("p", 2, "link")),
		n("p", "1", "p-fh", dep("q", 3, "link")),
		n("q", "1", "q-fh", dep("r", 4, "link")),
		n("r", "1", "r-fh"),
		n("y", "1", "y-fh", dep("z", 6, "link")),
		n("z", "1", "z-fh")))
	want := map[string][]string{
		"r": {"a", "p", "q", "w", "x"},
		"q": {"a", "p", "w", "x"},
		"p": {"a", "w", "x"},
		"x": {"a", "w"},
		"z": {"a", "w", "y"},
		"y": {"a", "w"},
		"a": {"w"},
		"w": nil,
	}
	for name, w := range want {
		if got := dependents(t, st, name); !slices.Equal(got, w) {
			t.Errorf("specs depending on %s = %v, want %v", name, got, w)
		}
	}
}
