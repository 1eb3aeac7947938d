package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Bench measures the hot writes on the store open returns (one store for each
// sub-benchmark):
//   - PutSpecNew: the 55-node singularity document with fresh hashes each time;
//   - PutSpecRepeat: the same document again;
//   - GetOrCreateBuildRepeat: a build that exists.
func Bench(b *testing.B, open func(tb testing.TB) store.Store) {
	b.Run("PutSpecNew", func(b *testing.B) {
		st := openFor(b, open)
		base := singularity(b)
		docs := make([]*spackspec.Document, b.N)
		for i := range docs {
			docs[i] = rehash(base, fmt.Sprintf("-%d", i))
		}
		c := ctx(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if res, err := st.PutSpec(c, sv, docs[i]); err != nil || !res.Created {
				b.Fatalf("PutSpec: %+v, %v", res, err)
			}
		}
	})
	b.Run("PutSpecRepeat", func(b *testing.B) {
		st := openFor(b, open)
		d := singularity(b)
		putSpec(b, st, d)
		c := ctx(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if res, err := st.PutSpec(c, sv, d); err != nil || res.Created {
				b.Fatalf("PutSpec: %+v, %v", res, err)
			}
		}
	})
	b.Run("GetOrCreateBuildRepeat", func(b *testing.B) {
		st := openFor(b, open)
		putSpec(b, st, diamond(""))
		nb := store.NewBuild{FullHash: "root-fh", SpackVersion: sv, Env: env1, Owner: "alice", Tags: []string{"ci"}}
		newBuild(b, st, "root-fh", env1, "alice", "ci")
		c := ctx(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if res, err := st.GetOrCreateBuild(c, nb); err != nil || res.BuildCreated {
				b.Fatalf("GetOrCreateBuild: %+v, %v", res, err)
			}
		}
	})
	b.Run("ListSpecsPage", func(b *testing.B) { benchListSpecsPage(b, open) })
	b.Run("ListEvents", func(b *testing.B) { benchListEvents(b, open) })
	b.Run("UpdatePhaseErrors", func(b *testing.B) { benchUpdatePhaseErrors(b, open) })
	b.Run("UpdatePhaseShared", func(b *testing.B) { benchUpdatePhaseShared(b, open) })
	b.Run("UpdatePhaseLog", func(b *testing.B) { benchUpdatePhaseLog(b, open) })
}

// UpdatePhaseErrors stores a failed phase of ten errors, the same ten each time, on a build
// of its own: the write that fingerprints events and keeps the failure rollup.
func benchUpdatePhaseErrors(b *testing.B, open func(tb testing.TB) store.Store) {
	st := openFor(b, open)
	putSpec(b, st, diamond(""))
	var events []logparse.Event
	for i, word := range rollupWords[:10] {
		events = append(events, event(logparse.Error, i+1, "undefined reference to `"+word+"'"))
	}
	ids := benchBuilds(b, st)
	c := ctx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range ids {
		if _, err := st.UpdatePhase(c, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.PhaseStatusError, Events: events}); err != nil {
			b.Fatalf("UpdatePhase: %v", err)
		}
	}
}

// benchBuilds makes b.N builds of the diamond's root, one per host.
func benchBuilds(b *testing.B, st store.Store) []int64 {
	ids := make([]int64, b.N)
	for i := range ids {
		env := env1
		env.Hostname = fmt.Sprintf("bench-host-%d", i)
		ids[i] = newBuild(b, st, "root-fh", env, "alice").Build.ID
	}
	return ids
}

// UpdatePhaseShared writes, from 8 goroutines at once, the first phase of one new build
// after another, each phase with the same 24 warnings: concurrent builds that share their
// fingerprints, as builds of one compiler and code base do, and so the same rollup rows.
func benchUpdatePhaseShared(b *testing.B, open func(tb testing.TB) store.Store) {
	st := openFor(b, open)
	putSpec(b, st, diamond(""))
	var events []logparse.Event
	for _, word := range rollupWords {
		events = append(events,
			event(logparse.Warning, len(events)+1, "unused variable '"+word+"' [-Wunused-variable]"),
			event(logparse.Warning, len(events)+2, "'"+word+"' defined but not used [-Wunused-function]"))
	}
	ids := benchBuilds(b, st)
	c := ctx(b)
	var next atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[next.Add(1)-1]
			if _, err := st.UpdatePhase(c, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.StatusSuccess, Events: events}); err != nil {
				b.Errorf("UpdatePhase: %v", err)
				return
			}
		}
	})
}

// ListSpecsPage reads a full page (1,000) of specs with their links, the upstream
// look-up's page.
func benchListSpecsPage(b *testing.B, open func(tb testing.TB) store.Store) {
	st := openFor(b, open)
	base := singularity(b)
	for i := 0; countSpecs(b, st) < 1000; i++ {
		putSpec(b, st, rehash(base, fmt.Sprintf("-%d", i)))
	}
	c := ctx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if page, err := st.ListSpecs(c, store.SpecQuery{Limit: 1000}); err != nil || len(page) != 1000 {
			b.Fatalf("ListSpecs: %d, %v", len(page), err)
		}
	}
}

func countSpecs(b *testing.B, st store.Store) int {
	page, err := st.ListSpecs(ctx(b), store.SpecQuery{Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	return len(page)
}

func openFor(b *testing.B, open func(tb testing.TB) store.Store) store.Store {
	st := open(b)
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// rehash copies d with suffix appended to every hash, so that it is a new document.
func rehash(d *spackspec.Document, suffix string) *spackspec.Document {
	out := &spackspec.Document{FailedConcretization: d.FailedConcretization, Nodes: make([]spackspec.Node, len(d.Nodes))}
	for i, nd := range d.Nodes {
		nd.FullHash, nd.Hash, nd.BuildHash = nd.FullHash+suffix, nd.Hash+suffix, nd.BuildHash+suffix
		deps := make([]spackspec.Dep, len(nd.Deps))
		for j, dp := range nd.Deps {
			dp.Ref += suffix
			deps[j] = dp
		}
		nd.Deps = deps
		out.Nodes[i] = nd
	}
	return out
}
