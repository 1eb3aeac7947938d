package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spackmon/spackmon/pkg/monitorclient"
)

// countingTransport counts the requests a client sends, by path.
type countingTransport struct {
	mu    sync.Mutex
	paths map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.paths == nil {
		c.paths = map[string]int{}
	}
	c.paths[r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paths[path]
}

func newMonitorClient(t *testing.T, srv *testServer, user, token string) (*monitorclient.Client, *countingTransport) {
	t.Helper()
	ct := &countingTransport{}
	c, err := monitorclient.New(srv.URL, user, token, monitorclient.Options{HTTPClient: &http.Client{Transport: ct}})
	if err != nil {
		t.Fatal(err)
	}
	return c, ct
}

const clientSingularityHash = "36u22fm5i3w2tqyiyje22j6x55emekjw"

func TestMonitorClientAgainstServe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		ctx := context.Background()
		c, ct := newMonitorClient(t, srv, srv.user, srv.apiToken)

		info, err := c.ServiceInfo(ctx)
		if err != nil || info.ID != "spackmon" || info.Status != "running" || info.Version == "" {
			t.Fatalf("service info %+v, %v", info, err)
		}

		doc := readTestdata(t, "specs", "singularity-3.8.0.json")
		created, spec, err := c.NewSpec(ctx, doc, "1.0.0")
		if err != nil || !created || spec.FullHash != clientSingularityHash || spec.Name != "singularity" || spec.Version != "3.8.0" || spec.SpackVersion != "1.0.0" {
			t.Fatalf("first NewSpec: created %t, %+v, %v", created, spec, err)
		}
		if len(spec.Specs) == 0 {
			t.Errorf("no direct dependencies in %+v", spec)
		}
		// One challenge, one realm trip, one retry; the bearer is kept for what follows.
		if ct.count("/auth/token/") != 1 || ct.count("/ms1/specs/new/") != 2 {
			t.Errorf("realm asked %d times, specs/new sent %d times; want 1 and 2", ct.count("/auth/token/"), ct.count("/ms1/specs/new/"))
		}
		created, again, err := c.NewSpec(ctx, doc, "1.0.0")
		if err != nil || created || again.FullHash != spec.FullHash {
			t.Fatalf("second NewSpec: created %t, %+v, %v", created, again, err)
		}

		req := monitorclient.NewBuildRequest{FullHash: clientSingularityHash, SpackVersion: "1.0.0", Hostname: "client-host",
			KernelVersion: "6.1", HostOS: "debian12", HostTarget: "x86_64_v3", Platform: "linux", Tags: []string{"alpha", "beta"}}
		b, err := c.NewBuild(ctx, req)
		if err != nil || !b.BuildCreated || b.Build.ID == 0 || b.Build.SpecName != "singularity" {
			t.Fatalf("NewBuild: %+v, %v", b, err)
		}
		id := int64(b.Build.ID)
		if again, err := c.NewBuild(ctx, req); err != nil || again.BuildCreated || again.Build.ID != b.Build.ID {
			t.Fatalf("repeated NewBuild: %+v, %v", again, err)
		}

		out := "==> singularity: Executing phase: 'build'\nok\n"
		if p, err := c.UpdatePhase(ctx, id, "build", "SUCCESS", &out); err != nil || p.Name != "build" || p.Status != "SUCCESS" || p.ID == 0 {
			t.Fatalf("UpdatePhase: %+v, %v", p, err)
		}
		if _, err := c.UpdatePhase(ctx, id, "install", "SUCCESS", nil); err != nil {
			t.Fatalf("UpdatePhase with null output: %v", err)
		}
		if ref, err := c.UpdateBuildStatus(ctx, id, "SUCCESS"); err != nil || int64(ref.ID) != id {
			t.Fatalf("UpdateBuildStatus: %+v, %v", ref, err)
		}
		if _, err := c.Analyze(ctx, id, map[string]any{"config_args": "--prefix=/opt/x", "environment_variables": map[string]string{"CC": "gcc"}}); err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		if ct.count("/auth/token/") != 1 {
			t.Errorf("realm asked %d times over the run, want 1", ct.count("/auth/token/"))
		}

		got := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
		if got["status"] != "SUCCESS" || path(got, "environment", "hostname") != "client-host" || fmt.Sprint(got["tags"]) != "[alpha beta]" {
			t.Errorf("build read back: %v", got)
		}
		if phases, _ := got["phases"].([]any); len(phases) != 2 {
			t.Errorf("phases read back: %v", got["phases"])
		}
		if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output", id)); string(a.Body) != out {
			t.Errorf("output read back %q, want %q", a.Body, out)
		}
		if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/config-args", id)); a.Status != http.StatusOK || !strings.Contains(string(a.Body), "--prefix=/opt/x") {
			t.Errorf("config args read back: %d %s", a.Status, a.Body)
		}

		// Errors carry the server's status and message.
		_, _, err = c.NewSpec(ctx, doc, "")
		if monitorclient.StatusOf(err) != http.StatusBadRequest || !errContains(err, "A spack_version string is required") {
			t.Errorf("NewSpec without a version: %v", err)
		}
		_, err = c.UpdateBuildStatus(ctx, id, "DONE")
		if monitorclient.StatusOf(err) != http.StatusBadRequest || !errContains(err, "Invalid status") {
			t.Errorf("bad status: %v", err)
		}
		_, err = c.UpdateBuildStatus(ctx, id+1000, "SUCCESS")
		if monitorclient.StatusOf(err) != http.StatusNotFound {
			t.Errorf("unknown build: %v", err)
		}
		other, _ := newMonitorClient(t, srv, "mallory", "not-a-token")
		_, err = other.UpdateBuildStatus(ctx, id, "FAILED")
		if monitorclient.StatusOf(err) != http.StatusUnauthorized {
			t.Errorf("bad credentials: %v", err)
		}
		bob, bobToken := srv.addUser(t, "bob", false)
		bc, _ := newMonitorClient(t, srv, bob, bobToken)
		_, err = bc.UpdateBuildStatus(ctx, id, "FAILED")
		if monitorclient.StatusOf(err) != http.StatusForbidden || !errContains(err, "You do not own the build") {
			t.Errorf("another user's build: %v", err)
		}
	})
}

// TestMonitorClientConcurrent shares one client between goroutines posting the same spec:
// the server must create it once.
func TestMonitorClientConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		c, ct := newMonitorClient(t, srv, srv.user, srv.apiToken)
		doc := readTestdata(t, "specs", "singularity-3.6.4.json")
		const n = 8
		var created atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := c.NewSpec(context.Background(), doc, "0.16.1")
				if err != nil {
					errs <- err
					return
				}
				if ok {
					created.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if created.Load() != 1 {
			t.Errorf("%d goroutines created the spec, want 1", created.Load())
		}
		// Goroutines refused while another fetched a token reuse that one.
		if realm := ct.count("/auth/token/"); realm != 1 {
			t.Errorf("realm asked %d times, want 1", realm)
		}
		before := ct.count("/auth/token/")
		if _, _, err := c.NewSpec(context.Background(), doc, "0.16.1"); err != nil || ct.count("/auth/token/") != before {
			t.Errorf("after the burst: %v, realm asked %d more times", err, ct.count("/auth/token/")-before)
		}
	})
}

func errContains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
