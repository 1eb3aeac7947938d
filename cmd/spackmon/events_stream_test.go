package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/metadata"

	"github.com/spackmon/spackmon/gateway"
	"github.com/spackmon/spackmon/pkg/browsertest"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	ID, Event string
	Data      map[string]any
}

// openEvents opens a build's event stream, resuming after lastID when it is not "".
func openEvents(t *testing.T, ctx context.Context, srv *testServer, id int64, lastID string) (*bufio.Reader, *http.Response) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/builds/%d/events/stream", srv.URL, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return bufio.NewReader(resp.Body), resp
}

// nextEvent reads the next event with data, skipping the retry field and comments.
func nextEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && ev.Data != nil:
			return ev
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			dec := json.NewDecoder(strings.NewReader(line[6:]))
			dec.UseNumber()
			if err := dec.Decode(&ev.Data); err != nil {
				t.Fatalf("event data %q: %v", line, err)
			}
		}
	}
}

// The HTTP event stream: phases and status as they are stored, with their revisions as
// ids; a stream opened again with Last-Event-ID starts after it. Bad ids are 400, an
// unknown build 404, and the route is in the OpenAPI document.
func TestBuildEventStream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		writer, _ := grpcClients(t, srv.GRPCAddr)
		auth := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+srv.bearer)
		id := newWatchedBuild(t, auth, writer)

		events, resp := openEvents(t, ctx, srv, id, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, err := writer.UpdatePhase(auth, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "build", Status: "ERROR", Output: []byte(compileErrorLog)}); err != nil {
			t.Fatal(err)
		}
		phase := nextEvent(t, events)
		errors, _ := path(phase.Data, "phase", "errors").([]any)
		if phase.Event != "phase" || path(phase.Data, "phase", "phase", "name") != "build" || len(errors) != 2 ||
			fmt.Sprint(num(t, path(phase.Data, "revision"))) != phase.ID || num(t, path(phase.Data, "build_id")) != id {
			t.Fatalf("phase event: %+v", phase)
		}
		// Ids and counts are JSON numbers, as in every /api/v1 answer.
		num(t, path(phase.Data, "phase", "phase", "output_bytes"))
		num(t, path(errors[0], "line_no"))
		if _, err := writer.UpdateBuildStatus(auth, &ingestv1.UpdateBuildStatusRequest{BuildId: id, Status: "FAILED"}); err != nil {
			t.Fatal(err)
		}
		st := nextEvent(t, events)
		if st.Event != "status" || path(st.Data, "status", "status") != "FAILED" || st.ID <= phase.ID {
			t.Fatalf("status event: %+v", st)
		}

		resumed, _ := openEvents(t, ctx, srv, id, phase.ID)
		if ev := nextEvent(t, resumed); ev.ID != st.ID || ev.Event != "status" {
			t.Errorf("resumed after %s: %+v", phase.ID, ev)
		}

		for _, c := range []struct {
			path, lastID string
			want         int
		}{
			{fmt.Sprintf("/api/v1/builds/%d/events/stream", id), "x", http.StatusBadRequest},
			{fmt.Sprintf("/api/v1/builds/%d/events/stream", id), "-1", http.StatusBadRequest},
			{fmt.Sprintf("/api/v1/builds/%d/events/stream?after=abc", id), "", http.StatusBadRequest},
			{"/api/v1/builds/zero/events/stream", "", http.StatusBadRequest},
			{fmt.Sprintf("/api/v1/builds/%d/events/stream", id+1000), "", http.StatusNotFound},
		} {
			h := http.Header{}
			if c.lastID != "" {
				h.Set("Last-Event-ID", c.lastID)
			}
			if a := srv.do(t, http.MethodGet, c.path, nil, h); a.Status != c.want {
				t.Errorf("%s with Last-Event-ID %q: %d %s", c.path, c.lastID, a.Status, a.Body)
			}
		}
		doc := srv.get(t, "/api/docs/openapi.json").JSON(t)
		if path(doc, "paths", "/api/v1/builds/{build_id}/events/stream", "get") == nil {
			t.Error("the event stream is not in the OpenAPI document")
		}
	})
}

// Searching a phase's log: matches with line numbers and context as grep -n -C prints them,
// a cap on the answer, and expressions or context out of bounds refused with 400.
func TestPhaseOutputGrep(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
	writer, _ := grpcClients(t, srv.GRPCAddr)
	id := newWatchedBuild(t, ctx, writer)
	var log strings.Builder
	for i := 1; i <= 3000; i++ {
		if i%2 == 0 {
			fmt.Fprintf(&log, "cc -c file%d.c: error: boom %d\n", i, i)
		} else {
			fmt.Fprintf(&log, "line %d\n", i)
		}
	}
	if _, err := writer.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "build", Status: "ERROR", Output: []byte(log.String())}); err != nil {
		t.Fatal(err)
	}
	output := func(query string) answer {
		return srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output?%s", id, query))
	}

	a := output("grep=" + url.QueryEscape(`boom (10|20)$`) + "&context=1")
	want := "9-line 9\n10:cc -c file10.c: error: boom 10\n11-line 11\n--\n19-line 19\n20:cc -c file20.c: error: boom 20\n21-line 21\n"
	if a.Status != http.StatusOK || string(a.Body) != want {
		t.Errorf("grep with context: %d\n%s\nwant\n%s", a.Status, a.Body, want)
	}
	// Adjacent groups join without a separator.
	a = output("grep=" + url.QueryEscape(`^line (1|3)$`) + "&context=1")
	if want := "1:line 1\n2-cc -c file2.c: error: boom 2\n3:line 3\n4-cc -c file4.c: error: boom 4\n"; string(a.Body) != want {
		t.Errorf("adjacent groups:\n%s", a.Body)
	}
	// 1500 lines match; the answer stops at the cap, so the last line of the log is not in it.
	out, err := writer.GetPhaseOutput(ctx, &ingestv1.GetPhaseOutputRequest{BuildId: id, Name: "build", Grep: "error"})
	if err != nil || out.GetMatches() != 1000 || !out.GetMatchesCapped() || strings.Contains(string(out.GetData()), "boom 3000") {
		t.Errorf("capped grep: %v, %d matches, capped %v", err, out.GetMatches(), out.GetMatchesCapped())
	}
	matchLine := regexp.MustCompile(`(?m)^\d+:`)
	if a := output("grep=error"); a.Header.Get(gateway.MatchesCappedHeader) != "true" || len(matchLine.FindAll(a.Body, -1)) != 1000 {
		t.Errorf("capped grep over HTTP: %s %q, %d matches", gateway.MatchesCappedHeader, a.Header.Get(gateway.MatchesCappedHeader), len(matchLine.FindAll(a.Body, -1)))
	}
	if a := output("grep=boom+3000"); a.Header.Get(gateway.MatchesCappedHeader) != "" {
		t.Errorf("a grep that ended: %s %q", gateway.MatchesCappedHeader, a.Header.Get(gateway.MatchesCappedHeader))
	}
	out, err = writer.GetPhaseOutput(ctx, &ingestv1.GetPhaseOutputRequest{BuildId: id, Name: "build", Grep: "boom 2999|boom 3000"})
	if err != nil || out.GetMatches() != 1 || out.GetMatchesCapped() || string(out.GetData()) != "3000:cc -c file3000.c: error: boom 3000\n" {
		t.Errorf("grep to the end: %v, %q", err, out.GetData())
	}

	for _, q := range []string{
		"grep=" + url.QueryEscape("(unclosed"),
		"grep=" + url.QueryEscape(`(a{1000}){1000}`), // past RE2's size limit
		"grep=" + url.QueryEscape(`(?P<x>a)\1`),      // backreferences are not RE2
		"grep=" + strings.Repeat("a", 501),
		"grep=error&context=21",
		"grep=error&context=-1",
		"grep=error&context=1000000000",
		"context=3",
	} {
		if a := output(q); a.Status != http.StatusBadRequest {
			t.Errorf("%.60s: %d %.200s", q, a.Status, a.Body)
		}
	}
}

// The build page goes live: a phase posted while it is open appears in its table with its
// errors, and the status changes, without a reload.
func TestBuildPageLive(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
	writer, _ := grpcClients(t, srv.GRPCAddr)
	id := newWatchedBuild(t, ctx, writer)
	if _, err := writer.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: "configure", Status: "SUCCESS", Output: []byte("ok\n")}); err != nil {
		t.Fatal(err)
	}
	b.Run("open the build page", chromedp.Navigate(fmt.Sprintf("%s/builds/%d", srv.URL, id)), chromedp.WaitReady(chromedp.CSS("footer")))
	// Posted while the page is open: whether its stream is connected yet or not, the phase
	// arrives, since the page's stream starts from revision 0 and shows what it lacks.
	phase := "build<b>" + "&amp;"
	if _, err := writer.UpdatePhase(ctx, &ingestv1.UpdatePhaseRequest{BuildId: id, PhaseName: phase, Status: "ERROR", Output: []byte(compileErrorLog)}); err != nil {
		t.Fatal(err)
	}
	sel := `#phases tr[data-phase="build<b>&amp;"]`
	b.Run("see the phase appear", chromedp.WaitVisible(sel))
	if got := b.Text(sel); !strings.Contains(got, phase) || !strings.Contains(got, "ERROR") {
		t.Errorf("the new phase's row: %q", got)
	}
	b.Run("see its errors", chromedp.WaitVisible("#live-errors .live-error"))
	if got := b.Text("#live-errors"); !strings.Contains(got, "expected ';' before '}' token") {
		t.Errorf("new errors: %q", got)
	}
	if _, err := writer.UpdateBuildStatus(ctx, &ingestv1.UpdateBuildStatusRequest{BuildId: id, Status: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	b.Run("see the status change", chromedp.WaitVisible("#build-status.st-failed"))
	if n := browsertest.Eval[float64](b, `document.querySelectorAll("#phases tr[data-phase]").length`); n != 2 {
		t.Errorf("%v phase rows, want 2", n)
	}
	if n := browsertest.Eval[float64](b, `document.querySelectorAll("#phases b").length`); n != 0 {
		t.Error("a phase name became markup")
	}
}
