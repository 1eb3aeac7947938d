package spackspec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

func testdataDir(tb testing.TB) string { return fixtures.Path(tb) }

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return b
}

// capturedSpec is one spec document the real Spack client sent.
type capturedSpec struct {
	name string // file:line path
	path string // /ms1/specs/new/ or /ms1/builds/new/
	spec json.RawMessage
}

// capturedSpecs returns every spec document in the spack-client captures: the "spec" of
// each specs/new body and of each builds/new body that has one.
func capturedSpecs(tb testing.TB) []capturedSpec {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(testdataDir(tb), "spack-client", "*.jsonl"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no spack-client captures found (%v)", err)
	}
	var out []capturedSpec
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for line := 1; sc.Scan(); line++ {
			var req struct {
				Method string          `json:"method"`
				Path   string          `json:"path"`
				Body   json.RawMessage `json:"body"`
			}
			if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
				tb.Fatalf("%s:%d: %v", f, line, err)
			}
			if req.Method != "POST" || (req.Path != "/ms1/specs/new/" && req.Path != "/ms1/builds/new/") {
				continue
			}
			body := []byte(req.Body)
			var text string // the captures hold bodies as the text that was sent
			if json.Unmarshal(req.Body, &text) == nil {
				body = []byte(text)
			}
			var b map[string]json.RawMessage
			if err := json.Unmarshal(body, &b); err != nil {
				tb.Fatalf("%s:%d: body: %v", f, line, err)
			}
			spec, ok := b["spec"]
			if !ok {
				continue
			}
			out = append(out, capturedSpec{name: fmt.Sprintf("%s:%d", filepath.Base(f), line), path: req.Path, spec: spec})
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
		fh.Close()
	}
	return out
}

// expected is what a document holds, read without the package under test.
type expected struct {
	meta  float64 // _meta.version, 0 for v1 lists
	names []string
	nodes []map[string]any // the node bodies (v1: the value under the name)
	deps  [][]rawDep       // per node, in document order (v1: sorted by name)
}

type rawDep struct {
	name, ref string
	types     []string
}

// rawTypes reads a dependency's "type", a list or a single string.
func rawTypes(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func readExpected(t *testing.T, data []byte) expected {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var e expected
	for {
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		if _, ok := m["nodes"]; ok {
			if meta, ok := m["_meta"].(map[string]any); ok {
				e.meta, _ = meta["version"].(float64)
			}
			v = m["nodes"]
			break
		}
		v = m["spec"]
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("test data: no node list in document")
	}
	for _, item := range list {
		n := item.(map[string]any)
		var deps []rawDep
		if e.meta == 0 {
			if len(n) != 1 {
				t.Fatalf("test data: v1 node with %d keys", len(n))
			}
			for name, body := range n {
				e.names = append(e.names, name)
				n = body.(map[string]any)
			}
			dm, _ := n["dependencies"].(map[string]any)
			for name, d := range dm {
				dm := d.(map[string]any)
				deps = append(deps, rawDep{name, str(dm, "hash"), rawTypes(dm["type"])})
			}
			slices.SortFunc(deps, func(a, b rawDep) int { return strings.Compare(a.name, b.name) })
		} else {
			e.names = append(e.names, str(n, "name"))
			dl, _ := n["dependencies"].([]any)
			for _, d := range dl {
				dm := d.(map[string]any)
				ref := str(dm, "full_hash")
				if ref == "" || ref == FailedConcretization {
					ref = str(dm, "build_hash")
				}
				if ref == "" {
					ref = str(dm, "hash")
				}
				deps = append(deps, rawDep{str(dm, "name"), ref, rawTypes(dm["type"])})
			}
		}
		e.nodes = append(e.nodes, n)
		e.deps = append(e.deps, deps)
	}
	return e
}

// noSentinel is how the model carries a hash field: the failed-concretization marker is
// not a hash.
func noSentinel(h string) string {
	if h == FailedConcretization {
		return ""
	}
	return h
}

// checkAgainstRaw compares a parsed document with the same bytes read generically, and
// checks that every dependency resolves to the node the document means.
func checkAgainstRaw(t *testing.T, data []byte, doc *Document) expected {
	t.Helper()
	e := readExpected(t, data)
	if len(doc.Nodes) != len(e.names) {
		t.Fatalf("nodes: got %d, document has %d", len(doc.Nodes), len(e.names))
	}
	for i := range doc.Nodes {
		n, raw := &doc.Nodes[i], e.nodes[i]
		if n.Name != e.names[i] {
			t.Errorf("node %d name: got %q, want %q", i, n.Name, e.names[i])
		}
		if v := str(raw, "version"); v != "" && n.Version != v {
			t.Errorf("node %d version: got %q, want %q", i, n.Version, v)
		}
		for field, got := range map[string]string{"full_hash": n.FullHash, "hash": n.Hash, "build_hash": n.BuildHash, "package_hash": n.PackageHash, "namespace": n.Namespace} {
			want := str(raw, field)
			if field != "package_hash" && field != "namespace" {
				want = noSentinel(want)
			}
			if got != want {
				t.Errorf("node %d %s: got %q, want %q", i, field, got, want)
			}
		}
		if n.Key() == "" || n.Key() == FailedConcretization {
			t.Errorf("node %d: unusable key %q", i, n.Key())
		}
		if a, ok := raw["arch"].(map[string]any); ok {
			if n.Arch == nil || n.Arch.Platform != str(a, "platform") || n.Arch.PlatformOS != str(a, "platform_os") {
				t.Errorf("node %d arch: got %+v, want %v", i, n.Arch, a)
			} else {
				switch tg := a["target"].(type) {
				case string:
					if n.Arch.Target.Name != tg || n.Arch.Target.Features != nil {
						t.Errorf("node %d target: got %+v, want %q", i, n.Arch.Target, tg)
					}
				case map[string]any:
					feats, _ := tg["features"].([]any)
					parents, _ := tg["parents"].([]any)
					if n.Arch.Target.Name != str(tg, "name") || n.Arch.Target.Vendor != str(tg, "vendor") ||
						len(n.Arch.Target.Features) != len(feats) || len(n.Arch.Target.Parents) != len(parents) {
						t.Errorf("node %d target: got %+v, want %v", i, n.Arch.Target, tg)
					}
				}
			}
		} else if n.Arch != nil {
			t.Errorf("node %d: arch %+v from a node without one", i, n.Arch)
		}
		if c, ok := raw["compiler"].(map[string]any); ok {
			if n.Compiler == nil || n.Compiler.Name != str(c, "name") || n.Compiler.Version != str(c, "version") {
				t.Errorf("node %d compiler: got %+v, want %v", i, n.Compiler, c)
			}
		} else if n.Compiler != nil {
			t.Errorf("node %d: compiler %+v from a node without one", i, n.Compiler)
		}
		if p, ok := raw["parameters"]; ok {
			var got any
			if err := json.Unmarshal(n.Parameters, &got); err != nil || !reflect.DeepEqual(got, p) {
				t.Errorf("node %d parameters: got %s, want %v", i, n.Parameters, p)
			}
		}

		want := e.deps[i]
		if len(n.Deps) != len(want) {
			t.Fatalf("node %d deps: got %d, want %d", i, len(n.Deps), len(want))
		}
		got := slices.Clone(n.Deps)
		if e.meta == 0 {
			slices.SortFunc(got, func(a, b Dep) int { return strings.Compare(a.Name, b.Name) })
		}
		for j, d := range got {
			if d.Name != want[j].name || d.Ref != want[j].ref {
				t.Errorf("node %d dep %d: got %s/%s, want %s/%s", i, j, d.Name, d.Ref, want[j].name, want[j].ref)
			}
			// The resolution, done again by brute force.
			at := -1
			for k, m := range e.nodes {
				if d.Ref != "" && (noSentinel(str(m, "full_hash")) == d.Ref || str(m, "build_hash") == d.Ref || str(m, "hash") == d.Ref) {
					at = k
					break
				}
			}
			if d.Index != at {
				t.Errorf("node %d dep %s: index %d, want %d", i, d.Name, d.Index, at)
			}
			if d.Index < 0 {
				t.Errorf("node %d dep %s (%s) does not resolve inside the document", i, d.Name, d.Ref)
			} else if doc.Nodes[d.Index].Name != d.Name {
				t.Errorf("node %d dep %s resolves to node %d named %s", i, d.Name, d.Index, doc.Nodes[d.Index].Name)
			}
			if !slices.Equal(d.Types, want[j].types) {
				t.Errorf("node %d dep %s: types %q, want %q", i, d.Name, d.Types, want[j].types)
			}
		}
	}
	return e
}

func TestParseSpecFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir(t), "specs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no spec files (%v)", err)
	}
	// Facts stated by the test data's README, on top of what the files themselves say.
	facts := map[string]struct {
		nodes, rootDeps  int
		rootName, rootFH string
		rootVersion      string
	}{
		"singularity-3.8.0.json": {55, 8, "singularity", "36u22fm5i3w2tqyiyje22j6x55emekjw", "3.8.0"},
		"singularity-3.6.4.json": {52, 8, "singularity", "p64nmszwer36ly7pnch5fznni4cnmndg", "3.6.4"},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data := readFile(t, f)
			doc, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstRaw(t, data, doc)
			if doc.FailedConcretization {
				t.Error("FailedConcretization set on a concrete document")
			}
			want, ok := facts[filepath.Base(f)]
			if !ok {
				return
			}
			root := doc.Nodes[0]
			if len(doc.Nodes) != want.nodes || root.Name != want.rootName || root.Version != want.rootVersion ||
				root.FullHash != want.rootFH || len(root.Deps) != want.rootDeps {
				t.Errorf("got %d nodes, root %s@%s %s with %d deps; want %d nodes, root %s@%s %s with %d deps",
					len(doc.Nodes), root.Name, root.Version, root.FullHash, len(root.Deps),
					want.nodes, want.rootName, want.rootVersion, want.rootFH, want.rootDeps)
			}
			if root.Arch == nil || root.Arch.Target.Name != "skylake" || len(root.Arch.Target.Features) != 22 ||
				!slices.Equal(root.Arch.Target.Parents, []string{"broadwell"}) || root.Arch.Target.Vendor != "GenuineIntel" {
				t.Errorf("root target: %+v", root.Arch)
			}
			if root.Compiler == nil || *root.Compiler != (Compiler{"gcc", "9.3.0"}) {
				t.Errorf("root compiler: %+v", root.Compiler)
			}
		})
	}
}

// TestParseBuildHashReferences pins the case PROTOCOL.md §4 calls out: singularity-3.8.0
// names its dependencies by build_hash, which differs from the full hash, and each must
// still land on the node that carries that build_hash.
func TestParseBuildHashReferences(t *testing.T) {
	doc, err := Parse(readFile(t, filepath.Join(testdataDir(t), "specs", "singularity-3.8.0.json")))
	if err != nil {
		t.Fatal(err)
	}
	edges := 0
	for i, n := range doc.Nodes {
		for _, d := range n.Deps {
			edges++
			if d.Index < 0 {
				t.Fatalf("node %d dep %s unresolved", i, d.Name)
			}
			child := doc.Nodes[d.Index]
			if d.Ref != child.BuildHash || d.Ref == child.FullHash {
				t.Errorf("node %d dep %s: ref %s, child build_hash %s full_hash %s", i, d.Name, d.Ref, child.BuildHash, child.FullHash)
			}
		}
	}
	if edges != 133 {
		t.Errorf("got %d dependency edges, want 133", edges)
	}
}

func TestParseClientCaptures(t *testing.T) {
	specs := capturedSpecs(t)
	var specsNew, buildsNew int
	for _, c := range specs {
		if c.path == "/ms1/specs/new/" {
			specsNew++
		} else {
			buildsNew++
		}
	}
	// 17 specs/new requests and the 2 analyze builds/new requests that embed spec.json.
	if specsNew != 17 || buildsNew != 2 {
		t.Fatalf("found %d specs/new and %d builds/new spec documents, want 17 and 2", specsNew, buildsNew)
	}
	for _, c := range specs {
		t.Run(c.name, func(t *testing.T) {
			doc, err := Parse(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			e := checkAgainstRaw(t, c.spec, doc)
			failed := strings.Contains(c.name, "concretization-failure")
			if doc.FailedConcretization != failed {
				t.Errorf("FailedConcretization = %v", doc.FailedConcretization)
			}
			if e.meta != 3 || failed {
				return
			}
			// Spack v0.18: a node's DAG hash covers what the old full hash did not, so the two
			// differ for any node with dependencies and agree for leaves; the analyze
			// builds/new embeds spec.json, which has no full_hash at all.
			for i, n := range doc.Nodes {
				switch {
				case n.FullHash == "":
					if c.path != "/ms1/builds/new/" || n.Key() != n.Hash || n.Hash == "" {
						t.Errorf("node %d: no full_hash outside the embedded spec.json (hash %q)", i, n.Hash)
					}
				case len(n.Deps) > 0 && n.Hash == n.FullHash:
					t.Errorf("node %d (%s) has deps but hash == full_hash", i, n.Name)
				case len(n.Deps) == 0 && n.Hash != n.FullHash:
					t.Errorf("leaf node %d (%s): hash %s != full_hash %s", i, n.Name, n.Hash, n.FullHash)
				}
			}
			if len(doc.Nodes[0].Deps) == 0 {
				t.Error("v0.18 root has no dependencies; the hash/full_hash check above is vacuous")
			}
		})
	}
}

func TestParseV018AnalyzeEmbeddedSpec(t *testing.T) {
	var c *capturedSpec
	specs := capturedSpecs(t)
	for i := range specs {
		if strings.HasPrefix(specs[i].name, "v0.18-analyze") && specs[i].path == "/ms1/builds/new/" {
			c = &specs[i]
		}
	}
	if c == nil {
		t.Fatal("no builds/new spec in v0.18-analyze.jsonl")
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(c.spec, &outer); err != nil || len(outer) != 1 || outer["spec"] == nil {
		t.Fatalf("expected spec.json's own {\"spec\": ...} level inside the body's spec, got %.60s", c.spec)
	}
	doc, err := Parse(c.spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Nodes) != 2 || doc.Nodes[0].Name != "mon-root" || doc.Nodes[0].Hash != "w4sh2cptczzsnof5kyxrzpexrz43h6q3" {
		t.Fatalf("got %+v", doc.Nodes)
	}
	for i, n := range doc.Nodes {
		if n.FullHash != "" || n.BuildHash != "" || n.Key() != n.Hash {
			t.Errorf("node %d: full %q build %q key %q", i, n.FullHash, n.BuildHash, n.Key())
		}
	}
	d := doc.Nodes[0].Deps
	if len(d) != 1 || d[0].Name != "mon-dep" || d[0].Index != 1 || d[0].Ref != doc.Nodes[1].Hash ||
		!slices.Equal(d[0].Types, []string{"build", "link"}) {
		t.Errorf("root deps: %+v", d)
	}
}

func TestParseConcretizationFailure(t *testing.T) {
	var c *capturedSpec
	specs := capturedSpecs(t)
	for i := range specs {
		if strings.HasPrefix(specs[i].name, "v0.18-concretization-failure") {
			c = &specs[i]
		}
	}
	if c == nil {
		t.Fatal("no spec in v0.18-concretization-failure.jsonl")
	}
	doc, err := Parse(c.spec)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.FailedConcretization {
		t.Error("FailedConcretization not set")
	}
	want := []Node{
		{Name: "mon-root", Hash: "7uaig2ezagd2dp2ob6zmrgeemykc62ra",
			Deps: []Dep{{Name: "mon-fail", Ref: "yj6qoirym4x43g6fi44vajlsi6e3w3em", Index: 1, Types: nil}}},
		{Name: "mon-fail", Hash: "yj6qoirym4x43g6fi44vajlsi6e3w3em"},
	}
	if !reflect.DeepEqual(doc.Nodes, want) {
		t.Errorf("got  %+v\nwant %+v", doc.Nodes, want)
	}
	if k := doc.Nodes[0].Key(); k != "7uaig2ezagd2dp2ob6zmrgeemykc62ra" {
		t.Errorf("root key %q", k)
	}
}

// TestParseLayouts feeds one DAG in every layout and wrapping Spack has used and expects
// the same Document each time.
func TestParseLayouts(t *testing.T) {
	const v2 = `{"_meta": {"version": 2}, "nodes": [
	  {"name": "top", "version": "1.0", "namespace": "builtin",
	   "arch": {"platform": "linux", "platform_os": "debian12",
	            "target": {"name": "skylake", "vendor": "GenuineIntel", "features": ["adx", "avx"], "generation": 0, "parents": ["broadwell"]}},
	   "compiler": {"name": "gcc", "version": "12.2.0"},
	   "parameters": {"shared": true, "cflags": []},
	   "package_hash": "ph1",
	   "dependencies": [{"name": "dep", "full_hash": "F2", "type": ["build", "link"]},
	                    {"name": "tool", "full_hash": "F3", "type": "build"}],
	   "hash": "H1", "full_hash": "F1", "build_hash": "B1"},
	  {"name": "dep", "version": "2.0", "arch": {"platform": "linux", "platform_os": "debian12", "target": "x86_64"},
	   "dependencies": [{"name": "tool", "full_hash": "F3", "type": ["build"]}],
	   "hash": "H2", "full_hash": "F2", "build_hash": "B2"},
	  {"name": "tool", "version": "3.0", "hash": "H3", "full_hash": "F3", "build_hash": "B3"}]}`
	const v1 = `[
	  {"top": {"version": "1.0", "namespace": "builtin",
	   "arch": {"platform": "linux", "platform_os": "debian12",
	            "target": {"name": "skylake", "vendor": "GenuineIntel", "features": ["adx", "avx"], "generation": 0, "parents": ["broadwell"]}},
	   "compiler": {"name": "gcc", "version": "12.2.0"},
	   "parameters": {"shared": true, "cflags": []},
	   "package_hash": "ph1",
	   "dependencies": {"dep": {"hash": "F2", "type": ["build", "link"]}, "tool": {"hash": "F3", "type": "build"}},
	   "hash": "H1", "full_hash": "F1", "build_hash": "B1"}},
	  {"dep": {"version": "2.0", "arch": {"platform": "linux", "platform_os": "debian12", "target": "x86_64"},
	   "dependencies": {"tool": "F3"},
	   "hash": "H2", "full_hash": "F2", "build_hash": "B2"}},
	  {"tool": {"version": "3.0", "hash": "H3", "full_hash": "F3", "build_hash": "B3"}}]`
	want := &Document{Nodes: []Node{
		{Name: "top", Version: "1.0", Namespace: "builtin", Hash: "H1", FullHash: "F1", BuildHash: "B1", PackageHash: "ph1",
			Arch:       &Arch{Platform: "linux", PlatformOS: "debian12", Target: Target{Name: "skylake", Vendor: "GenuineIntel", Features: []string{"adx", "avx"}, Parents: []string{"broadwell"}}},
			Compiler:   &Compiler{Name: "gcc", Version: "12.2.0"},
			Parameters: json.RawMessage(`{"shared":true,"cflags":[]}`), // without the white space sent
			Deps: []Dep{
				{Name: "dep", Ref: "F2", Index: 1, Types: []string{"build", "link"}},
				{Name: "tool", Ref: "F3", Index: 2, Types: []string{"build"}},
			}},
		{Name: "dep", Version: "2.0", Hash: "H2", FullHash: "F2", BuildHash: "B2",
			Arch: &Arch{Platform: "linux", PlatformOS: "debian12", Target: Target{Name: "x86_64"}},
			Deps: []Dep{{Name: "tool", Ref: "F3", Index: 2, Types: []string{"build"}}}},
		{Name: "tool", Version: "3.0", Hash: "H3", FullHash: "F3", BuildHash: "B3"},
	}}
	wantV1 := cloneDoc(want)
	wantV1.Nodes[1].Deps[0].Types = nil // the oldest form carries no types
	wrap := func(s string, n int) string {
		for range n {
			s = `{"spec": ` + s + `}`
		}
		return s
	}
	for _, tc := range []struct {
		name, doc string
		want      *Document
	}{
		{"v2", v2, want},
		{"v2 in spec", wrap(v2, 1), want},
		{"v2 in spec in spec", wrap(v2, 2), want},
		{"v2 in a whole specs/new body", `{"spack_version": "0.17.2", "spec": ` + v2 + `}`, want},
		{"v1 list", v1, wantV1},
		{"v1 in spec", wrap(v1, 1), wantV1},
		{"v1 in spec in spec", wrap(v1, 2), wantV1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tc.want))
			}
		})
	}
}

func cloneDoc(d *Document) *Document {
	c := &Document{FailedConcretization: d.FailedConcretization, Nodes: slices.Clone(d.Nodes)}
	for i := range c.Nodes {
		c.Nodes[i].Deps = slices.Clone(c.Nodes[i].Deps)
	}
	return c
}

func dump(d *Document) string {
	b, _ := json.MarshalIndent(d, "", " ")
	return string(b)
}

// parseOne parses a one-node v2 document whose node body is given without braces.
func parseOne(t *testing.T, body string) Node {
	t.Helper()
	doc, err := Parse([]byte(`{"nodes": [{"name": "n", "hash": "h", ` + body + `}]}`))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return doc.Nodes[0]
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`"version": "1.2.3"`, "1.2.3"},
		{`"versions": [":"]`, ""},
		{`"versions": ["1.2:1.4"]`, ""},
		{`"versions": ["1.2:"]`, ""},
		{`"versions": ["1.2", "1.4"]`, ""},
		{`"versions": ["1.2,1.4"]`, ""},
		{`"versions": []`, ""},
		{`"versions": ["1.2.3"]`, "1.2.3"},
		{`"versions": ["=1.2.3"]`, "1.2.3"},
		{`"versions": ["develop"]`, "develop"},
		{`"version": "2.0", "versions": [":"]`, "2.0"},
	} {
		if got := parseOne(t, tc.body).Version; got != tc.want {
			t.Errorf("%s: version %q, want %q", tc.body, got, tc.want)
		}
	}
	if c := parseOne(t, `"compiler": {"name": "gcc", "versions": ["12.2.0"]}`).Compiler; c == nil || c.Version != "12.2.0" {
		t.Errorf("compiler from versions list: %+v", c)
	}
}

func TestParseFields(t *testing.T) {
	n := parseOne(t, `"parameters": null, "arch": {"platform": "linux", "target": null}`)
	if n.Parameters != nil || n.Arch == nil || !reflect.DeepEqual(n.Arch.Target, Target{}) {
		t.Errorf("null parameters and target: %+v %+v", n.Parameters, n.Arch)
	}
	n = parseOne(t, `"arch": {"target": "x86_64_v2"}`)
	if !reflect.DeepEqual(n.Arch.Target, Target{Name: "x86_64_v2"}) {
		t.Errorf("string target: %+v", n.Arch.Target)
	}
	for body, want := range map[string][]string{
		`"type": "run"`:                           {"run"},
		`"type": ["build", "link", "run"]`:        {"build", "link", "run"},
		`"type": [ "test" , "custom" ]`:           {"test", "custom"},
		`"type": ["bu\u0069ld", "\u00e9t\u00e9"]`: {"build", "été"},
		`"type": []`:                              nil,
		`"type": null`:                            nil,
	} {
		n := parseOne(t, `"dependencies": [{"name": "d", "hash": "x", `+body+`}]`)
		if !slices.Equal(n.Deps[0].Types, want) {
			t.Errorf("%s: types %q, want %q", body, n.Deps[0].Types, want)
		}
	}

	// Each node owns its target slices even though they are decoded once per document.
	doc, err := Parse([]byte(`{"nodes": [
	  {"name": "a", "hash": "1", "arch": {"target": {"name": "t", "features": ["f"], "parents": ["p"]}}},
	  {"name": "b", "hash": "2", "arch": {"target": {"name": "t", "features": ["f"], "parents": ["p"]}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	doc.Nodes[0].Arch.Target.Features[0] = "changed"
	if doc.Nodes[1].Arch.Target.Features[0] != "f" {
		t.Error("nodes share a target's feature slice")
	}
}

// TestParseTargetsAcrossBufferRefills guards the borrowed target bytes. The decoder shifts
// its buffer over the bytes it has consumed when it must read more, and a long run of white
// space after each node forces exactly that before the parser's next token; each node must
// still get its own target.
func TestParseTargetsAcrossBufferRefills(t *testing.T) {
	pad := strings.Repeat(" ", 5000)
	for _, v1 := range []bool{false, true} {
		var b strings.Builder
		if v1 {
			b.WriteString(`[`)
		} else {
			b.WriteString(`{"nodes": [`)
		}
		const n = 200
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			body := fmt.Sprintf(`"hash": "h%d", "arch": {"target": {"name": "t%d", "features": ["f%d"]}}`, i, i, i)
			if v1 {
				fmt.Fprintf(&b, `{"n%d": {%s}%s}`, i, body, pad)
			} else {
				fmt.Fprintf(&b, `{"name": "n%d", %s}%s`, i, body, pad)
			}
		}
		if v1 {
			b.WriteString(`]`)
		} else {
			b.WriteString(`]}`)
		}
		doc, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		for i, node := range doc.Nodes {
			want := Target{Name: fmt.Sprintf("t%d", i), Features: []string{fmt.Sprintf("f%d", i)}}
			if !reflect.DeepEqual(node.Arch.Target, want) {
				t.Fatalf("v1=%v node %d: target %+v, want %+v", v1, i, node.Arch.Target, want)
			}
		}
	}
}

func TestParseResolution(t *testing.T) {
	doc, err := Parse([]byte(`{"nodes": [
	  {"name": "a", "hash": "ha", "full_hash": "fa",
	   "dependencies": [
	     {"name": "b", "full_hash": "fb", "build_hash": "bb", "hash": "hb"},
	     {"name": "c", "build_hash": "bc", "hash": "hc"},
	     {"name": "c", "hash": "hc"},
	     {"name": "x", "full_hash": "nowhere"},
	     {"name": "b", "full_hash": "FAILED_CONCRETIZATION", "hash": "hb"}]},
	  {"name": "b", "hash": "hb", "full_hash": "fb", "build_hash": "bb"},
	  {"name": "c", "hash": "hc", "build_hash": "bc"},
	  {"name": "c2", "hash": "bc"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Nodes[0].Deps
	want := []Dep{
		{Name: "b", Ref: "fb", Index: 1},       // full_hash preferred
		{Name: "c", Ref: "bc", Index: 2},       // then build_hash; node 2 comes before node 3
		{Name: "c", Ref: "hc", Index: 2},       // then hash
		{Name: "x", Ref: "nowhere", Index: -1}, // not in the document: a stub for the store
		{Name: "b", Ref: "hb", Index: 1},       // the marker is no reference
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if !doc.FailedConcretization {
		t.Error("a FAILED_CONCRETIZATION reference did not flag the document")
	}

	if doc, err := Parse([]byte(`{"nodes": [{"name": "a", "hash": "h", "concrete": false}]}`)); err != nil || !doc.FailedConcretization {
		t.Errorf("abstract node: %v %+v", err, doc)
	}
	if doc, err := Parse([]byte(`{"nodes": [{"name": "a", "hash": "h", "build_hash": "FAILED_CONCRETIZATION"}]}`)); err != nil ||
		!doc.FailedConcretization || doc.Nodes[0].BuildHash != "" {
		t.Errorf("marker in build_hash: %v %+v", err, doc)
	}
}

// Abstract nodes without any hash (PROTOCOL.md §4) are keyed by their content and the
// document; their hashless references name the document's node of that name.
func TestFailedConcretizationWithoutHashes(t *testing.T) {
	const doc = `{"spec": {"_meta": {"version": 3}, "nodes": [
	  {"name": "root", "versions": [":"], "concrete": false, "full_hash": "FAILED_CONCRETIZATION",
	   "dependencies": [{"name": "dep", "type": ["build", "link"]}]},
	  {"name": "dep", "versions": [":"], "concrete": false, "full_hash": "FAILED_CONCRETIZATION"}]}}`
	parse := func(doc string) *Document {
		t.Helper()
		d, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := parse(doc)
	root, dep := d.Nodes[0], d.Nodes[1]
	if !d.FailedConcretization || root.FullHash != "" || root.Hash != "" || !strings.HasPrefix(root.Key(), "abstract-") ||
		dep.Key() == root.Key() || !strings.HasPrefix(dep.Key(), "abstract-") {
		t.Fatalf("nodes %+v", d.Nodes)
	}
	if want := []Dep{{Name: "dep", Index: 1, Types: []string{"build", "link"}}}; !reflect.DeepEqual(root.Deps, want) {
		t.Errorf("deps %+v, want %+v", root.Deps, want)
	}
	if again := parse(doc); again.Nodes[0].Key() != root.Key() || again.Nodes[1].Key() != dep.Key() {
		t.Error("the same document gave other keys")
	}
	other := parse(strings.Replace(doc, `"versions": [":"], "concrete": false, "full_hash": "FAILED_CONCRETIZATION",
	   "dependencies"`, `"versions": ["1.2:"], "concrete": false, "full_hash": "FAILED_CONCRETIZATION",
	   "dependencies"`, 1))
	if other.Nodes[0].Key() == root.Key() {
		t.Error("another abstract spec of the same name has the same key")
	}
}

func TestParseErrors(t *testing.T) {
	node := func(i int) string { return fmt.Sprintf(`{"name": "n%d", "hash": "h%d"}`, i, i) }
	for _, tc := range []struct{ doc, want string }{
		{``, "spec document is empty"},
		{`   `, "spec document is empty"},
		{`nope`, "not valid JSON"},
		{`{"spec": `, "not valid JSON"},
		{`{"spec": {"spec": `, "not valid JSON"},
		{`{"nodes": [`, "not valid JSON"},
		{`{"nodes": [{"name": "a"`, "not valid JSON"},
		{`{"nodes": [` + node(0) + `]} x`, "not valid JSON"},
		{`{"nodes": [` + node(0) + `]} {}`, "data after its end"},
		{`"x"`, "must be a JSON object or list, not a string"},
		{`42`, "must be a JSON object or list, not a number"},
		{`null`, "must be a JSON object or list, not null"},
		{`true`, "must be a JSON object or list, not a boolean"},
		{`{"spec": "x"}`, "must be a JSON object or list, not a string"},
		{`{}`, "spec document has no nodes"},
		{`[]`, "spec document has no nodes"},
		{`{"spec": {}}`, "spec document has no nodes"},
		{`{"spec": []}`, "spec document has no nodes"},
		{`{"_meta": {"version": 2}, "nodes": []}`, "spec document has no nodes"},
		{`{"nodes": null}`, "spec document has no nodes"},
		{`{"nodes": {}}`, `"nodes" must be a list, not an object`},
		{`{"nodes": "x"}`, `"nodes" must be a list, not a string`},
		{`{"nodes": [1]}`, "node 0 must be an object, not a number"},
		{`{"nodes": [` + node(0) + `, ` + node(1) + `, ` + node(2) + `, {"hash": "h3"}]}`, "node 3 has no name"},
		{`{"nodes": [{"name": "", "hash": "h"}]}`, "node 0 has no name"},
		{`{"nodes": [{"name": 7, "hash": "h"}]}`, `node 0 "name" must be a string, not a number`},
		// Named as the format spells them, however the document does.
		{`{"nodes": [{"NAME": "a", "Version": 7, "hash": "h"}]}`, `node 0 ("a") "version" must be a string, not a number`},
		{`{"nodes": [{"name": "a", "hash": "h", "Compiler": {"NaMe": 5}}]}`, `"compiler.name" must be a string, not a number`},
		{`{"nodes": [{"name": "a", "haſh": 5}]}`, `node 0 ("a") "hash" must be a string, not a number`},
		{`[{"a": {"hash": "h", "Arch": {"Platform_OS": 1}}}]`, `"arch.platform_os" must be a string, not a number`},
		{`{"nodes": [{"name": "a"}]}`, `node 0 ("a") has no hash`},
		{`{"nodes": [` + node(0) + `, {"name": "n1", "hash": "h1", "dependencies": [{"name": "n0", "hash": "h0"}, {"name": "n1", "hash": "h1"}]}]}`,
			`node 1 ("n1") depends on itself, directly or not`},
		{`{"nodes": [{"name": "a", "hash": "ha", "dependencies": [{"name": "b", "hash": "hb"}]}, {"name": "b", "hash": "hb", "dependencies": [{"name": "a", "hash": "ha"}]}]}`,
			`node 0 ("a") depends on itself, directly or not`},
		{`{"nodes": [{"name": "a", "full_hash": "FAILED_CONCRETIZATION", "dependencies": [{"name": "a", "type": []}]}]}`,
			`node 0 ("a") depends on itself, directly or not`},
		{`{"nodes": [{"name": "a", "full_hash": "FAILED_CONCRETIZATION", "dependencies": [{"name": "b", "type": []}]}]}`,
			`node 0 ("a"): dependency 0 ("b") has no hash and the document has no node of that name`},
		{`{"nodes": [{"name": "a", "build_hash": "b"}]}`, `node 0 ("a") has only a build_hash`},
		{`{"nodes": [{"name": "a", "hash": "h", "dependencies": [{"hash": "x"}]}]}`, `node 0 ("a"): dependency 0 has no name`},
		{`{"nodes": [{"name": "a", "hash": "h", "dependencies": [{"name": "b", "type": ["run"]}]}]}`, `node 0 ("a"): dependency 0 ("b") has no hash`},
		{`{"nodes": [{"name": "a", "hash": "h", "dependencies": {"b": {"hash": "x"}}}]}`, `node 0 ("a") "dependencies" must be a list, not an object`},
		{`{"nodes": [{"name": "a", "hash": "h", "dependencies": [{"name": "b", "hash": "x", "type": 3}]}]}`, `dependency "type" must be a string or a list of strings`},
		{`{"nodes": [{"name": "a", "hash": "h", "dependencies": [{"name": "b", "hash": "x", "type": [3]}]}]}`, `dependency "type" must be a string or a list of strings`},
		{`{"nodes": [{"name": "a", "hash": "h", "arch": {"target": 5}}]}`, `node 0 ("a"): arch.target: must be a string or an object`},
		{`{"nodes": [{"name": "a", "hash": "h", "arch": {"target": {"features": "x"}}}]}`, `node 0 ("a"): arch.target: "features" must be a list, not a string`},
		{`{"nodes": [{"name": "a", "hash": "h", "versions": "1.0"}]}`, `"versions" must be a list, not a string`},
		{`{"nodes": [{"name": "a", "hash": "h", "parameters": [1]}]}`, `node 0 ("a"): "parameters" must be an object`},
		{`[1]`, "node 0 must be an object"},
		{`[{}]`, "node 0 has no name"},
		{`[{"": {"hash": "h"}}]`, "node 0 has no name"},
		{`[{"a": {"hash": "h"}, "b": {"hash": "i"}}]`, "node 0 must have exactly one key"},
		{`[{"a": 1}]`, `node 0 ("a") must be an object, not a number`},
		{`[{"a": {"hash": "h", "dependencies": 5}}]`, `"dependencies" must be a list or an object`},
		{`[{"a": {"hash": "h", "dependencies": {"b": {"type": "run"}}}}]`, `node 0 ("a"): dependency 0 ("b") has no hash`},
		{`[{"a": {"hash": "h", "dependencies": {"b": 5}}}]`, `dependency "b" must be an object, not a number`},
		{`[{"a": {"hash": "h", "dependencies": [{"hash": "x"}]}}]`, `dependency 0 has no name`},
		{strings.Repeat(`{"spec": `, 40) + `{}` + strings.Repeat(`}`, 40), "wrapped in more than 16 levels"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80s: got error %v, want one containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	nodes := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"nodes": [`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name": "n%d", "hash": "h%d"}`, i, i)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	if doc, err := Parse(nodes(MaxNodes)); err != nil || len(doc.Nodes) != MaxNodes {
		t.Errorf("%d nodes: %v", MaxNodes, err)
	}
	if _, err := Parse(nodes(MaxNodes + 1)); err == nil || !strings.Contains(err.Error(), "more than 10000 nodes") {
		t.Errorf("%d nodes: %v", MaxNodes+1, err)
	}
	v1 := []byte(strings.Replace(strings.Replace(string(nodes(MaxNodes+1)), `{"nodes": `, ``, 1), `]}`, `]`, 1))
	v1 = []byte(strings.NewReplacer(`{"name": "`, `{"x": {"name": "`, `"}`, `"}}`).Replace(string(v1)))
	if _, err := Parse(v1); err == nil || !strings.Contains(err.Error(), "more than 10000 nodes") {
		t.Errorf("%d v1 nodes: %v", MaxNodes+1, err)
	}

	deps := func(n int, v1 bool) []byte {
		var b strings.Builder
		if v1 {
			b.WriteString(`[{"a": {"hash": "h", "dependencies": {`)
		} else {
			b.WriteString(`{"nodes": [{"name": "a", "hash": "h", "dependencies": [`)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			if v1 {
				fmt.Fprintf(&b, `"d%d": {"hash": "x%d"}`, i, i)
			} else {
				fmt.Fprintf(&b, `{"name": "d%d", "hash": "x%d"}`, i, i)
			}
		}
		if v1 {
			b.WriteString(`}}}]`)
		} else {
			b.WriteString(`]}]}`)
		}
		return []byte(b.String())
	}
	for _, v1 := range []bool{false, true} {
		if doc, err := Parse(deps(MaxDeps, v1)); err != nil || len(doc.Nodes[0].Deps) != MaxDeps {
			t.Errorf("v1=%v %d deps: %v", v1, MaxDeps, err)
		}
		if _, err := Parse(deps(MaxDeps+1, v1)); err == nil || !strings.Contains(err.Error(), "more than 10000 dependencies") {
			t.Errorf("v1=%v %d deps: %v", v1, MaxDeps+1, err)
		}
	}
}

// firstNodes cuts a spec document down to its first n nodes, keeping its layout and
// wrapping. The fuzzer minimizes every input that finds new coverage, for up to a minute
// each, and minimizing a 100 KB document stalls it for the whole run; the seeds are kept
// small and compact for that reason, and the full files are covered by the tests above.
func firstNodes(tb testing.TB, data []byte, n int) []byte {
	tb.Helper()
	var cut func(v any) any
	cut = func(v any) any {
		switch v := v.(type) {
		case []any:
			return v[:min(n, len(v))]
		case map[string]any:
			if nodes, ok := v["nodes"].([]any); ok {
				v["nodes"] = nodes[:min(n, len(nodes))]
			} else if s, ok := v["spec"]; ok {
				v["spec"] = cut(s)
			}
		}
		return v
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatal(err)
	}
	out, err := json.Marshal(cut(v))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdataDir(f), "specs", "*.json"))
	if len(files) == 0 {
		f.Fatal("no spec files in the test data")
	}
	for _, p := range files {
		f.Add(firstNodes(f, readFile(f, p), 3))
	}
	for _, c := range capturedSpecs(f) {
		var b bytes.Buffer
		if err := json.Compact(&b, c.spec); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	for _, s := range []string{
		`[{"a": {"hash": "h", "dependencies": {"b": "x", "c": {"hash": "h", "type": "run"}}}}]`,
		`{"spec": {"nodes": [{"name": "a", "hash": "h", "versions": ["=1"], "arch": {"target": "t"},
		  "dependencies": [{"name": "a", "full_hash": "FAILED_CONCRETIZATION", "hash": "h", "type": ["build"]}]}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			return
		}
		if len(doc.Nodes) == 0 || len(doc.Nodes) > MaxNodes {
			t.Fatalf("%d nodes", len(doc.Nodes))
		}
		for i, n := range doc.Nodes {
			if n.Name == "" || n.Key() == "" {
				t.Fatalf("node %d: name %q key %q", i, n.Name, n.Key())
			}
			if n.Hash == FailedConcretization || n.FullHash == FailedConcretization || n.BuildHash == FailedConcretization {
				t.Fatalf("node %d keeps the failed-concretization marker as a hash", i)
			}
			for _, d := range n.Deps {
				if d.Name == "" || d.Ref == "" || d.Ref == FailedConcretization {
					t.Fatalf("node %d: dependency %+v", i, d)
				}
				if d.Index < -1 || d.Index >= len(doc.Nodes) {
					t.Fatalf("node %d: dependency index %d out of range", i, d.Index)
				}
				if d.Index >= 0 {
					c := doc.Nodes[d.Index]
					if d.Ref != c.FullHash && d.Ref != c.BuildHash && d.Ref != c.Hash {
						t.Fatalf("node %d: dependency %s resolved to a node without its hash", i, d.Ref)
					}
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := readFile(b, filepath.Join(testdataDir(b), "specs", "singularity-3.8.0.json"))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// chain is a document of n nodes in which each depends on the next, and the last on a
// spec stored outside the document when stub is set.
func chain(n int, stub bool) []byte {
	var b strings.Builder
	b.WriteString(`{"nodes": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name": "n%d", "hash": "h%d"`, i, i)
		switch {
		case i+1 < n:
			fmt.Fprintf(&b, `, "dependencies": [{"name": "n%d", "hash": "h%d"}]`, i+1, i+1)
		case stub:
			b.WriteString(`, "dependencies": [{"name": "stored", "hash": "elsewhere"}]`)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestParseDescendantsLimit(t *testing.T) {
	// A chain of n nodes has n(n-1)/2 pairs; 632 nodes have 199,396 and 633 have 200,028.
	if _, err := Parse(chain(632, false)); err != nil {
		t.Errorf("632-node chain: %v", err)
	}
	for _, doc := range [][]byte{chain(633, false), chain(632, true), chain(MaxNodes, false)} {
		if _, err := Parse(doc); err == nil || !strings.Contains(err.Error(), "more than 200000 pairs") {
			t.Errorf("%d bytes of chain: %v, want the pairs limit", len(doc), err)
		}
	}
	// A ladder of 2 nodes a rung, each depending on both nodes of the next rung, has 2^60
	// paths from the top but 7,080 pairs: the walk must count nodes reached, not paths.
	var b strings.Builder
	b.WriteString(`{"nodes": [`)
	const rungs = 60
	for r := range rungs {
		for side := range 2 {
			if r+side > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name": "r%d%d", "hash": "h%d-%d"`, r, side, r, side)
			if r+1 < rungs {
				fmt.Fprintf(&b, `, "dependencies": [{"name": "r%d0", "hash": "h%d-0"}, {"name": "r%d1", "hash": "h%d-1"}]`, r+1, r+1, r+1, r+1)
			}
			b.WriteByte('}')
		}
	}
	b.WriteString(`]}`)
	if doc, err := Parse([]byte(b.String())); err != nil || len(doc.Nodes) != 2*rungs {
		t.Errorf("ladder: %v", err)
	}
}

func TestParseParameterDepth(t *testing.T) {
	doc := func(depth int) []byte {
		params := `{"cflags": ` + strings.Repeat("[", depth-1) + `"x"` + strings.Repeat("]", depth-1) + `}`
		return []byte(`{"nodes": [{"name": "a", "hash": "h", "parameters": ` + params + `}]}`)
	}
	if _, err := Parse(doc(MaxParameterDepth)); err != nil {
		t.Errorf("parameters %d deep: %v", MaxParameterDepth, err)
	}
	if _, err := Parse(doc(MaxParameterDepth + 1)); err == nil || !strings.Contains(err.Error(), "nest more than 16 levels") {
		t.Errorf("parameters %d deep: %v, want the depth limit", MaxParameterDepth+1, err)
	}
}

func TestNestingDepth(t *testing.T) {
	for text, want := range map[string]int{
		`1`: 0, `"[{"`: 0, `{}`: 1, `[1,[2]]`: 2, `{"a":"]}\"[[","b":[[{}]]}`: 4, `[[],[],[[]]]`: 3,
	} {
		if got := NestingDepth([]byte(text)); got != want {
			t.Errorf("NestingDepth(%s) = %d, want %d", text, got, want)
		}
	}
}

// Edges to nodes already reached add no pairs but cost the walk: a document of hubs that
// list one dependency 10,000 times, under many roots, is refused by the edges it makes the
// walk look at (3.4 million here), not parsed for seconds.
func TestParseEdgesWalkedLimit(t *testing.T) {
	const hubs, roots = 20, 16
	var b strings.Builder
	b.WriteString(`{"nodes": [{"name": "l", "hash": "l"}`)
	for h := range hubs {
		fmt.Fprintf(&b, `, {"name": "h%d", "hash": "h%d", "dependencies": [`, h, h)
		for d := range MaxDeps {
			if d > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"name": "l", "hash": "l"}`)
		}
		b.WriteString(`]}`)
	}
	for r := range roots {
		fmt.Fprintf(&b, `, {"name": "r%d", "hash": "r%d", "dependencies": [`, r, r)
		for h := range hubs {
			if h > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name": "h%d", "hash": "h%d"}`, h, h)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	if _, err := Parse([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "too many dependency edges") {
		t.Errorf("%d bytes of hubs: %v, want the limit on edges walked", b.Len(), err)
	}
}
