package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/proctest"
)

// What reading a large log many times at once may add to the server's resident memory:
// the log is never held whole, so this is pieces in flight and the collector's slack.
// Read whole (ingest's copy, gRPC's, the gateway's), the test's reads added over 2 GiB.
const maxLogReadGrowth = 256 << 20

// Clients reading a 64 MiB log at once, and slowly, get all of it, with its length
// announced, while the server's memory grows by far less than one copy per client.
func TestLogReadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, posts a 64 MiB log and reads it 16 times at once")
	}
	const readers, logSize = 16, 64 << 20
	srv, proc := startMeasuredServe(t, proctest.Build(t))
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", mustJSON(t, buildEnv)), http.StatusCreated, ""), "data", "build", "build_id"))
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", phaseUpdateOf(t, id, "build", logSize)), http.StatusOK, "")
	want := int64(len("compiling a file of the build\n") * (logSize / 30))

	before, err := proc.ResetPeak()
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/api/v1/builds/%d/phases/build/output", srv.URL, id)
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			resp, err := srv.client.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if length := resp.Header.Get("Content-Length"); length != strconv.FormatInt(want, 10) {
				t.Errorf("Content-Length %q, want %d", length, want)
			}
			// Every reader waits with its answer begun, so that all are in flight at once.
			time.Sleep(2 * time.Second)
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil || n != want || resp.StatusCode != http.StatusOK {
				t.Errorf("read %d of %d bytes (status %d): %v", n, want, resp.StatusCode, err)
			}
		})
	}
	wg.Wait()
	peak := proc.Stop(t)
	t.Logf("%d clients reading a %d MiB log at once: resident memory %d MiB before, peak %d MiB", readers, logSize>>20, before>>20, peak>>20)
	if growth := peak - before; growth > maxLogReadGrowth {
		t.Errorf("the reads added %d MiB at the peak, want at most %d MiB", growth>>20, maxLogReadGrowth>>20)
	}
}

// A read cut short by ingest going away ends in an error for the client, never in what
// looks like a whole answer: a whole log's length is announced, and a window's chunked
// answer is broken off without its last chunk.
func TestLogReadCutByIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the roles on PostgreSQL")
	}
	srv, d := startRolesWithUser(t, proctest.Build(t), "spackuser", "SPACKMON_LOG_LEVEL=error")
	srv.bearer = srv.token(t, srv.user, srv.apiToken, "")
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", mustJSON(t, buildEnv)), http.StatusCreated, ""), "data", "build", "build_id"))
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", phaseUpdateOf(t, id, "build", 64<<20)), http.StatusOK, "")

	url := fmt.Sprintf("%s/api/v1/builds/%d/phases/build/output", srv.URL, id)
	var bodies []io.ReadCloser
	for _, query := range []string{"", "?offset=1"} {
		resp, err := srv.client.Get(url + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d, %v", query, resp.StatusCode, err)
		}
		bodies = append(bodies, resp.Body)
	}
	d.Roles["ingest"].Kill()
	for i, body := range bodies {
		if n, err := io.Copy(io.Discard, body); err == nil {
			t.Errorf("read %d: the rest (%d bytes) ended as if whole", i, n)
		}
	}
}
