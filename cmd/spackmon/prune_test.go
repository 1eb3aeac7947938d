package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/gateway"
	"github.com/spackmon/spackmon/services/ingest/retention"
)

// TestPrune runs spackmon prune's batches on a served store: a dry run lists, a real run
// removes the older build of the spec and keeps the newest, and drops the logs but keeps
// the errors found in them.
func TestPrune(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		older := newBuild(t, srv)
		env := maps.Clone(buildEnv)
		env["hostname"] = "builder2"
		newer := num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", env), http.StatusCreated, ""), "data", "build", "build_id"))
		wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{"build_id": newer, "phase_name": "build",
			"status": "ERROR", "output": "cc -c x.c\nx.c:1:1: error: unknown type name 'foo'\n"}), http.StatusOK, "")

		st, err := openIngestStore(context.Background(), srv.db, false)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		future := time.Now().Add(time.Hour)
		all := retention.Cutoffs{Builds: future, Failed: future, Logs: future}
		var out bytes.Buffer
		if err := prune(context.Background(), st, all, 1, true, true, &out); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("would remove build %d singularity/", older); !strings.Contains(out.String(), want) ||
			!strings.Contains(out.String(), "would remove 1 builds (0 failed) and 1 phase logs") {
			t.Fatalf("dry run said %q", out.String())
		}
		if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", older)); a.Status != http.StatusOK {
			t.Fatalf("a dry run removed build %d: %d", older, a.Status)
		}

		out.Reset()
		if err := prune(context.Background(), st, all, 1, false, false, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), "removed 1 builds (0 failed) and 1 phase logs") {
			t.Fatalf("prune said %q", out.String())
		}
		if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", older)); a.Status != http.StatusNotFound {
			t.Fatalf("pruned build %d answers %d", older, a.Status)
		}
		if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", newer)); a.Status != http.StatusOK {
			t.Fatalf("the newest build %d answers %d", newer, a.Status)
		}
		events := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events", newer))
		if events.Status != http.StatusOK || !strings.Contains(string(events.Body), "unknown type name") {
			t.Fatalf("the events of a pruned log: %d %s", events.Status, events.Body)
		}
		pruned := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output", newer))
		if pruned.Status != http.StatusOK || len(pruned.Body) != 0 || pruned.Header.Get(gateway.LogPrunedHeader) != "true" {
			t.Fatalf("a pruned log answers %d %q, %s %q", pruned.Status, pruned.Body, gateway.LogPrunedHeader, pruned.Header.Get(gateway.LogPrunedHeader))
		}
		// The page of a pruned log shows its error with the line before it, kept from the log.
		if page := string(srv.get(t, fmt.Sprintf("/builds/%d/phases/build", newer)).Body); !strings.Contains(page, "Log pruned by retention") ||
			!strings.Contains(page, `id="L2"`) || !strings.Contains(page, "cc -c x.c") || !strings.Contains(page, "unknown type name &#39;foo&#39;") {
			t.Fatalf("the page of a pruned log: %s", page)
		}

		// The policy of today removes nothing made a moment ago.
		policy, _ := retention.Parse(retention.Default)
		out.Reset()
		if err := prune(context.Background(), st, policy.At(time.Now()), 1000, false, false, &out); err != nil ||
			!strings.HasPrefix(out.String(), "removed 0 builds (0 failed) and 0 phase logs") {
			t.Fatalf("default policy: %q, %v", out.String(), err)
		}
	})
}

// TestPruneCommand runs the command itself, dry, on a fresh data dir, and refuses a bad
// policy.
func TestPruneCommand(t *testing.T) {
	t.Setenv("SPACKMON_DATA_DIR", t.TempDir())
	t.Setenv("SPACKMON_DATABASE_URL", "")
	if err := realMain(context.Background(), []string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	if err := realMain(context.Background(), []string{"prune", "--dry-run"}); err != nil {
		t.Fatalf("prune --dry-run: %v", err)
	}
	t.Setenv("SPACKMON_RETENTION", "builds=forever")
	if err := realMain(context.Background(), []string{"prune"}); err == nil || !strings.Contains(err.Error(), "bad age") {
		t.Fatalf("prune with a bad policy: %v", err)
	}
}
