package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/service"
)

// TestSeed seeds each store through the ingest service and reads the builds back through
// the API: every build is listed once, the failed ones fail with an error event, and the
// logs hold about the events asked for.
func TestSeed(t *testing.T) {
	const builds, perBuild = 200, 10
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			d := b.database(t)
			st, err := openIngestStore(context.Background(), d, true)
			if err != nil {
				t.Fatal(err)
			}
			tot, err := seed(context.Background(), service.New(st), seedPlan{builds: builds, eventsPerBuild: perBuild,
				logBytes: builds * 8 << 10, workers: 4, seed: 1}, io.Discard)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			srv := startServe(t, d, nil)
			listed := listAllBuilds(t, srv)
			if len(listed) != builds {
				t.Fatalf("%d builds listed, want %d", len(listed), builds)
			}
			failed, events := 0, 0
			for id, status := range listed {
				ev := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?page_size=100", id))["events"])
				events += len(ev)
				if status == "FAILED" {
					failed++
					if errs := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", id))["events"]); len(errs) != 1 {
						t.Errorf("failed build %d has %d error events, want 1", id, len(errs))
					}
				}
			}
			if int64(failed) != tot.failed.Load() || failed == 0 {
				t.Errorf("%d failed builds listed, seed wrote %d", failed, tot.failed.Load())
			}
			// Cancelled and never-run builds stop early, with fewer phases and events.
			if events < builds*perBuild*7/10 || events > builds*perBuild*11/10 {
				t.Errorf("%d events in %d builds, want about %d each", events, builds, perBuild)
			}
			// 25 root specs (8 builds each) and the dependencies their DAGs share.
			if specs := items(getJSON(t, srv, "/api/v1/specs?page_size=1000")["specs"]); len(specs) <= builds/buildsPerVariant {
				t.Errorf("%d specs listed, want more than the %d roots", len(specs), builds/buildsPerVariant)
			}
		})
	}
}

// listAllBuilds pages through /api/v1/builds and returns each build's status by id,
// failing on a build listed twice.
func listAllBuilds(t *testing.T, srv *testServer) map[int64]string {
	t.Helper()
	listed := map[int64]string{}
	for token := ""; ; {
		m := getJSON(t, srv, "/api/v1/builds?page_size=50&page_token="+url.QueryEscape(token))
		for _, b := range items(m["builds"]) {
			id := num(t, b["id"])
			if _, dup := listed[id]; dup {
				t.Fatalf("build %d listed twice", id)
			}
			listed[id], _ = b["status"].(string)
		}
		if token, _ = m["next_page_token"].(string); token == "" {
			return listed
		}
	}
}
