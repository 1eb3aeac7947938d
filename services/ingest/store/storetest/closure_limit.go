package storetest

import (
	"fmt"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// testClosureLimit checks that a spec write is refused whole when the closure pairs it
// would add pass store.MaxClosurePairs through specs stored before: nodes above a stored
// chain copy the chain's pairs, and a stub with stored referrers, filled with a chain, gives
// them the chain's. Each document alone is small.
func testClosureLimit(t *testing.T, st store.Store) {
	const depth = 400
	putSpec(t, st, chainDoc("c", "", depth))
	wide := store.MaxClosurePairs/(depth-1) + 1
	above := func(prefix string, count int, below ...spackspec.Dep) *spackspec.Document {
		d := doc()
		for i := range count {
			d.Nodes = append(d.Nodes, n(fmt.Sprintf("%s%d", prefix, i), "1", fmt.Sprintf("%s%d-fh", prefix, i), below...))
		}
		return d
	}
	refused := func(what string, d *spackspec.Document, absent string) {
		t.Helper()
		if _, err := st.PutSpec(ctx(t), sv, d); !errs.Is(err, errs.BadRequest) {
			t.Errorf("%s: %v, want a bad request", what, err)
		}
		if _, err := st.GetSpec(ctx(t), absent, sv); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s: spec %s of the refused write: %v, want not found", what, absent, err)
		}
	}

	refused(fmt.Sprintf("%d specs above a stored chain of %d", wide, depth), above("a", wide, ref("c0", "c0-fh", "link")), "a0-fh")
	putSpec(t, st, above("b", 3, ref("c0", "c0-fh", "link")))
	// Depending on a package and on one of its own dependencies, as Spack's DAGs do: 600
	// specs add 240,600 pairs, though their stored dependencies' descendants add up to more
	// than the limit.
	putSpec(t, st, above("o", 600, ref("c0", "c0-fh", "link"), ref("c1", "c1-fh", "link")))
	if sp, err := st.GetSpec(ctx(t), "o599-fh", sv); err != nil || len(sp.Deps) != 2 {
		t.Errorf("a spec of the write under the limit: %+v, %v", sp, err)
	}

	putSpec(t, st, above("s", wide, ref("stub", "stub-fh", "link")))
	refused(fmt.Sprintf("a stub under %d specs filled with a chain of %d", wide, depth), chainDoc("d", "stub", depth), "d1-fh")
	if sp, err := st.GetSpec(ctx(t), "stub-fh", sv); err != nil || !sp.Stub {
		t.Errorf("the stub after the refused fill: %+v, %v", sp, err)
	}
	putSpec(t, st, chainDoc("d", "stub", 3))
}

// chainDoc is a chain of n specs, each depending on the next; the first is named first
// when given (with full hash first-fh), else prefix0.
func chainDoc(prefix, first string, count int) *spackspec.Document {
	d := doc()
	for i := range count {
		name := fmt.Sprintf("%s%d", prefix, i)
		if i == 0 && first != "" {
			name = first
		}
		var deps []spackspec.Dep
		if i+1 < count {
			deps = append(deps, dep(fmt.Sprintf("%s%d", prefix, i+1), i+1, "link"))
		}
		d.Nodes = append(d.Nodes, n(name, "1", name+"-fh", deps...))
	}
	return d
}
