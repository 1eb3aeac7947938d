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

// TestDocument: b's dependencies are written, x's were stored before, so a walks through b
// and stops at x, whose stored pairs it takes (frontier), as it does at the leaf c.
func TestDocument(t *testing.T) {
	got := Document(edges("a", "b", "a", "x", "b", "c"))
	name := func(pairs [][2]int64) []string {
		var out []string
		for _, p := range pairs {
			out = append(out, got.Keys[p[0]-1].Name+">"+got.Keys[p[1]-1].Name)
		}
		return out
	}
	if w, want := fmt.Sprint(name(got.Within)), "[a>x a>b a>c b>c]"; w != want {
		t.Errorf("within = %s, want %s", w, want)
	}
	if f, want := fmt.Sprint(name(got.Frontier)), "[a>x a>c b>c]"; f != want {
		t.Errorf("frontier = %s, want %s", f, want)
	}
}
