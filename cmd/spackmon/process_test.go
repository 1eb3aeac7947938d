package main

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

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
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	url, env := proctest.StartRoles(t, bin, append(os.Environ(), "SPACKMON_DATABASE_URL="+db, "SPACKMON_LOG_LEVEL=warn"))
	srv := &testServer{URL: url, prefix: "/ms1", client: &http.Client{Timeout: time.Minute}, realm: url + "/auth/token/"}
	// The user is made by the CLI, on the same database, while the services run.
	srv.user = "spackuser"
	srv.apiToken = proctest.AddUser(t, bin, env, srv.user)
	// One replay for both captures: the analyze run finds the spec and build the install
	// run made.
	r := newReplay(t, srv)
	for _, capture := range []string{"v0.17.2-install.jsonl", "v0.17.2-analyze.jsonl"} {
		for i, ex := range loadCapture(t, capture) {
			r.send(i, ex)
		}
	}
	r.checkStored()
}
