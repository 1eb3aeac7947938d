package specplan

import (
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
)

func TestRefusesNodesWithoutIdentity(t *testing.T) {
	for name, doc := range map[string]*spackspec.Document{
		"no nodes":     {},
		"no name":      {Nodes: []spackspec.Node{{FullHash: "x"}}},
		"no hash":      {Nodes: []spackspec.Node{{Name: "a"}}},
		"dep no hash":  {Nodes: []spackspec.Node{{Name: "a", FullHash: "x", Deps: []spackspec.Dep{{Name: "b", Index: -1}}}}},
		"dep no name":  {Nodes: []spackspec.Node{{Name: "a", FullHash: "x", Deps: []spackspec.Dep{{Ref: "y", Index: -1}}}}},
		"nil document": nil,
	} {
		if _, err := New("1", doc); !errs.Is(err, errs.BadRequest) {
			t.Errorf("%s: %v, want BadRequest", name, err)
		}
	}
}

// An abstract node sent without a hash is stored under its content key.
func TestFailedConcretizationWithoutHashes(t *testing.T) {
	p, err := New("1", &spackspec.Document{FailedConcretization: true, Nodes: []spackspec.Node{{Name: "a", ContentKey: "abstract-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Resolve(nil).RootKey(); k != (Key{"a", "abstract-1"}) {
		t.Fatalf("key = %v", k)
	}
}

func TestWritesForNewDocument(t *testing.T) {
	arch := &spackspec.Arch{Platform: "linux", PlatformOS: "os", Target: spackspec.Target{Name: "x86_64"}}
	detailed := &spackspec.Arch{Platform: "linux", PlatformOS: "os", Target: spackspec.Target{Name: "x86_64", Vendor: "v"}}
	doc := &spackspec.Document{Nodes: []spackspec.Node{
		{Name: "b", FullHash: "b1", Arch: arch, Deps: []spackspec.Dep{
			{Name: "a", Ref: "a1", Index: 1}, {Name: "a", Ref: "a1", Index: 1}, {Name: "z", Ref: "z1", Index: -1},
		}},
		{Name: "a", FullHash: "a1", Arch: detailed, Compiler: &spackspec.Compiler{Name: "gcc", Version: "1"}},
		{Name: "a", FullHash: "a1"},
	}}
	p, err := New("1", doc)
	if err != nil {
		t.Fatal(err)
	}
	res := p.Resolve(nil)
	if res.Complete() {
		t.Fatal("an empty store holds everything")
	}
	w := res.Writes()
	var keys []Key
	for _, s := range w.Inserts {
		keys = append(keys, s.Key)
	}
	want := []Key{{"a", "a1"}, {"b", "b1"}, {"z", "z1"}}
	if len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] || keys[2] != want[2] || !w.Inserts[2].Stub {
		t.Fatalf("inserts = %+v", w.Inserts)
	}
	if len(w.Edges) != 2 || w.Edges[0].Child != (Key{"a", "a1"}) || w.Edges[1].Child != (Key{"z", "z1"}) {
		t.Fatalf("edges = %+v", w.Edges)
	}
	if len(w.Targets) != 1 || w.Targets[0].Vendor != "v" || len(w.Compilers) != 1 || len(w.Archs) != 1 {
		t.Fatalf("targets %+v compilers %+v archs %+v", w.Targets, w.Compilers, w.Archs)
	}
	if len(w.Fills) != 0 {
		t.Fatalf("fills = %+v", w.Fills)
	}
}

func TestResolvedDocumentIsComplete(t *testing.T) {
	doc := &spackspec.Document{Nodes: []spackspec.Node{
		{Name: "b", Hash: "bh", Deps: []spackspec.Dep{{Name: "a", Ref: "ah", Index: 1}}},
		{Name: "a", Hash: "ah"},
	}}
	p, err := New("1", doc)
	if err != nil {
		t.Fatal(err)
	}
	// Both nodes are stored under their full hashes; the document only has DAG hashes.
	rows := []Row{
		{ID: 7, Name: "b", FullHash: "bf", Hash: "bh", HasDeps: true},
		{ID: 3, Name: "a", FullHash: "af", Hash: "ah"},
		{ID: 9, Name: "a", FullHash: "af2", Hash: "ah"},
	}
	res := p.Resolve(rows)
	if !res.Complete() {
		t.Fatal("not complete")
	}
	ans, err := res.Answer(rows, false)
	if err != nil {
		t.Fatal(err)
	}
	if ans.ID != 7 || ans.FullHash != "bf" || len(ans.Deps) != 1 || ans.Deps[0].FullHash != "af" {
		t.Fatalf("answer = %+v (the oldest spec with a DAG hash wins)", ans)
	}
}
