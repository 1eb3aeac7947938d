// Package storetest is the contract every analysis store.Store implementation must meet.
// A backend's test calls Run with a function that opens a fresh, empty (migrated) store
// for one test:
//
//	func TestContract(t *testing.T) { storetest.Run(t, func(t *testing.T) store.Store { return open(t) }) }
//
// Every subtest opens its own store and runs in parallel with the others. No backend opts
// out of any part. The fixtures are the shared test data (pkg/fixtures): the original
// server's dummy-tar .spack directory and recorded Spack client sessions.
package storetest

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spackmon/spackmon/pkg/contract"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/manifest"
	"github.com/spackmon/spackmon/services/analysis/store"
)

// Run runs the contract suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	contract.Run(t, open,
		contract.Group[store.Store]{Name: "Record", Tests: recordTests},
		contract.Group[store.Store]{Name: "Attributes", Tests: attributeTests},
		contract.Group[store.Store]{Name: "Lists", Tests: listTests},
		contract.Group[store.Store]{Name: "Validation", Tests: validationTests},
		contract.Group[store.Store]{Name: "Concurrency", Tests: concurrencyTests},
	)
}

type namedTest = contract.Test[store.Store]

func ctx(t testing.TB) context.Context { return contract.Context(t) }

func record(t testing.TB, st store.Store, buildID int64, a store.Analysis) store.Summary {
	t.Helper()
	sum, err := st.Record(ctx(t), buildID, a)
	if err != nil {
		t.Fatalf("Record(build %d): %v", buildID, err)
	}
	return sum
}

func environment(t testing.TB, st store.Store, buildID int64) map[string]string {
	t.Helper()
	env, err := st.GetEnvironment(ctx(t), buildID)
	if err != nil {
		t.Fatalf("GetEnvironment(%d): %v", buildID, err)
	}
	m := map[string]string{}
	for i, v := range env {
		if i > 0 && env[i-1].Name >= v.Name {
			t.Errorf("GetEnvironment(%d) not sorted by name: %q before %q", buildID, env[i-1].Name, v.Name)
		}
		m[v.Name] = v.Value
	}
	return m
}

// allFiles pages through every install file of q's build with pages of size page.
func allFiles(t testing.TB, st store.Store, q store.InstallFileQuery) []store.InstallFile {
	t.Helper()
	var out []store.InstallFile
	for range 10_000 {
		files, err := st.ListInstallFiles(ctx(t), q)
		if err != nil {
			t.Fatalf("ListInstallFiles(%+v): %v", q, err)
		}
		out = append(out, files...)
		if len(files) < page.Size(q.Limit) {
			return out
		}
		q.After = files[len(files)-1].Path
	}
	t.Fatal("ListInstallFiles never ends")
	return nil
}

func getAttribute(t testing.TB, st store.Store, id int64) store.Attribute {
	t.Helper()
	a, err := st.GetAttribute(ctx(t), id)
	if err != nil {
		t.Fatalf("GetAttribute(%d): %v", id, err)
	}
	return a
}

func listAttributes(t testing.TB, st store.Store, q store.AttributeQuery) []store.AttributeRef {
	t.Helper()
	refs, err := st.ListAttributes(ctx(t), q)
	if err != nil {
		t.Fatalf("ListAttributes(%+v): %v", q, err)
	}
	return refs
}

// wantErr fails unless err is a domain error of reason r, and, if message is not empty,
// has that message.
func wantErr(t testing.TB, what string, err error, r errs.Reason, message string) {
	t.Helper()
	if !errs.Is(err, r) {
		t.Errorf("%s = %v, want %s", what, err, r)
		return
	}
	if message != "" && err.Error() != message {
		t.Errorf("%s message = %q, want %q", what, err.Error(), message)
	}
}

func ptr[T any](v T) *T { return &v }

// dummyTar is the original server's analyze test data: tests/dummy-tar/.spack.
type dummyTar struct {
	manifest   map[string]manifest.Entry
	env        map[string]string
	configArgs string
}

func loadDummyTar(t testing.TB) dummyTar {
	t.Helper()
	m, err := manifest.Parse(fixtures.Read(t, "dummy-tar-spack", "install_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	return dummyTar{
		manifest:   m,
		env:        buildEnv(string(fixtures.Read(t, "dummy-tar-spack", "spack-build-env.txt"))),
		configArgs: string(fixtures.Read(t, "dummy-tar-spack", "spack-configure-args.txt")),
	}
}

func (d dummyTar) analysis() store.Analysis {
	return store.Analysis{ConfigArgs: &d.configArgs, Environment: d.env, InstallFiles: manifest.Files(d.manifest)}
}

// buildEnv reads spack-build-env.txt as the Spack client does before it sends
// environment_variables: split on ";" and newlines, keep the pieces that mention SPACK_
// and are not exports, split each on its first "=".
func buildEnv(text string) map[string]string {
	env := map[string]string{}
	for _, piece := range regexp.MustCompile(`[;\n]`).Split(text, -1) {
		if !strings.Contains(piece, "SPACK_") || strings.Contains(piece, "export ") {
			continue
		}
		if name, value, ok := strings.Cut(piece, "="); ok {
			env[name] = value
		}
	}
	return env
}

// analyzeRequests returns the metadata of every POST /ms1/analyze/builds/ of a recorded
// client session, in order.
func analyzeRequests(t testing.TB, session string) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	for _, line := range strings.Split(string(fixtures.Read(t, "spack-client", session)), "\n") {
		if line == "" {
			continue
		}
		var ex struct{ Method, Path, Body string }
		if err := json.Unmarshal([]byte(line), &ex); err != nil {
			t.Fatalf("%s: %v", session, err)
		}
		if ex.Method != "POST" || ex.Path != "/ms1/analyze/builds/" {
			continue
		}
		var body struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(ex.Body), &body); err != nil {
			t.Fatalf("%s: analyze body: %v", session, err)
		}
		out = append(out, body.Metadata)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no analyze request", session)
	}
	return out
}

const goroutines = 16

// parallel runs fn(i) for i in [0, goroutines) at once and returns their errors.
func parallel(fn func(i int) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	out := make([]error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}
