package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// The roles as separate processes of the real binary on PostgreSQL: migrate, auth, ingest,
// analysis and gateway, talking gRPC over loopback, serving the captured Spack client.
func TestSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	// The user is made by the CLI, on the same database, while the services run.
	srv, d := startRolesWithUser(t, bin, "spackuser", "SPACKMON_LOG_LEVEL=warn")
	// One replay for both captures: the analyze run finds the spec and build the install
	// run made.
	r := newReplay(t, srv)
	for _, capture := range []string{"v0.17.2-install.jsonl", "v0.17.2-analyze.jsonl"} {
		for i, ex := range loadCapture(t, capture) {
			r.send(i, ex)
		}
	}
	r.checkStored()

	// A user disabled with the CLI, on the database, while the roles run: the services
	// refuse the token issued before it within the revocation refresh (5 s), having fetched
	// the realm's list through the gateway.
	tok := srv.token(t, srv.user, srv.apiToken, "")
	wantEnvelope(t, srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok)), http.StatusCreated, "")
	proctest.Run(t, bin, d.Env, "user", "disable", srv.user)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a := srv.postAs(t, "/ms1/specs/new/", singularitySpec(t), bearerHeader(tok))
		if a.Status == http.StatusUnauthorized {
			wantChallenge(t, srv, a, http.StatusUnauthorized, authn.InvalidToken)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the disabled user's token still answers %d %s", a.Status, a.Body)
		}
	}

	// Each gRPC-only role serves its own metrics, with the calls it answered.
	for role, url := range d.Metrics {
		resp, err := srv.client.Get(url)
		if err != nil {
			t.Fatalf("%s metrics: %v", role, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "rpc_server_") {
			t.Errorf("%s metrics: %d, %.300s", role, resp.StatusCode, body)
		}
	}
}

// Service info and the gateway's readiness probe follow the backends as they come and go: a
// killed role turns them 503 within moments (the gateway's health watch breaks with the
// connection), and the role started again turns them back to 200, with no restart of the
// gateway. Liveness stays 200 throughout: the gateway itself is fine.
func TestServiceInfoFollowsBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	d := proctest.StartRoles(t, bin, append(os.Environ(), "SPACKMON_DATABASE_URL="+db, "SPACKMON_LOG_LEVEL=error"))
	for _, role := range []string{"ingest", "auth", "analysis"} {
		killed := time.Now()
		d.Roles[role].Kill()
		waitStatus(t, d.URL+"/ms1/", http.StatusServiceUnavailable, role+" killed")
		waitStatus(t, d.URL+"/readyz", http.StatusServiceUnavailable, role+" killed")
		waitStatus(t, d.URL+"/healthz", http.StatusOK, role+" killed")
		started := time.Now()
		d.Roles[role].Restart()
		waitStatus(t, d.URL+"/ms1/", http.StatusOK, role+" started again")
		waitStatus(t, d.URL+"/readyz", http.StatusOK, role+" started again")
		t.Logf("%s: 503 %v after the kill, 200 %v after the restart", role, started.Sub(killed).Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
	}
}

// waitStatus polls GET url until it answers want; the deadline only bounds a failing test.
func waitStatus(t *testing.T, url string, want int, what string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	got := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, url, err)
		}
		resp.Body.Close()
		if got = resp.StatusCode; got == want {
			return
		}
	}
	t.Fatalf("%s: %s still %d, want %d", what, url, got, want)
}

// startRolesWithUser runs the roles of bin as separate processes on a database of their
// own, with env added to the environment, and returns a client of them as user, whom the
// CLI adds while they run.
func startRolesWithUser(t *testing.T, bin, user string, env ...string) (*testServer, proctest.Deployment) {
	t.Helper()
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	d := proctest.StartRoles(t, bin, append(append(os.Environ(), "SPACKMON_DATABASE_URL="+db), env...))
	srv := &testServer{URL: d.URL, prefix: "/ms1", client: &http.Client{Timeout: time.Minute}, realm: d.URL + "/auth/token/"}
	srv.user = user
	srv.apiToken = proctest.AddUser(t, bin, d.Env, user)
	return srv, d
}
