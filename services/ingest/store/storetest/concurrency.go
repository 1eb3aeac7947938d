package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var concurrencyTests = []namedTest{
	{Name: "SameSpec", Fn: testConcurrentSameSpec},
	{Name: "SharedDependencies", Fn: testConcurrentSharedDeps},
	{Name: "SameBuild", Fn: testConcurrentSameBuild},
	{Name: "SamePhase", Fn: testConcurrentSamePhase},
}

const goroutines = 16

// parallel runs fn(i) for i in [0, goroutines) at once and fails on any error.
func parallel(t *testing.T, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func testConcurrentSameSpec(t *testing.T, st store.Store) {
	results := make([]store.SpecResult, goroutines)
	parallel(t, func(i int) error {
		var err error
		results[i], err = st.PutSpec(ctx(t), sv, diamond(""))
		return err
	})
	created := 0
	for _, r := range results {
		if r.Created {
			created++
		}
		if r.ID != results[0].ID || len(r.Deps) != 2 || r.Deps[0].FullHash != "left-fh" {
			t.Fatalf("results differ: %+v vs %+v", r, results[0])
		}
	}
	if created != 1 {
		t.Fatalf("%d calls created the spec, want 1", created)
	}
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 4 {
		t.Fatalf("%d specs, want 4", got)
	}
	if got := len(getSpec(t, st, "base-fh").Dependents); got != 2 {
		t.Fatalf("base has %d dependents, want 2", got)
	}
}

// sharing is a document whose root is distinct per i and whose ten dependencies, a
// stub reference and target are shared by all, listed in an order that differs per i.
func sharing(i int) *spackspec.Document {
	root := n(fmt.Sprintf("app%02d", i), "1", fmt.Sprintf("app%02d-fh", i), ref("stubbed", "stubbed-fh"))
	nodes := []spackspec.Node{root}
	lib0 := 1 + (10-i%10)%10 // where lib0 lands in this document
	for j := range 10 {
		k := (j + i) % 10
		name := fmt.Sprintf("lib%d", k)
		nodes[0].Deps = append(nodes[0].Deps, dep(name, len(nodes), "link"))
		lib := n(name, "1", name+"-fh")
		if k > 0 {
			lib.Deps = []spackspec.Dep{dep("lib0", lib0)}
		}
		nodes = append(nodes, lib)
	}
	return doc(nodes...)
}

func testConcurrentSharedDeps(t *testing.T, st store.Store) {
	parallel(t, func(i int) error {
		res, err := st.PutSpec(ctx(t), sv, sharing(i))
		if err == nil && (!res.Created || len(res.Deps) != 11) {
			err = fmt.Errorf("result %+v", res)
		}
		return err
	})
	specs := allSpecs(t, st, store.SpecQuery{})
	if len(specs) != goroutines+10+1 {
		t.Fatalf("%d specs, want %d", len(specs), goroutines+11)
	}
	seen := map[string]bool{}
	for _, sp := range specs {
		if seen[sp.Name] {
			t.Fatalf("duplicate spec %s", sp.Name)
		}
		seen[sp.Name] = true
	}
	if lib0 := getSpec(t, st, "lib0-fh"); len(lib0.Dependents) != goroutines+9 {
		t.Fatalf("lib0 has %d dependents, want %d", len(lib0.Dependents), goroutines+9)
	}
	if stub := getSpec(t, st, "stubbed-fh"); !stub.Stub || len(stub.Dependents) != goroutines {
		t.Fatalf("stub = %+v", stub)
	}
	for i := range goroutines {
		if deps := getSpec(t, st, fmt.Sprintf("app%02d-fh", i)).Deps; len(deps) != 11 {
			t.Fatalf("app%02d has %d deps", i, len(deps))
		}
	}
}

func testConcurrentSameBuild(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	results := make([]store.BuildResult, goroutines)
	parallel(t, func(i int) error {
		var err error
		results[i], err = st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "root-fh", SpackVersion: sv, Env: env1,
			Owner: "alice", Tags: []string{"t1", fmt.Sprintf("T%d", i%3)}})
		return err
	})
	builds, envs := 0, 0
	for _, r := range results {
		if r.BuildCreated {
			builds++
		}
		if r.EnvCreated {
			envs++
		}
		if r.Build != results[0].Build {
			t.Fatalf("results differ: %+v vs %+v", r.Build, results[0].Build)
		}
	}
	if builds != 1 || envs != 1 {
		t.Fatalf("%d builds and %d environments created, want 1 and 1", builds, envs)
	}
	if list := listIDs(t, st, store.BuildQuery{}); len(list) != 1 {
		t.Fatalf("%d builds stored", len(list))
	}
	if tags := getBuild(t, st, results[0].Build.ID).Tags; len(tags) != 3 {
		t.Fatalf("tags = %q, want t1, T0 (or t0), T2", tags)
	}
}

// Concurrent replacements of one phase leave one writer's events, never a mixture.
func testConcurrentSamePhase(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	parallel(t, func(i int) error {
		events := make([]logparse.Event, i%4+1)
		for j := range events {
			events[j] = event(logparse.Error, j+1, fmt.Sprintf("writer %d", i))
		}
		_, err := st.UpdatePhase(ctx(t), alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR",
			Output: []byte(fmt.Sprint(i)), Events: events})
		return err
	})
	events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.PhaseOutput(ctx(t), id, "build")
	if err != nil {
		t.Fatal(err)
	}
	var writer int
	fmt.Sscan(string(out.Compressed), &writer)
	if len(events) != writer%4+1 {
		t.Fatalf("%d events stored, writer %d wrote %d", len(events), writer, writer%4+1)
	}
	for _, e := range events {
		if e.Text != fmt.Sprintf("writer %d", writer) {
			t.Fatalf("event %q mixed into writer %d's phase", e.Text, writer)
		}
	}
	if b := getBuild(t, st, id); b.Phases[0].ErrorCount != int64(len(events)) {
		t.Fatalf("error count %d, %d events", b.Phases[0].ErrorCount, len(events))
	}
}
