package pgtest

import (
	"os"
	"testing"
)

// Cluster is a PostgreSQL server of the test's own, which the test may stop and start
// again, as an operator restarting the database or a failover would. It is made with initdb
// in a temporary directory and reached through a Unix socket there; its data survives a
// stop. It is stopped and removed when the test ends.
type Cluster struct {
	t       testing.TB
	c       *localCluster
	running bool
}

// NewCluster starts a new cluster for t.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startCluster()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cl := &Cluster{t: t, c: c, running: true}
	t.Cleanup(func() {
		if c.watchdog != nil {
			_ = c.watchdog.Process.Kill()
			_ = c.watchdog.Wait()
		}
		if cl.running {
			if err := c.stopServer(); err != nil {
				t.Errorf("pgtest: %v", err)
			}
		}
		_ = os.RemoveAll(c.dir)
	})
	return cl
}

// URL is the cluster's "postgres" database, as its superuser.
func (cl *Cluster) URL() string { return cl.c.url }

// Stop stops the server: open sessions are ended, committed data stays.
func (cl *Cluster) Stop() {
	cl.t.Helper()
	if err := cl.c.stopServer(); err != nil {
		cl.t.Fatalf("pgtest: %v", err)
	}
	cl.running = false
}

// Start starts the stopped server again, on the same socket and data.
func (cl *Cluster) Start() {
	cl.t.Helper()
	if err := cl.c.startServer(); err != nil {
		cl.t.Fatalf("pgtest: %v", err)
	}
	cl.running = true
}
