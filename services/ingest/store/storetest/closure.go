package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spackmon/spackmon/pkg/spackspec"

	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
)

// closureTests check that the dependency queries see dependencies that reach a spec after
// it was stored: a stub's own document arriving later, alone or while other documents
// refer to the stub.
var closureTests = []namedTest{
	{Name: "ThroughFilledStub", Fn: testClosureThroughFilledStub},
	{Name: "ThroughChainedStubs", Fn: testClosureThroughChainedStubs},
	{Name: "ConcurrentStubFill", Fn: testClosureConcurrentStubFill},
	{Name: "ManyMatchingSpecs", Fn: testClosureManyMatchingSpecs},
	{Name: "Levels", Fn: testClosureLevels},
	{Name: "Limit", Fn: testClosureLimit},
}

// dependents are the names of the specs depending on constraint, sorted.
func dependents(t *testing.T, st store.Store, constraintText string) []string {
	t.Helper()
	var names []string
	for _, sp := range allSpecs(t, st, store.SpecQuery{DependsOn: constraint(t, constraintText)}) {
		names = append(names, sp.Name)
	}
	slices.Sort(names)
	return names
}

// testClosureThroughFilledStub: app refers to lib, stored later with its own dependency
// zlib; then top refers to app. Each step must reach zlib from everything above it.
func testClosureThroughFilledStub(t *testing.T, st store.Store) {
	putSpec(t, st, doc(n("app", "1.0", "app-fh", ref("lib", "lib-fh", "link"))))
	app := newBuild(t, st, "app-fh", env1, "alice").Build.ID
	if got := dependents(t, st, "zlib"); got != nil {
		t.Fatalf("before zlib is stored, %v depend on it", got)
	}
	putSpec(t, st, doc(
		n("lib", "2.5", "lib-fh", dep("zlib", 1, "link")),
		n("zlib", "1.3", "zlib-fh")))
	if got, want := dependents(t, st, "zlib@1.3"), []string{"app", "lib"}; !slices.Equal(got, want) {
		t.Fatalf("specs depending on zlib@1.3 = %v, want %v", got, want)
	}
	if got := listIDs(t, st, store.BuildQuery{SpecName: "app", Dependency: constraint(t, "zlib@1.3")}); !slices.Equal(got, []int64{app}) {
		t.Fatalf("app builds depending on zlib = %v, want [%d]", got, app)
	}
	putSpec(t, st, doc(n("top", "1", "top-fh", ref("app", "app-fh", "run"))))
	if got, want := dependents(t, st, "zlib"), []string{"app", "lib", "top"}; !slices.Equal(got, want) {
		t.Fatalf("specs depending on zlib = %v, want %v", got, want)
	}
	if got, want := dependents(t, st, "lib@2.5"), []string{"app", "top"}; !slices.Equal(got, want) {
		t.Fatalf("specs depending on lib@2.5 = %v, want %v", got, want)
	}
}

// testClosureThroughChainedStubs fills five stubs in one document, each reaching the next
// only through a spec stored before: r0 → s0 → r1 → s1 → … → s4 → leaf, with every s a
// stub until the last document. Every spec above leaf must depend on it.
func testClosureThroughChainedStubs(t *testing.T, st store.Store) {
	const chain = 5
	var fill []spackspec.Node
	want := []string{}
	for i := range chain {
		r, s := fmt.Sprintf("r%d", i), fmt.Sprintf("s%d", i)
		putSpec(t, st, doc(n(r, "1", r+"-fh", ref(s, s+"-fh", "link"))))
		next := ref(fmt.Sprintf("r%d", i+1), fmt.Sprintf("r%d-fh", i+1), "link")
		if i == chain-1 {
			next = dep("leaf", chain, "link")
		}
		fill = append(fill, n(s, "1", s+"-fh", next))
		want = append(want, r, s)
	}
	putSpec(t, st, doc(append(fill, n("leaf", "1", "leaf-fh"))...))
	slices.Sort(want)
	if got := dependents(t, st, "leaf"); !slices.Equal(got, want) {
		t.Fatalf("specs depending on leaf = %v, want %v", got, want)
	}
}

// testClosureConcurrentStubFill stores a stub's document while other documents refer to
// the stub, in several rounds: whichever commits first, every referrer must end up
// depending on what the stub depends on.
func testClosureConcurrentStubFill(t *testing.T, st store.Store) {
	for round := range 4 {
		lib, zlib := fmt.Sprintf("lib%d", round), fmt.Sprintf("zlib%d", round)
		parallel(t, func(i int) error {
			d := doc(n(fmt.Sprintf("app%d-%02d", round, i), "1", fmt.Sprintf("app%d-%02d-fh", round, i), ref(lib, lib+"-fh", "link")))
			if i == goroutines/2 {
				d = doc(n(lib, "1", lib+"-fh", dep(zlib, 1, "link")), n(zlib, "1", zlib+"-fh"))
			}
			_, err := st.PutSpec(ctx(t), sv, d)
			return err
		})
		if got := len(dependents(t, st, zlib)); got != goroutines {
			t.Fatalf("round %d: %d specs depend on %s, want %d (lib and %d apps)", round, got, zlib, goroutines, goroutines-1)
		}
	}
}

// testClosureManyMatchingSpecs crosses readsql.ProbeDependentsAbove, where the filter
// changes how it reads spec_closure: a root depending on more zlib specs than that, one
// depending on a single zlib, and an unrelated build. Both ways must answer the same.
func testClosureManyMatchingSpecs(t *testing.T, st store.Store) {
	many := n("many", "1", "many-fh")
	nodes := []spackspec.Node{many}
	for i := range readsql.ProbeDependentsAbove + 1 {
		name := fmt.Sprintf("zlib%04d", i)
		nodes[0].Deps = append(nodes[0].Deps, dep("zlib", len(nodes), "link"))
		nodes = append(nodes, n("zlib", fmt.Sprintf("1.%d", i), name+"-fh"))
		nodes[len(nodes)-1].Name = "zlib"
	}
	putSpec(t, st, doc(nodes...))
	putSpec(t, st, doc(n("one", "1", "one-fh", ref("zlib", "zlib0007-fh", "link"))))
	putSpec(t, st, doc(n("other", "1", "other-fh")))
	builds := map[string]int64{}
	for _, name := range []string{"many", "one", "other"} {
		builds[name] = newBuild(t, st, name+"-fh", env1, "alice").Build.ID
	}
	for _, c := range []struct {
		constraint string
		want       []int64 // newest first
	}{
		{"zlib", []int64{builds["one"], builds["many"]}},     // every zlib: probed
		{"zlib@1.7", []int64{builds["one"], builds["many"]}}, // one zlib: collected
		{"zlib@1.1000", []int64{builds["many"]}},             // one zlib: collected
		{"zlib@1.1:1.999", []int64{builds["one"], builds["many"]}},
	} {
		if got := listIDs(t, st, store.BuildQuery{Dependency: constraint(t, c.constraint)}); !slices.Equal(got, c.want) {
			t.Errorf("builds depending on %s = %v, want %v", c.constraint, got, c.want)
		}
	}
	if got, want := dependents(t, st, "zlib"), []string{"many", "one"}; !slices.Equal(got, want) {
		t.Errorf("specs depending on zlib = %v, want %v", got, want)
	}
	// A page of one still finds the older build past the newer.
	q := store.BuildQuery{Dependency: constraint(t, "zlib"), Limit: 1}
	first := listIDs(t, st, q)
	q.AfterID = first[0]
	if rest := listIDs(t, st, q); !slices.Equal(append(first, rest...), []int64{builds["one"], builds["many"]}) {
		t.Errorf("pages %v then %v", first, rest)
	}
}
