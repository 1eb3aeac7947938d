package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// startMeasuredServe runs spackmon serve on SQLite as its own process, writes open, so that
// the test can read the process's peak memory when it stops it.
func startMeasuredServe(t *testing.T, bin string, more ...string) (*testServer, *proctest.Measured) {
	t.Helper()
	sockets := proctest.Listen(t, "http", "grpc")
	addr := sockets.Addr("http")
	env := append(os.Environ(), "SPACKMON_DATA_DIR="+t.TempDir(), "SPACKMON_ADDR="+addr,
		"SPACKMON_GRPC_ADDR="+sockets.Addr("grpc"), "SPACKMON_DISABLE_AUTH=true", "SPACKMON_LOG_LEVEL=warn")
	env = append(env, more...)
	proc := proctest.StartMeasured(t, bin, env, sockets, "serve")
	srv := &testServer{URL: "http://" + addr, prefix: "/ms1", client: &http.Client{Timeout: 5 * time.Minute}}
	proctest.WaitReady(t, srv.URL)
	return srv, proc
}

// What the 47 MB log may cost the server at its peak. It is about 270 MiB on an idle
// machine (32 MiB at rest; the rest is the log's copies between the gateway and ingest),
// where it used to be 7.4 GB; the margin is for a machine so busy that the collector lags
// behind the copies.
const maxPeakRSS = 1 << 30

// The reproduction: a phase log of 2,500,000 error lines (47 MB) keeps the first
// logparse.MaxEvents errors, counts them all, and says so in the reads.
func TestErrorLogMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and posts a 47 MB log")
	}
	const lines = 2_500_000
	srv, proc := startMeasuredServe(t, proctest.Build(t))
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))

	start := time.Now()
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "build",
		"status": "ERROR", "output": strings.Repeat("error: foo bar baz\n", lines)}), http.StatusOK, "Phase build was successfully updated.")
	took := time.Since(start)

	b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
	phases, _ := b["phases"].([]any)
	if len(phases) != 1 || b["events_capped"] != true {
		t.Fatalf("build %v", b)
	}
	p := phases[0]
	if num(t, path(p, "error_count")) != logparse.MaxEvents || num(t, path(p, "errors_total")) != lines ||
		num(t, path(p, "warnings_total")) != 0 || path(p, "events_capped") != true || num(t, path(p, "output_bytes")) != 19*lines {
		t.Errorf("phase %v", p)
	}
	events := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events?kind=error&page_size=1000", id)).JSON(t)
	if list, _ := events["events"].([]any); len(list) != logparse.MaxEvents || events["next_page_token"] != "" || events["events_capped"] != true {
		t.Errorf("%d events listed (next page %v, capped %v), want %d, capped", len(list), events["next_page_token"], events["events_capped"], logparse.MaxEvents)
	}
	if warnings := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events?kind=warning", id)).JSON(t); warnings["events_capped"] != false {
		t.Errorf("warnings listed as capped: %v", warnings)
	}
	// An ordinary log is not capped.
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "install",
		"status": "SUCCESS", "output": "main.c:1:1: warning: unused\n"}), http.StatusOK, "")
	p = path(srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t), "phases").([]any)[1]
	if num(t, path(p, "warnings_total")) != 1 || num(t, path(p, "warning_count")) != 1 || path(p, "events_capped") == true {
		t.Errorf("uncapped phase %v", p)
	}

	rss := proc.Stop(t)
	t.Logf("a %d MB log of error lines: answered in %v; peak RSS of serve %d MiB", 19*lines>>20, took.Round(time.Millisecond), rss>>20)
	if rss > maxPeakRSS {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, maxPeakRSS>>20)
	}
}

// A spec node whose name is 50 MB is refused, naming the field as sent, before the store
// sees it (it used to take 25 s and 1.4 GB on SQLite to reach the database's check and be
// named as its column). The peak memory is reported, not asserted: it is the document's
// copies on the way to the parser, which a busy machine's lagging collector can make
// several times larger.
func TestOverLongSpecValueRefusedEarly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and posts a 50 MB spec")
	}
	srv, proc := startMeasuredServe(t, proctest.Build(t))
	start := time.Now()
	m := wantError(t, srv.post(t, "/ms1/specs/new/", specWithNode(map[string]any{
		"name": strings.Repeat("n", 50<<20), "full_hash": "fh"})), http.StatusBadRequest)
	took := time.Since(start)
	if m["message"] != "Invalid spec document: node 0: name is longer than 250 characters." {
		t.Errorf("message %v", m["message"])
	}
	if list, _ := srv.get(t, "/api/v1/specs").JSON(t)["specs"].([]any); len(list) != 0 {
		t.Errorf("specs stored: %v", list)
	}
	t.Logf("a 50 MB node name: refused in %v; peak RSS of serve %d MiB", took.Round(time.Millisecond), proc.Stop(t)>>20)
}
