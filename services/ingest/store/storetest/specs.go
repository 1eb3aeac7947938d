package storetest

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var specTests = []namedTest{
	{Name: "CreatesEveryNode", Fn: testPutSpecCreates},
	{Name: "RepeatChangesNothing", Fn: testPutSpecRepeat},
	{Name: "SpackVersionsAreSeparate", Fn: testPutSpecSpackVersions},
	{Name: "StubFilledIn", Fn: testStubFilledIn},
	{Name: "StubReusedAcrossDocuments", Fn: testStubReused},
	{Name: "HashOnlyNodeIsExistingSpec", Fn: testHashOnlyNodeMatches},
	{Name: "HashOnlyDocumentStoredOnce", Fn: testHashOnlyDocument},
	{Name: "FailedConcretization", Fn: testFailedConcretization},
	{Name: "FailedConcretizationWithoutHashes", Fn: testFailedConcretizationContentKeys},
	{Name: "RepeatedNodeInDocument", Fn: testRepeatedNode},
	{Name: "DependenciesWrittenOnce", Fn: testDependenciesWrittenOnce},
	{Name: "GetSpecByHashAndVersion", Fn: testGetSpecLookup},
	{Name: "GetSpecUnknown", Fn: testGetSpecUnknown},
	{Name: "TooLongValueIsBadRequest", Fn: testTooLong},
	{Name: "NULInNameIsBadRequestOrStored", Fn: testNULInName},
	{Name: "EmptyDocument", Fn: testEmptyDocument},
	{Name: "Singularity", Fn: testSingularity},
}

func testPutSpecCreates(t *testing.T, st store.Store) {
	res := putSpec(t, st, diamond(""))
	if !res.Created || res.ID == 0 || res.Name != "root" || res.Version != "1.0" || res.FullHash != "root-fh" || res.SpackVersion != sv {
		t.Fatalf("result = %+v", res)
	}
	wantDeps := []store.SpecLink{
		{Name: "left", FullHash: "left-fh", Version: "2.0", Types: []string{"build", "link"}},
		{Name: "right", FullHash: "right-fh", Version: "3.0", Types: []string{"run"}},
	}
	assertLinks(t, "result deps", res.Deps, wantDeps)
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 4 {
		t.Fatalf("%d specs stored, want 4", got)
	}

	root := getSpec(t, st, "root-fh")
	if root.ID != res.ID || root.Compiler != "gcc@12.2.0" || root.Arch != "linux-debian12-skylake" ||
		root.Hash != "h-root-fh" || root.BuildHash != "b-root-fh" || root.PackageHash != "p-root-fh" ||
		root.Namespace != "builtin" || root.Parameters != `{"shared":true,"cflags":[]}` || root.Stub ||
		root.FailedConcretization || root.SpackVersion != sv || root.CreatedAt.IsZero() || root.CreatedAt.Location().String() != "UTC" {
		t.Fatalf("root = %+v", root)
	}
	assertLinks(t, "root deps", root.Deps, wantDeps)
	if len(root.Dependents) != 0 {
		t.Fatalf("root dependents = %+v", root.Dependents)
	}
	base := getSpec(t, st, "base-fh")
	assertLinks(t, "base dependents", base.Dependents, []store.SpecLink{
		{Name: "left", FullHash: "left-fh", Version: "2.0", Types: []string{"link"}},
		{Name: "right", FullHash: "right-fh", Version: "3.0", Types: []string{"link"}},
	})
	if len(base.Deps) != 0 {
		t.Fatalf("base deps = %+v", base.Deps)
	}
}

func assertLinks(t testing.TB, what string, got, want []store.SpecLink) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.FullHash != w.FullHash || g.Version != w.Version || !slices.Equal(g.Types, w.Types) {
			t.Fatalf("%s[%d] = %+v, want %+v", what, i, g, w)
		}
	}
}

func testPutSpecRepeat(t *testing.T, st store.Store) {
	first := putSpec(t, st, diamond(""))
	again := putSpec(t, st, diamond(""))
	if again.Created || again.ID != first.ID || again.FullHash != first.FullHash {
		t.Fatalf("repeat = %+v, first = %+v", again, first)
	}
	assertLinks(t, "repeat deps", again.Deps, first.Deps)
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 4 {
		t.Fatalf("%d specs stored after a repeat, want 4", got)
	}
	if got := len(getSpec(t, st, "root-fh").Deps); got != 2 {
		t.Fatalf("root has %d deps after a repeat, want 2", got)
	}
}

func testPutSpecSpackVersions(t *testing.T, st store.Store) {
	a, err := st.PutSpec(ctx(t), "0.17.0", diamond(""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.PutSpec(ctx(t), "0.18.0", diamond(""))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Created || !b.Created || a.ID == b.ID {
		t.Fatalf("spack versions share a spec: %+v %+v", a, b)
	}
	if got := len(allSpecs(t, st, store.SpecQuery{SpackVersion: "0.18.0"})); got != 4 {
		t.Fatalf("%d specs for 0.18.0, want 4", got)
	}
	latest, err := st.GetSpec(ctx(t), "root-fh", "")
	if err != nil || latest.SpackVersion != "0.18.0" {
		t.Fatalf("GetSpec without spack version = %+v, %v; want the newest (0.18.0)", latest, err)
	}
}

func testStubFilledIn(t *testing.T, st store.Store) {
	first := putSpec(t, st, doc(n("app", "1.0", "app-fh", ref("lib", "lib-fh", "link"))))
	if !first.Created {
		t.Fatal("root not created")
	}
	assertLinks(t, "deps", first.Deps, []store.SpecLink{{Name: "lib", FullHash: "lib-fh", Types: []string{"link"}}})
	stub := getSpec(t, st, "lib-fh")
	if !stub.Stub || stub.Version != "" || stub.Compiler != "" || stub.Arch != "" {
		t.Fatalf("stub = %+v", stub)
	}

	filled := putSpec(t, st, doc(n("lib", "2.5", "lib-fh")))
	if !filled.Created || filled.ID != stub.ID || filled.Version != "2.5" {
		t.Fatalf("filling the stub = %+v (stub id %d); want created, same id", filled, stub.ID)
	}
	lib := getSpec(t, st, "lib-fh")
	if lib.Stub || lib.Version != "2.5" || lib.Compiler != "gcc@12.2.0" || lib.Hash != "h-lib-fh" {
		t.Fatalf("filled stub = %+v", lib)
	}
	assertLinks(t, "app deps", getSpec(t, st, "app-fh").Deps,
		[]store.SpecLink{{Name: "lib", FullHash: "lib-fh", Version: "2.5", Types: []string{"link"}}})
	if again := putSpec(t, st, doc(n("lib", "2.5", "lib-fh"))); again.Created {
		t.Fatal("a repeat of the filled node reports created")
	}
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 2 {
		t.Fatalf("%d specs, want 2", got)
	}
}

func testStubReused(t *testing.T, st store.Store) {
	putSpec(t, st, doc(n("app1", "1", "app1-fh", ref("zlib", "zlib-fh"))))
	putSpec(t, st, doc(n("app2", "1", "app2-fh", ref("zlib", "zlib-fh"))))
	// A reference to a spec already stored (not as a stub) links to it.
	putSpec(t, st, doc(n("zstd", "1.5", "zstd-fh")))
	putSpec(t, st, doc(n("app3", "1", "app3-fh", ref("zstd", "zstd-fh"))))
	specs := allSpecs(t, st, store.SpecQuery{})
	if len(specs) != 5 {
		t.Fatalf("%d specs, want 5: %+v", len(specs), specs)
	}
	zlib := getSpec(t, st, "zlib-fh")
	if !zlib.Stub || len(zlib.Dependents) != 2 {
		t.Fatalf("zlib = %+v", zlib)
	}
	if zstd := getSpec(t, st, "zstd-fh"); zstd.Stub || len(zstd.Dependents) != 1 {
		t.Fatalf("zstd = %+v", zstd)
	}
}

// v0.18's analyzer uploads name nodes by DAG hash only: they are the specs stored from
// the install's documents.
func testHashOnlyNodeMatches(t *testing.T, st store.Store) {
	full := putSpec(t, st, diamond(""))
	hashOnly := diamond("")
	for i := range hashOnly.Nodes {
		nd := &hashOnly.Nodes[i]
		nd.FullHash, nd.BuildHash = "", ""
	}
	again := putSpec(t, st, hashOnly)
	if again.Created || again.ID != full.ID || again.FullHash != "root-fh" {
		t.Fatalf("hash-only upload = %+v, want the existing root %d", again, full.ID)
	}
	assertLinks(t, "deps", again.Deps, full.Deps)
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 4 {
		t.Fatalf("%d specs after a hash-only upload, want 4", got)
	}
	// A reference by DAG hash to a spec outside the document finds it too.
	putSpec(t, st, doc(n("tool", "1", "tool-fh", ref("base", "h-base-fh"))))
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 5 {
		t.Fatalf("%d specs after a reference by DAG hash, want 5", got)
	}
	assertLinks(t, "tool deps", getSpec(t, st, "tool-fh").Deps,
		[]store.SpecLink{{Name: "base", FullHash: "base-fh", Version: "4.0", Types: []string{}}})
}

func testHashOnlyDocument(t *testing.T, st store.Store) {
	d := doc(
		spackspec.Node{Name: "mon-root", Version: "2.1", Hash: "w4sh", Compiler: gcc, Arch: arch,
			Deps: []spackspec.Dep{{Name: "mon-dep", Ref: "3evn", Index: 1, Types: []string{"build"}}}},
		spackspec.Node{Name: "mon-dep", Version: "1.0", Hash: "3evn", Compiler: gcc, Arch: arch},
	)
	first := putSpec(t, st, d)
	if !first.Created || first.FullHash != "w4sh" {
		t.Fatalf("first = %+v", first)
	}
	if again := putSpec(t, st, d); again.Created || again.ID != first.ID {
		t.Fatalf("again = %+v", again)
	}
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 2 {
		t.Fatalf("%d specs, want 2", got)
	}
	if sp := getSpec(t, st, "w4sh"); sp.Hash != "w4sh" || sp.FullHash != "w4sh" {
		t.Fatalf("spec = %+v", sp)
	}
}

func testFailedConcretization(t *testing.T, st store.Store) {
	d := &spackspec.Document{FailedConcretization: true, Nodes: []spackspec.Node{
		{Name: "mon-root", Hash: "7uai", Deps: []spackspec.Dep{{Name: "mon-fail", Ref: "yj6q", Index: 1, Types: []string{}}}},
		{Name: "mon-fail", Hash: "yj6q"},
	}}
	res := putSpec(t, st, d)
	if !res.Created || res.FullHash != spackspec.FailedConcretization || res.Version != "" {
		t.Fatalf("result = %+v", res)
	}
	assertLinks(t, "deps", res.Deps, []store.SpecLink{{Name: "mon-fail", FullHash: spackspec.FailedConcretization, Types: []string{}}})
	sp := getSpec(t, st, "7uai")
	if !sp.FailedConcretization || sp.Compiler != "" || sp.Arch != "" || sp.Stub {
		t.Fatalf("spec = %+v", sp)
	}
	if again := putSpec(t, st, d); again.Created {
		t.Fatal("a repeated failed document reports created")
	}
}

// Abstract nodes sent without a hash are stored under their content keys, once.
func testFailedConcretizationContentKeys(t *testing.T, st store.Store) {
	failed := func(rootKey string) *spackspec.Document {
		return &spackspec.Document{FailedConcretization: true, Nodes: []spackspec.Node{
			{Name: "mon-root", ContentKey: rootKey, Deps: []spackspec.Dep{{Name: "mon-fail", Index: 1, Types: []string{}}}},
			{Name: "mon-fail", ContentKey: "abstract-fail"},
		}}
	}
	res := putSpec(t, st, failed("abstract-root1"))
	if !res.Created || res.FullHash != spackspec.FailedConcretization {
		t.Fatalf("result = %+v", res)
	}
	assertLinks(t, "deps", res.Deps, []store.SpecLink{{Name: "mon-fail", FullHash: spackspec.FailedConcretization, Types: []string{}}})
	sp := getSpec(t, st, "abstract-root1")
	if !sp.FailedConcretization || sp.FullHash != "abstract-root1" || sp.Hash != "" || sp.Stub || len(sp.Deps) != 1 {
		t.Fatalf("spec = %+v", sp)
	}
	if again := putSpec(t, st, failed("abstract-root1")); again.Created {
		t.Fatal("a repeated failed document reports created")
	}
	if got := len(allSpecs(t, st, store.SpecQuery{Name: "mon-root"})); got != 1 {
		t.Fatalf("%d mon-root specs after a repeat, want 1", got)
	}
	if other := putSpec(t, st, failed("abstract-root2")); !other.Created {
		t.Fatal("another abstract mon-root was not created")
	}
	if got := len(allSpecs(t, st, store.SpecQuery{Name: "mon-root"})); got != 2 {
		t.Fatalf("%d mon-root specs, want 2", got)
	}
}

func testRepeatedNode(t *testing.T, st store.Store) {
	d := doc(
		n("top", "1", "top-fh", dep("mid", 1), dep("leaf", 2)),
		n("mid", "1", "mid-fh", dep("leaf", 3)),
		n("leaf", "1", "leaf-fh"),
		n("leaf", "1", "leaf-fh"),
	)
	putSpec(t, st, d)
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 3 {
		t.Fatalf("%d specs, want 3", got)
	}
	if deps := getSpec(t, st, "top-fh").Deps; len(deps) != 2 {
		t.Fatalf("top deps = %+v", deps)
	}
}

func testGetSpecLookup(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	// Another spec whose DAG hash is root's full hash: the full-hash match wins.
	other := n("other", "1", "other-fh")
	other.Hash = "root-fh"
	putSpec(t, st, doc(other))
	if sp := getSpec(t, st, "root-fh"); sp.Name != "root" {
		t.Fatalf("GetSpec(root-fh) = %s, want root", sp.Name)
	}
	if sp := getSpec(t, st, "h-left-fh"); sp.Name != "left" {
		t.Fatalf("GetSpec by DAG hash = %s, want left", sp.Name)
	}
	if _, err := st.GetSpec(ctx(t), "root-fh", "9.9"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("GetSpec under another spack version: %v, want NotFound", err)
	}
}

func testGetSpecUnknown(t *testing.T, st store.Store) {
	if _, err := st.GetSpec(ctx(t), "nope", ""); !errs.Is(err, errs.NotFound) {
		t.Fatalf("GetSpec(nope) = %v, want NotFound", err)
	}
}

// tooLongMessage is the message of a value a length check refused: it names the column,
// with no SQL. SQLite tells only the check's expression, which may be the same for more
// than one column: it names them all ("compilers.name or specs.name").
var tooLongMessage = regexp.MustCompile(`^A value is too long or invalid \([a-z_]+\.[a-z_]+( or [a-z_]+\.[a-z_]+)*\)\.$`)

func testTooLong(t *testing.T, st store.Store) {
	_, err := st.PutSpec(ctx(t), sv, doc(n(strings.Repeat("x", 300), "1", "fh")))
	if !errs.Is(err, errs.BadRequest) {
		t.Fatalf("a 300-character name: %v, want BadRequest", err)
	}
	if msg := err.Error(); !tooLongMessage.MatchString(msg) || !strings.Contains(msg, "specs.name") {
		t.Fatalf("a 300-character name: message %q, want %v naming specs.name", msg, tooLongMessage)
	}
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 0 {
		t.Fatalf("%d specs after a refused document, want 0", got)
	}
}

// A NUL character in a name: PostgreSQL cannot store it in text, and the store answers
// errs.BadRequest with a message naming the problem; SQLite can, and stores it byte for
// byte. Either is the contract (the service refuses NUL in names before the store sees
// them); a failure of the store (a 5xx) is not.
func testNULInName(t *testing.T, st store.Store) {
	name := "nul\x00name"
	res, err := st.PutSpec(ctx(t), sv, doc(n(name, "1", "nul-fh")))
	if err != nil {
		if !errs.Is(err, errs.BadRequest) || strings.Contains(err.Error(), "SQL") || strings.Contains(err.Error(), "\x00") {
			t.Fatalf("a NUL in a name: %v (%T), want BadRequest with a clean message", err, err)
		}
		if got := len(allSpecs(t, st, store.SpecQuery{})); got != 0 {
			t.Fatalf("%d specs after a refused document, want 0", got)
		}
		return
	}
	if res.Name != name || getSpec(t, st, "nul-fh").Name != name {
		t.Fatalf("a NUL in a name stored as %q", res.Name)
	}
}

func testEmptyDocument(t *testing.T, st store.Store) {
	if _, err := st.PutSpec(ctx(t), sv, &spackspec.Document{}); !errs.Is(err, errs.BadRequest) {
		t.Fatalf("empty document: %v, want BadRequest", err)
	}
}

func testSingularity(t *testing.T, st store.Store) {
	d := singularity(t)
	res := putSpec(t, st, d)
	if !res.Created || res.Name != "singularity" || res.FullHash != "36u22fm5i3w2tqyiyje22j6x55emekjw" || len(res.Deps) != 8 {
		t.Fatalf("result = %+v", res)
	}
	specs := allSpecs(t, st, store.SpecQuery{})
	if len(specs) != 55 {
		t.Fatalf("%d specs stored, want 55", len(specs))
	}
	for _, sp := range specs {
		if sp.Stub {
			t.Fatalf("stub %s %s: every dependency is in the document", sp.Name, sp.FullHash)
		}
	}
	root := getSpec(t, st, res.FullHash)
	if len(root.Deps) != 8 || root.Arch != "linux-ubuntu20.04-skylake" || root.Compiler != "gcc@9.3.0" {
		t.Fatalf("root = %d deps, arch %q, compiler %q", len(root.Deps), root.Arch, root.Compiler)
	}
	for _, d := range res.Deps {
		if sp := getSpec(t, st, d.FullHash); sp.Name != d.Name || sp.Stub {
			t.Fatalf("dependency %+v resolves to %+v", d, sp)
		}
	}
	again := putSpec(t, st, singularity(t))
	if again.Created || again.ID != res.ID {
		t.Fatalf("repeat = %+v", again)
	}
	if got := len(allSpecs(t, st, store.SpecQuery{})); got != 55 {
		t.Fatalf("%d specs after a repeat, want 55", got)
	}
}

// A spec's dependencies come from the first document that gives it any; later documents
// naming the same spec do not add to them.
func testDependenciesWrittenOnce(t *testing.T, st store.Store) {
	putSpec(t, st, doc(n("app", "1", "app-fh", ref("zlib", "zlib-fh"))))
	putSpec(t, st, doc(n("app", "1", "app-fh", ref("zlib", "zlib-fh"), ref("bzip2", "bzip2-fh"))))
	deps := getSpec(t, st, "app-fh").Deps
	if len(deps) != 1 || deps[0].Name != "zlib" {
		t.Fatalf("deps = %+v, want zlib only", deps)
	}
	// A spec first stored without dependencies gets them from a later document.
	putSpec(t, st, doc(n("tool", "1", "tool-fh")))
	putSpec(t, st, doc(n("tool", "1", "tool-fh", ref("zlib", "zlib-fh"))))
	if deps := getSpec(t, st, "tool-fh").Deps; len(deps) != 1 {
		t.Fatalf("tool deps = %+v, want zlib", deps)
	}
}
