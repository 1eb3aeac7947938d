package closuresql

import (
	"fmt"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store/internal/specplan"
)

func key(name string) specplan.Key { return specplan.Key{Name: name, Hash: name + "-fh"} }

func edges(pairs ...string) []specplan.Edge {
	var out []specplan.Edge
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, specplan.Edge{Parent: key(pairs[i]), Child: key(pairs[i+1])})
	}
	return out
}

// TestLevels: a reaches p only through x, whose edges are stored (shape only), so a must
// come after p; y and q are leaves' parents, extended first.
func TestLevels(t *testing.T) {
	written := edges("a", "x", "a", "y", "p", "q", "q", "r", "y", "z")
	shape := append(edges("x", "p"), written...)
	got := fmt.Sprint(Levels(written, shape))
	want := fmt.Sprint([][]specplan.Key{{key("q"), key("y")}, {key("p")}, {key("a")}})
	if got != want {
		t.Fatalf("Levels = %s, want %s", got, want)
	}
}

// TestLevelsCycle: a client may send a cycle; every parent still gets a level.
func TestLevelsCycle(t *testing.T) {
	written := edges("a", "b", "b", "a", "b", "c")
	n := 0
	for _, l := range Levels(written, written) {
		n += len(l)
	}
	if n != 2 {
		t.Fatalf("%d parents placed, want 2", n)
	}
}
