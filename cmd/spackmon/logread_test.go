package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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
	id := specAndBuild(t, srv)
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", phaseUpdateOf(t, id, "build", logSize)), http.StatusOK, "")
	want := int64(len("compiling a file of the build\n") * (logSize / 30))

	before, err := proc.ResetPeak()
	if err != nil {
		t.Fatal(err)
	}
	// Every reader waits with its answer begun, so that all are in flight at once.
	readAtOnce(t, srv, fmt.Sprintf("%s/api/v1/builds/%d/phases/build/output", srv.URL, id), readers, 2*time.Second, want)
	peak := proc.Stop(t)
	t.Logf("%d clients reading a %d MiB log at once: resident memory %d MiB before, peak %d MiB", readers, logSize>>20, before>>20, peak>>20)
	if growth := peak - before; growth > maxLogReadGrowth {
		t.Errorf("the reads added %d MiB at the peak, want at most %d MiB", growth>>20, maxLogReadGrowth>>20)
	}
}

// readAtOnce has readers clients read the whole log at url at once, each waiting pause with
// its answer begun, and checks that each got its want bytes, announced in Content-Length.
func readAtOnce(t *testing.T, srv *testServer, url string, readers int, pause time.Duration, want int64) {
	t.Helper()
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
			time.Sleep(pause)
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil || n != want || resp.StatusCode != http.StatusOK {
				t.Errorf("read %d of %d bytes (status %d): %v", n, want, resp.StatusCode, err)
			}
		})
	}
	wg.Wait()
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
	id := specAndBuild(t, srv)
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

// noisyLogError is the last line of noisyLogUpdate's log.
const noisyLogError = "error: the end of the noise"

// What readers of a log that does not compress may add to the server's resident memory
// under SPACKMON_INFLIGHT_READ_BYTES: one read at a time holds the log, and the
// collector's slack. Without the bound, each read holds its own copy of the stored log.
const maxBudgetedReadGrowth = 96 << 20

// noisyLogUpdate is a phase update whose log of about size bytes (base64 lines of random
// bytes) compresses to three quarters of its size, and ends with an error, whose context
// is read from the log.
func noisyLogUpdate(t *testing.T, id int64, size int) []byte {
	t.Helper()
	raw := make([]byte, size*3/4)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for line := base64.StdEncoding.EncodeToString(raw); len(line) > 0; {
		n := min(len(line), 76)
		log.WriteString(line[:n] + "\n")
		line = line[n:]
	}
	log.WriteString(noisyLogError + "\n")
	return mustJSON(t, map[string]any{"build_id": id, "phase_name": "build", "status": "SUCCESS", "output": log.String()})
}

// Readers of a large log that does not compress, more at once than
// SPACKMON_INFLIGHT_READ_BYTES holds, take turns: each gets the whole log, and the server's
// memory grows by about one stored log, not one per reader. With no wait, a read that does
// not fit is answered 503 with Retry-After while another holds the budget, and taken once
// that one is done; so is a list of the log's events, whose context is read from the log.
func TestLogReadBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, posts a 24 MiB log that does not compress and reads it at once")
	}
	const readers, logSize = 6, 24 << 20
	bin := proctest.Build(t)
	start := func(wait string) (*testServer, *proctest.Measured, string, int64) {
		srv, proc := startMeasuredServe(t, bin, "SPACKMON_INFLIGHT_READ_BYTES=33554432", "SPACKMON_INFLIGHT_WAIT="+wait)
		id := specAndBuild(t, srv)
		wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", noisyLogUpdate(t, id, logSize)), http.StatusOK, "")
		url := fmt.Sprintf("%s/api/v1/builds/%d/phases/build/output", srv.URL, id)
		resp, err := srv.client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n < logSize*99/100 {
			t.Fatalf("first read: %d bytes, status %d, %v", n, resp.StatusCode, err)
		}
		return srv, proc, url, n
	}

	t.Run("turns", func(t *testing.T) {
		srv, proc, url, want := start("2m")
		before, err := proc.ResetPeak()
		if err != nil {
			t.Fatal(err)
		}
		// Each reader holds its answer begun, as a slow client does.
		readAtOnce(t, srv, url, readers, time.Second, want)
		peak := proc.Stop(t)
		t.Logf("%d clients reading a %d MiB log that does not compress: resident memory %d MiB before, peak %d MiB", readers, logSize>>20, before>>20, peak>>20)
		if growth := peak - before; growth > maxBudgetedReadGrowth {
			t.Errorf("the reads added %d MiB at the peak, want at most %d MiB", growth>>20, maxBudgetedReadGrowth>>20)
		}
	})

	t.Run("events in turns", func(t *testing.T) {
		srv, proc, url, _ := start("2m")
		events := strings.TrimPrefix(strings.TrimSuffix(url, "/phases/build/output"), srv.URL) + "/events"
		before, err := proc.ResetPeak()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range readers * 2 {
			wg.Go(func() {
				got := srv.get(t, events)
				if got.Status != http.StatusOK || !strings.Contains(string(got.Body), `"pre_context":"`) {
					t.Errorf("events: status %d: %.200s", got.Status, got.Body)
				}
			})
		}
		wg.Wait()
		peak := proc.Stop(t)
		t.Logf("%d clients listing the events of a %d MiB log that does not compress: resident memory %d MiB before, peak %d MiB", readers*2, logSize>>20, before>>20, peak>>20)
		if growth := peak - before; growth > maxBudgetedReadGrowth {
			t.Errorf("the reads added %d MiB at the peak, want at most %d MiB", growth>>20, maxBudgetedReadGrowth>>20)
		}
	})

	t.Run("refused", func(t *testing.T) {
		srv, _, url, want := start("0s")
		held, err := srv.client.Get(url)
		if err != nil || held.StatusCode != http.StatusOK {
			t.Fatalf("first reader: %v", err)
		}
		resp, err := srv.client.Get(url + "?offset=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("a read past the budget: status %d, Retry-After %q: %.200s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		// A HEAD reads no log: it needs none of the budget.
		head, err := srv.client.Head(url)
		if err != nil {
			t.Fatal(err)
		}
		head.Body.Close()
		if head.StatusCode != http.StatusOK || head.ContentLength != want {
			t.Errorf("HEAD while the budget is held: status %d, Content-Length %d; want 200, %d", head.StatusCode, head.ContentLength, want)
		}
		events := strings.TrimPrefix(strings.TrimSuffix(url, "/phases/build/output"), srv.URL) + "/events"
		if got := srv.get(t, events); got.Status != http.StatusServiceUnavailable || got.Header.Get("Retry-After") == "" {
			t.Errorf("events read from the log while the budget is held: status %d, Retry-After %q", got.Status, got.Header.Get("Retry-After"))
		}
		// A watch is opened all the same: its read of the phase's errors is tried again
		// until the budget has room.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var buildID int64
		if _, err := fmt.Sscanf(events, "/api/v1/builds/%d/events", &buildID); err != nil {
			t.Fatal(err)
		}
		// The build's page lists them too: it says so, with Retry-After.
		if got := srv.get(t, fmt.Sprintf("/builds/%d", buildID)); got.Status != http.StatusServiceUnavailable || got.Header.Get("Retry-After") == "" {
			t.Errorf("the build's page while the budget is held: status %d, Retry-After %q", got.Status, got.Header.Get("Retry-After"))
		}
		watched, watch := openEvents(t, ctx, srv, buildID, "")
		if watch.StatusCode != http.StatusOK {
			t.Errorf("a watch while the budget is held: status %d, want 200", watch.StatusCode)
		}
		// Nor can a GET ask for the head alone: it gets the log or nothing.
		if got := srv.get(t, strings.TrimPrefix(url, srv.URL)+"?head_only=true"); got.Status != http.StatusServiceUnavailable {
			t.Errorf("GET ?head_only=true while the budget is held: status %d, want 503", got.Status)
		}
		if n, err := io.Copy(io.Discard, held.Body); err != nil || n != want {
			t.Errorf("the reader holding the budget read %d of %d bytes: %v", n, want, err)
		}
		held.Body.Close()
		// The budget is given back when a read ends; gRPC ends the stream just after
		// the client has the last piece.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := srv.client.Get(url + "?offset=1&limit=10")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a read after the others ended: status %d", resp.StatusCode)
			}
			time.Sleep(50 * time.Millisecond)
		}
		got := items(getJSON(t, srv, events)["events"])
		if len(got) != 1 || got[0]["text"] != noisyLogError || got[0]["pre_context"] == "" {
			t.Errorf("the log's events once the budget is free: %v", got)
		}
		phase := nextEvent(t, watched)
		if errors, _ := path(phase.Data, "phase", "errors").([]any); phase.Event != "phase" || len(errors) != 1 ||
			path(errors[0], "text") != noisyLogError || path(errors[0], "pre_context") == "" {
			t.Errorf("the watch once the budget is free: %+v", phase)
		}
	})
}
