package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/store"
)

// closureTests check that the dependency queries see dependencies that reach a spec after
// it was stored: a stub's own document arriving later, alone or while other documents
// refer to the stub.
var closureTests = []namedTest{
	{Name: "ThroughFilledStub", Fn: testClosureThroughFilledStub},
	{Name: "ConcurrentStubFill", Fn: testClosureConcurrentStubFill},
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
