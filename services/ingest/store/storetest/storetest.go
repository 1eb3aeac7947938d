// Package storetest is the contract every store.Store implementation must meet. A backend's
// test calls Run with a function that opens a fresh, empty (migrated) store for one test,
// and Bench from its benchmarks:
//
//	func TestContract(t *testing.T) { storetest.Run(t, func(t *testing.T) store.Store { return open(t) }) }
//	func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }
//
// Every subtest opens its own store and runs in parallel with the others. No backend opts
// out of any part.
package storetest

import (
	"context"
	"os"
	"testing"

	"github.com/spackmon/spackmon/pkg/contract"
	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Run runs the contract suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	contract.Run(t, open,
		contract.Group[store.Store]{Name: "Specs", Tests: specTests},
		contract.Group[store.Store]{Name: "Builds", Tests: buildTests},
		contract.Group[store.Store]{Name: "Status", Tests: statusTests},
		contract.Group[store.Store]{Name: "Phases", Tests: phaseTests},
		contract.Group[store.Store]{Name: "Lists", Tests: listTests},
		contract.Group[store.Store]{Name: "Concurrency", Tests: concurrencyTests},
		contract.Group[store.Store]{Name: "Owners", Tests: ownerTests},
		contract.Group[store.Store]{Name: "Overview", Tests: overviewTests},
		contract.Group[store.Store]{Name: "CDash", Tests: cdashTests},
		contract.Group[store.Store]{Name: "Watch", Tests: watchTests},
		contract.Group[store.Store]{Name: "Failures", Tests: failureTests},
		contract.Group[store.Store]{Name: "DAG", Tests: dagTests},
		contract.Group[store.Store]{Name: "Closure", Tests: closureTests},
		contract.Group[store.Store]{Name: "Retention", Tests: retentionTests},
		contract.Group[store.Store]{Name: "Context", Tests: contextTests},
	)
}

type namedTest = contract.Test[store.Store]

func ctx(t testing.TB) context.Context { return contract.Context(t) }

// The users of the tests.
var (
	alice = store.Actor{Name: "alice"}
	bob   = store.Actor{Name: "bob"}
	admin = store.Actor{Name: "root", Admin: true}
)

const sv = "0.17.1"

var (
	gcc  = &spackspec.Compiler{Name: "gcc", Version: "12.2.0"}
	arch = &spackspec.Arch{Platform: "linux", PlatformOS: "debian12", Target: spackspec.Target{
		Name: "skylake", Vendor: "GenuineIntel", Generation: 0,
		Features: []string{"adx", "avx"}, Parents: []string{"broadwell"},
	}}
	env1 = store.BuildEnv{Hostname: "host1", KernelVersion: "6.1", HostOS: "debian12", HostTarget: "skylake", Platform: "linux"}
	env2 = store.BuildEnv{Hostname: "host2", KernelVersion: "6.1", HostOS: "debian12", HostTarget: "skylake", Platform: "linux"}
)

// n makes a concrete node; deps are added with dep and ref.
func n(name, version, fullHash string, deps ...spackspec.Dep) spackspec.Node {
	return spackspec.Node{
		Name: name, Version: version, Namespace: "builtin",
		FullHash: fullHash, Hash: "h-" + fullHash, BuildHash: "b-" + fullHash, PackageHash: "p-" + fullHash,
		Compiler: gcc, Arch: arch,
		Parameters: []byte(`{"shared":true,"cflags":[]}`),
		Deps:       deps,
	}
}

// dep is a reference to node index i of the same document.
func dep(name string, i int, types ...string) spackspec.Dep {
	return spackspec.Dep{Name: name, Ref: "ref-" + name, Index: i, Types: types}
}

// ref is a reference to a node outside the document.
func ref(name, hash string, types ...string) spackspec.Dep {
	return spackspec.Dep{Name: name, Ref: hash, Index: -1, Types: types}
}

func doc(nodes ...spackspec.Node) *spackspec.Document {
	return &spackspec.Document{Nodes: nodes}
}

// diamond is root -> (left, right) -> base.
func diamond(prefix string) *spackspec.Document {
	return doc(
		n(prefix+"root", "1.0", prefix+"root-fh", dep(prefix+"left", 1, "build", "link"), dep(prefix+"right", 2, "run")),
		n(prefix+"left", "2.0", prefix+"left-fh", dep(prefix+"base", 3, "link")),
		n(prefix+"right", "3.0", prefix+"right-fh", dep(prefix+"base", 3, "link")),
		n(prefix+"base", "4.0", prefix+"base-fh"),
	)
}

func putSpec(t testing.TB, st store.Store, d *spackspec.Document) store.SpecResult {
	t.Helper()
	res, err := st.PutSpec(ctx(t), sv, d)
	if err != nil {
		t.Fatalf("PutSpec: %v", err)
	}
	return res
}

func allSpecs(t testing.TB, st store.Store, q store.SpecQuery) []store.Spec {
	t.Helper()
	var all []store.Spec
	for {
		q.Limit = 1000
		page, err := st.ListSpecs(ctx(t), q)
		if err != nil {
			t.Fatalf("ListSpecs: %v", err)
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all
		}
		q.AfterID = page[len(page)-1].ID
	}
}

func getSpec(t testing.TB, st store.Store, hash string) store.Spec {
	t.Helper()
	sp, err := st.GetSpec(ctx(t), hash, sv)
	if err != nil {
		t.Fatalf("GetSpec(%s): %v", hash, err)
	}
	return sp
}

func newBuild(t testing.TB, st store.Store, fullHash string, env store.BuildEnv, owner string, tags ...string) store.BuildResult {
	t.Helper()
	res, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: fullHash, SpackVersion: sv, Env: env, Owner: owner, Tags: tags})
	if err != nil {
		t.Fatalf("GetOrCreateBuild(%s): %v", fullHash, err)
	}
	return res
}

func getBuild(t testing.TB, st store.Store, id int64) store.Build {
	t.Helper()
	b, err := st.GetBuild(ctx(t), id)
	if err != nil {
		t.Fatalf("GetBuild(%d): %v", id, err)
	}
	return b
}

func setStatus(t testing.TB, st store.Store, who store.Actor, id int64, status string) store.BuildRef {
	t.Helper()
	ref, err := st.UpdateBuildStatus(ctx(t), who, id, status)
	if err != nil {
		t.Fatalf("UpdateBuildStatus(%d, %s): %v", id, status, err)
	}
	return ref
}

// singularity parses the real 55-node fixture.
func singularity(t testing.TB) *spackspec.Document {
	t.Helper()
	path := testdataFile(t, "specs", "singularity-3.8.0.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := spackspec.Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return d
}

func testdataFile(t testing.TB, parts ...string) string { return fixtures.Path(t, parts...) }
