package main

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

// Every DAG is a well-formed spec document: between the bounds in size, each node's name
// once, every dependency naming a node of the document by the hash the template uses, the
// root first; and DAGs drawn one after the other share dependencies by hash.
func TestDAGsAreConcreteSpecsSharingDependencies(t *testing.T) {
	w, err := loadWorkload(fixtures.Path(t), 0.1, "0.17.2")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{} // full_hash: in how many DAGs
	const dags = 40
	for i := range dags {
		size := minDAGNodes + rng.IntN(maxDAGNodes-minDAGNodes+1)
		d := w.specs.newDAG(rng, size, "t"+string(rune('a'+i%26)))
		nodes := d.doc["nodes"].([]any)
		if len(nodes) != size || d.nodes != size {
			t.Errorf("DAG of %d nodes, asked %d", len(nodes), size)
		}
		names, hashes := map[string]bool{}, map[string]bool{}
		for _, n := range nodes {
			m := n.(map[string]any)
			name := m["name"].(string)
			if names[name] {
				t.Errorf("node %s twice", name)
			}
			names[name] = true
			for _, k := range []string{"full_hash", "build_hash", "hash"} {
				hashes[m[k].(string)] = true
			}
			seen[m["full_hash"].(string)]++
		}
		for _, n := range nodes {
			deps, _ := n.(map[string]any)["dependencies"].([]any)
			for _, dep := range deps {
				dm := dep.(map[string]any)
				ok := false
				for _, k := range []string{"full_hash", "build_hash", "hash"} {
					if h, has := dm[k].(string); has {
						ok = hashes[h] && names[dm["name"].(string)]
					}
				}
				if !ok {
					t.Errorf("dependency %v names no node of the DAG", dm)
				}
			}
		}
		if root := nodes[0].(map[string]any); root["full_hash"] != d.rootHash || root["name"] != d.rootName {
			t.Errorf("root %v, want %s %s", root["name"], d.rootName, d.rootHash)
		}
	}
	shared := 0
	for _, n := range seen {
		if n > 1 {
			shared++
		}
	}
	if shared < 20 {
		t.Errorf("only %d nodes are in more than one of %d DAGs", shared, dags)
	}
}

// A phase log is within the size bounds, made of the real log's lines and warning blocks
// in GCC's layout; a failing one ends with the compiler error and Spack's ProcessError.
func TestPhaseLogs(t *testing.T) {
	w, err := loadWorkload(fixtures.Path(t), 0.1, "0.17.2")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	warning := regexp.MustCompile(`(?m)^\S+\.c:\d+:\d+: warning: .* \[-W[a-z-]+\]$`)
	var warnings, bytes int
	for range 40 {
		size := logSize(rng, minLogBytes, maxLogBytes)
		if size < minLogBytes || size > maxLogBytes {
			t.Fatalf("log size %d", size)
		}
		out := w.logs.phaseLog(rng, "zlib", "build", size, false)
		if len(out) < size || len(out) > size+4096 {
			t.Errorf("log of %d bytes for %d asked", len(out), size)
		}
		n := len(warning.FindAllString(out, -1))
		if n > 2*size/bytesPerWarning+2 {
			t.Errorf("%d warnings in %d bytes", n, len(out))
		}
		warnings, bytes = warnings+n, bytes+len(out)
		if !strings.HasPrefix(out, "==> zlib: Executing phase: 'build'\n") || !strings.Contains(out, "Running on_phase_success zlib, phase build") {
			t.Errorf("log does not start and end as Spack's: %.200q", out)
		}
	}
	// A warning block every bytesPerWarning bytes on average (each block adds its own bytes).
	if want := bytes / bytesPerWarning; warnings < want/2 || warnings > want*3/2 {
		t.Errorf("%d warnings in %d bytes of logs, want about %d", warnings, bytes, want)
	}
	failed := w.logs.phaseLog(rng, "zlib", "build", minLogBytes, true)
	if !regexp.MustCompile(`(?m)^\S+\.c:\d+:\d+: error: .*\n(.*\n){3}make\[2\]: \*\*\* .* Error 1\n`).MatchString(failed) ||
		!strings.HasSuffix(failed, "==> Error: ProcessError: Command exited with status 2:\n    'make' '-j2'\n") {
		t.Errorf("failing log ends %q", failed[len(failed)-600:])
	}
}

func TestChallengeParam(t *testing.T) {
	c := `Bearer realm="http://127.0.0.1:8080/auth/token/",service="http://127.0.0.1:8080",scope="build"`
	for name, want := range map[string]string{"realm": "http://127.0.0.1:8080/auth/token/", "service": "http://127.0.0.1:8080", "scope": "build", "other": ""} {
		if got := challengeParam(c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := challengeParam(`realm="http://x/auth/token/"`, "realm"); got != "http://x/auth/token/" {
		t.Errorf("without a scheme: %q", got)
	}
}
