package main

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/proctest"
)

// renamedSpec is the singularity spec DAG with every hash replaced by one of its own for
// variant, so that each variant is a new DAG of the same size for ingest to store; it
// returns the body and the root's new hash.
func renamedSpec(t testing.TB, variant string) ([]byte, string) {
	t.Helper()
	rename := func(hash string) string {
		sum := sha256.Sum256([]byte(variant + hash))
		return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:32]
	}
	doc := spackHash.ReplaceAllFunc(readTestdata(t, "specs", "singularity-3.8.0.json"), func(quoted []byte) []byte {
		return []byte(`"` + rename(string(quoted[1:len(quoted)-1])) + `"`)
	})
	body, err := json.Marshal(map[string]any{"spec": json.RawMessage(doc), "spack_version": "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	return body, rename(singularityHash)
}

// sendRetried posts body until it is answered other than 503, waiting as each 503's
// Retry-After says, and returns the answer and how many 503s came first.
func sendRetried(srv *testServer, path string, body []byte) (answer, int, error) {
	for busy := 0; ; busy++ {
		a, err := srv.send(http.MethodPost, path, body, spackForm())
		if err != nil || a.Status != http.StatusServiceUnavailable {
			return a, busy, err
		}
		after, err := strconv.Atoi(a.Header.Get("Retry-After"))
		if err != nil || !strings.Contains(string(a.Body), `"code":503`) {
			return a, busy, fmt.Errorf("503 without Retry-After or envelope: %v %s", a.Header, a.Body)
		}
		time.Sleep(time.Duration(after) * time.Second)
	}
}

// The configuration the memory test runs serve with, and the peak RSS it allows: the soft
// memory limit, plus what the runtime's limit does not count (the binary's pages, SQLite's
// page cache outside the Go heap) and the collector's lag behind a burst on a busy machine.
const (
	memTestInflight    = 32 << 20
	memTestMemoryLimit = 96 << 20
	memTestSlack       = 64 << 20
)

// Spack clients that each post a spec DAG, make its build and post a 1 MiB phase log, 64
// at once, twice: serve's peak RSS follows its configuration (the bytes in flight and the
// soft memory limit), not the number of clients, and every write ends 2xx, after 503s with
// Retry-After at most.
func TestManyClientsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 64 Spack clients posting spec DAGs and 1 MiB logs")
	}
	const clients, rounds, logSize = 64, 2, 1 << 20
	srv, proc := startMeasuredServe(t, proctest.Build(t),
		fmt.Sprintf("SPACKMON_INFLIGHT_BODY_BYTES=%d", memTestInflight),
		fmt.Sprintf("SPACKMON_MEMORY_LIMIT=%d", memTestMemoryLimit),
		"SPACKMON_INFLIGHT_WAIT=2m")
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range clients {
		wg.Go(func() {
			for r := range rounds {
				busy, err := spackClient(t, srv, fmt.Sprint(i, "-", r), logSize)
				mu.Lock()
				refused += busy
				mu.Unlock()
				if err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	rss := proc.Stop(t)
	bound := int64(memTestMemoryLimit + memTestSlack)
	t.Logf("%d clients, %d rounds of a spec DAG and a %d MiB log: peak RSS %d MiB (bound %d MiB), %d posts answered 503 first",
		clients, rounds, logSize>>20, rss>>20, bound>>20, refused)
	if rss > bound {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, bound>>20)
	}
}

// spackClient posts a spec DAG of its own, a build of it, and the build's log, as Spack
// does, and returns how many 503s it was answered first.
func spackClient(t testing.TB, srv *testServer, variant string, logSize int) (int, error) {
	spec, hash := renamedSpec(t, variant)
	a, busy, err := sendRetried(srv, "/ms1/specs/new/", spec)
	if err != nil || a.Status != http.StatusCreated {
		return busy, fmt.Errorf("new spec: %v %d %s", err, a.Status, a.Body)
	}
	build := maps.Clone(buildEnv)
	build["full_hash"] = hash
	a, n, err := sendRetried(srv, "/ms1/builds/new/", mustJSON(t, build))
	busy += n
	if err != nil || a.Status != http.StatusCreated {
		return busy, fmt.Errorf("new build: %v %d %s", err, a.Status, a.Body)
	}
	id, err := createdBuildID(a.Body)
	if err != nil {
		return busy, err
	}
	a, n, err = sendRetried(srv, "/ms1/builds/phases/update/", phaseUpdateOf(t, id, "build", logSize))
	busy += n
	if err != nil || a.Status != http.StatusOK {
		return busy, fmt.Errorf("phase: %v %d %s", err, a.Status, a.Body)
	}
	return busy, nil
}
