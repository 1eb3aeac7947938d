package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var dagTests = []namedTest{
	{Name: "BuildsByDependency", Fn: testBuildsByDependency},
	{Name: "SpecsDependingOn", Fn: testSpecsDependingOn},
	{Name: "BuildDAG", Fn: testBuildDAG},
}

// stackNode is a node with its own compiler and variants.
func stackNode(name, version, fullHash, compiler, params string, deps ...spackspec.Dep) spackspec.Node {
	node := n(name, version, fullHash, deps...)
	c, v, _ := cut(compiler)
	node.Compiler = &spackspec.Compiler{Name: c, Version: v}
	node.Parameters = []byte(params)
	return node
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '@' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// stack is the ids of the builds of seedStack.
type stack struct {
	hdf5New, hdf5Old, hdf5Clang, netcdf, openmpi int64
}

// seedStack stores four DAGs sharing zlib@1.2.11:
//
//	hdf5@1.12.2+mpi %gcc@11.3.0 -> openmpi@4.1.1 -> hwloc@2.7 -> zlib@1.2.11, hdf5 -> zlib
//	hdf5@1.10.7~mpi %gcc@11.3.0 -> zlib@1.2.13
//	hdf5@1.12.2+mpi %clang@14.0.0 -> openmpi@4.0.7 %clang -> zlib@1.2.11
//	netcdf-c@4.8.1 -> the first hdf5 (so openmpi and zlib at depths 2 to 4)
//
// and builds every root, plus one of openmpi@4.1.1 itself.
func seedStack(t *testing.T, st store.Store) stack {
	const gccOn, gccOff = `{"mpi":true,"shared":true}`, `{"mpi":false,"shared":true}`
	zlib := stackNode("zlib", "1.2.11", "zlib-fh", "gcc@11.3.0", `{"shared":true,"optimize":true}`)
	hwloc := stackNode("hwloc", "2.7.0", "hwloc-fh", "gcc@11.3.0", `{"libs":["shared","static"]}`, dep("zlib", 3, "link"))
	openmpi := stackNode("openmpi", "4.1.1", "openmpi-fh", "gcc@11.3.0", `{"fabrics":["ucx"]}`, dep("hwloc", 2, "link"))
	hdf5 := stackNode("hdf5", "1.12.2", "hdf5-new-fh", "gcc@11.3.0", gccOn, dep("openmpi", 1, "link"), dep("zlib", 3, "link"))
	putSpec(t, st, doc(hdf5, openmpi, hwloc, zlib))
	putSpec(t, st, doc(
		stackNode("hdf5", "1.10.7", "hdf5-old-fh", "gcc@11.3.0", gccOff, dep("zlib", 1, "link")),
		stackNode("zlib", "1.2.13", "zlib13-fh", "gcc@11.3.0", `{"shared":true}`)))
	putSpec(t, st, doc(
		stackNode("hdf5", "1.12.2", "hdf5-clang-fh", "clang@14.0.0", gccOn, dep("openmpi", 1, "link")),
		stackNode("openmpi", "4.0.7", "openmpi407-fh", "clang@14.0.0", `{"fabrics":["ofi"]}`, dep("zlib", 2, "link")),
		zlib))
	putSpec(t, st, doc(
		stackNode("netcdf-c", "4.8.1", "netcdf-fh", "gcc@11.3.0", `{"mpi":true}`, dep("hdf5", 1, "link")),
		hdf5, openmpi, hwloc, zlib))
	return stack{
		hdf5New:   newBuild(t, st, "hdf5-new-fh", env1, "alice").Build.ID,
		hdf5Old:   newBuild(t, st, "hdf5-old-fh", env1, "alice").Build.ID,
		hdf5Clang: newBuild(t, st, "hdf5-clang-fh", env1, "alice").Build.ID,
		netcdf:    newBuild(t, st, "netcdf-fh", env1, "alice").Build.ID,
		openmpi:   newBuild(t, st, "openmpi-fh", env1, "alice").Build.ID,
	}
}

func constraint(t testing.TB, text string) *spackspec.Constraint {
	t.Helper()
	c, err := spackspec.ParseConstraint(text)
	if err != nil {
		t.Fatalf("ParseConstraint(%q): %v", text, err)
	}
	return &c
}

func testBuildsByDependency(t *testing.T, st store.Store) {
	s := seedStack(t, st)
	cases := []struct {
		specName, dependency string
		want                 []int64 // newest first
	}{
		{"hdf5", "openmpi@4.1.1", []int64{s.hdf5New}},
		{"hdf5", "openmpi@4.1:", []int64{s.hdf5New}},
		{"hdf5", "openmpi@4", []int64{s.hdf5Clang, s.hdf5New}},
		{"", "openmpi@4.1:", []int64{s.netcdf, s.hdf5New}},
		{"hdf5", "zlib@1.2.11", []int64{s.hdf5Clang, s.hdf5New}},
		{"hdf5", "zlib@1.2.12:", []int64{s.hdf5Old}},
		{"", "zlib@1.2.11", []int64{s.openmpi, s.netcdf, s.hdf5Clang, s.hdf5New}},
		{"", "zlib@=1.2", nil},
		{"", "openmpi%clang@14", []int64{s.hdf5Clang}},
		{"", "openmpi%gcc@12:", nil},
		{"", "openmpi fabrics=ucx", []int64{s.netcdf, s.hdf5New}},
		{"", "hdf5+mpi", []int64{s.netcdf}},
		{"", "hdf5~mpi", nil},
		{"", "hwloc libs=static", []int64{s.openmpi, s.netcdf, s.hdf5New}},
		{"", "nosuchpackage", nil},
	}
	for _, c := range cases {
		got := listIDs(t, st, store.BuildQuery{SpecName: c.specName, Dependency: constraint(t, c.dependency)})
		if !slices.Equal(got, c.want) {
			t.Errorf("builds of %q depending on %q = %v, want %v", c.specName, c.dependency, got, c.want)
		}
	}
	// The filter pages like any other.
	q := store.BuildQuery{Dependency: constraint(t, "zlib@1.2.11"), Limit: 2}
	first := listIDs(t, st, q)
	q.AfterID = first[len(first)-1]
	if rest := listIDs(t, st, q); !slices.Equal(append(first, rest...), []int64{s.openmpi, s.netcdf, s.hdf5Clang, s.hdf5New}) {
		t.Errorf("pages %v then %v", first, rest)
	}
}

func testSpecsDependingOn(t *testing.T, st store.Store) {
	seedStack(t, st)
	names := func(q store.SpecQuery) []string {
		var out []string
		for _, sp := range allSpecs(t, st, q) {
			out = append(out, sp.Name+"@"+sp.Version)
		}
		slices.Sort(out)
		return out
	}
	for text, want := range map[string][]string{
		"zlib@1.2.11": {"hdf5@1.12.2", "hdf5@1.12.2", "hwloc@2.7.0", "netcdf-c@4.8.1", "openmpi@4.0.7", "openmpi@4.1.1"},
		"zlib@1.2.13": {"hdf5@1.10.7"},
		"openmpi":     {"hdf5@1.12.2", "hdf5@1.12.2", "netcdf-c@4.8.1"},
		"hdf5@1.12:":  {"netcdf-c@4.8.1"},
		"netcdf-c":    nil,
	} {
		if got := names(store.SpecQuery{DependsOn: constraint(t, text)}); !slices.Equal(got, want) {
			t.Errorf("specs depending on %q = %v, want %v", text, got, want)
		}
	}
	if got := names(store.SpecQuery{Name: "hdf5", DependsOn: constraint(t, "openmpi%clang")}); !slices.Equal(got, []string{"hdf5@1.12.2"}) {
		t.Errorf("hdf5 specs depending on openmpi%%clang = %v", got)
	}
}

func testBuildDAG(t *testing.T, st store.Store) {
	s := seedStack(t, st)
	nodes, err := st.BuildDAG(ctx(t), s.netcdf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, fmt.Sprintf("%d %s@%s %s %s", n.Depth, n.Name, n.Version, n.Compiler, n.FullHash))
	}
	// zlib is two edges down through hdf5 and four through openmpi and hwloc: it counts once.
	want := []string{
		"0 netcdf-c@4.8.1 gcc@11.3.0 netcdf-fh",
		"1 hdf5@1.12.2 gcc@11.3.0 hdf5-new-fh",
		"2 openmpi@4.1.1 gcc@11.3.0 openmpi-fh",
		"2 zlib@1.2.11 gcc@11.3.0 zlib-fh",
		"3 hwloc@2.7.0 gcc@11.3.0 hwloc-fh",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("BuildDAG = %q, want %q", got, want)
	}
	if nodes[1].Parameters != `{"mpi":true,"shared":true}` {
		t.Errorf("hdf5's parameters = %s", nodes[1].Parameters)
	}
	if _, err := st.BuildDAG(ctx(t), 999999); !errs.Is(err, errs.NotFound) {
		t.Fatalf("BuildDAG(unknown) = %v, want NotFound", err)
	}
}
