package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/pgtest"
)

// The roles as separate processes of the real binary on PostgreSQL: migrate, auth, ingest,
// analysis and gateway, talking gRPC over loopback, serving the captured Spack client.
func TestSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "spackmon")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	env := append(os.Environ(), "SPACKMON_DATABASE_URL="+url, "SPACKMON_LOG_LEVEL=warn")

	migrate := exec.Command(bin, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	} else {
		t.Logf("migrate: %s", out)
	}
	grpcAddr, authAddr, analysisAddr, httpAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	env = append(env, "SPACKMON_PUBLIC_URL=http://"+httpAddr)
	start(t, bin, "auth", append(env, "SPACKMON_GRPC_ADDR="+authAddr, "SPACKMON_DATA_DIR="+t.TempDir()))
	start(t, bin, "ingest", append(env, "SPACKMON_GRPC_ADDR="+grpcAddr))
	start(t, bin, "analysis", append(env, "SPACKMON_GRPC_ADDR="+analysisAddr, "SPACKMON_INGEST_ADDR="+grpcAddr))
	start(t, bin, "gateway", append(env, "SPACKMON_INGEST_ADDR="+grpcAddr, "SPACKMON_AUTH_ADDR="+authAddr,
		"SPACKMON_ANALYSIS_ADDR="+analysisAddr, "SPACKMON_ADDR="+httpAddr))

	srv := &testServer{URL: "http://" + httpAddr, prefix: "/ms1", client: &http.Client{Timeout: time.Minute},
		realm: "http://" + httpAddr + "/auth/token/"}
	srv.waitReady(t)
	// The user is made by the CLI, on the same database, while the services run.
	add := exec.Command(bin, "user", "add", "spackuser")
	add.Env = env
	out, err := add.Output()
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	srv.user, srv.apiToken = "spackuser", lines[len(lines)-1]
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

func freeAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

func start(t *testing.T, bin, role string, env []string) {
	cmd := exec.Command(bin, role)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v", role, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGINT", role)
		}
	})
}
