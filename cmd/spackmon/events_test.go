package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
)

// A build with more errors than a page holds is listed page by page over HTTP: every event
// once, in phase then line order, no page larger than asked for or than the maximum of
// 1,000. The errors are spread over phases, each under the cap of what one phase keeps.
func TestBuildEventsPaged(t *testing.T) {
	const errorLines = 2345
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
		id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
		for phase := 0; phase*logparse.MaxEvents < errorLines; phase++ {
			var log strings.Builder
			for i := phase * logparse.MaxEvents; i < min(errorLines, (phase+1)*logparse.MaxEvents); i++ {
				fmt.Fprintf(&log, "main.c:%d:1: error: failure number %d\n", i+1, i)
			}
			wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
				"build_id": id, "phase_name": fmt.Sprintf("phase%d", phase), "status": "ERROR", "output": log.String()}), http.StatusOK, "")
		}

		// page reads every event, pages of size at a time (0: the server's default).
		page := func(t *testing.T, size, maxPage int) (pages int) {
			next, seen := "", 0
			for {
				q := url.Values{"kind": {"error"}, "page_token": {next}}
				if size > 0 {
					q.Set("page_size", fmt.Sprint(size))
				}
				a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events?%s", id, q.Encode()))
				if a.Status != http.StatusOK {
					t.Fatalf("page %d: %d %s", pages, a.Status, a.Body)
				}
				m := a.JSON(t)
				if m["events_capped"] != false {
					t.Fatalf("page %d: events_capped %v for phases under the cap", pages, m["events_capped"])
				}
				events, _ := m["events"].([]any)
				if len(events) > maxPage {
					t.Fatalf("page %d has %d events, at most %d expected", pages, len(events), maxPage)
				}
				for _, e := range events {
					if want := fmt.Sprintf("main.c:%d:1: error: failure number %d", seen+1, seen); path(e, "text") != want {
						t.Fatalf("event %d: %v, want %q", seen, path(e, "text"), want)
					}
					seen++
				}
				pages++
				next, _ = m["next_page_token"].(string)
				if next == "" {
					break
				}
				if pages > errorLines {
					t.Fatal("paging does not end")
				}
			}
			if seen != errorLines {
				t.Fatalf("%d events listed, want %d", seen, errorLines)
			}
			return pages
		}
		if n := page(t, 1000, 1000); n != 3 {
			t.Errorf("%d pages of 1000, want 3", n)
		}
		if n := page(t, 5000, 1000); n != 3 {
			t.Errorf("%d pages asking for 5000, want 3 of the maximum 1000", n)
		}
		if n := page(t, 0, 100); n != 24 {
			t.Errorf("%d pages of the default size, want 24", n)
		}
		if n := page(t, 777, 777); n != 4 {
			t.Errorf("%d pages of 777, want 4", n)
		}

		a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events?page_token=bogus", id))
		if a.Status != http.StatusBadRequest {
			t.Errorf("a bad page token: %d %s", a.Status, a.Body)
		}
		if a := srv.get(t, "/api/v1/builds/987654/events"); a.Status != http.StatusNotFound {
			t.Errorf("unknown build: %d %s", a.Status, a.Body)
		}
	})
}
