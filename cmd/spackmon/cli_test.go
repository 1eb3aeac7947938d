package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/proctest"
)

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := printHelp(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SPACKMON_ADDR", "127.0.0.1:8080", "SPACKMON_DATA_DIR", "./spackmon-data", "SPACKMON_DATABASE_URL",
		"SPACKMON_GRPC_ADDR", "SPACKMON_INGEST_ADDR", "SPACKMON_API_PREFIX", "SPACKMON_MAX_BODY_BYTES", "268435456",
		"serve", "ingest", "gateway", "migrate", "version",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help does not mention %q:\n%s", want, out.String())
		}
	}
}

// Help, asked for in any of the usual ways, is printed and is a success; a mistyped flag is
// named, with where to find the right ones.
func TestCommandHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "usage: spackmon <command> [flags]"},
		{[]string{"-h"}, "SPACKMON_DATABASE_URL"},
		{[]string{"serve", "--help"}, "-data-dir string"},
		{[]string{"serve", "-h"}, "spackmon serve reads:"},
		{[]string{"gateway", "--help"}, "SPACKMON_INGEST_ADDR"},
		{[]string{"import", "--help"}, "usage: spackmon import FILE... --spack-version V [--url U]"},
		{[]string{"upload", "-h"}, "SPACKMON_TOKEN"},
		{[]string{"user", "--help"}, "usage: spackmon user add NAME"},
		{[]string{"user", "add", "-h"}, "-admin"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append(os.Environ(), "SPACKMON_TOKEN_TTL=not a duration") // help needs no valid environment
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), c.want) || stderr.Len() != 0 {
			t.Errorf("spackmon %s: %v, stdout without %q:\n%s\nstderr:\n%s", strings.Join(c.args, " "), err, c.want, stdout.String(), stderr.String())
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--adr", "x"}, "spackmon: flag provided but not defined: -adr; 'spackmon serve -h' lists the flags\n"},
		{[]string{"serve", "extra"}, `spackmon: spackmon serve takes no arguments, got "extra"`},
		{[]string{"import", "a.json"}, "spackmon: --spack-version is missing"},
	} {
		cmd := exec.Command(bin, c.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.HasPrefix(stderr.String(), c.want) {
			t.Errorf("spackmon %s: %v, stderr %q, want it to start with %q", strings.Join(c.args, " "), err, stderr.String(), c.want)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	if err := realMain(context.Background(), []string{"frobnicate"}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := realMain(context.Background(), nil); err == nil {
		t.Fatal("no command succeeded")
	}
}

// An operator who moves the protocol to another prefix gets it there, and only there.
func TestAPIPrefix(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.APIPrefix = "spack" })
	if a := srv.get(t, "/spack/"); a.Status != http.StatusOK || a.JSON(t)["id"] != "spackmon" {
		t.Errorf("service info under the prefix: %d %s", a.Status, a.Body)
	}
	wantEnvelope(t, srv.post(t, "/spack/specs/new/", singularitySpec(t)), http.StatusCreated, "success")
	wantError(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusNotFound)
}

// goneAddr is the address of a server that went away: a port the system gave the test,
// closed again, where a client is refused. Nothing is meant to listen there.
func goneAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// With its backend gone, the gateway says so: service info 503, writes 503 JSON.
func TestBackendUnavailable(t *testing.T) {
	dead := goneAddr(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- serveGateway(ctx, ctx, log, HTTPEdge{APIPrefix: "ms1"}, config.Auth{}, config.Limits{MaxBodyBytes: 1 << 20}, nil, backendAddrs{ingest: dead, auth: dead}, lis)
	}()
	t.Cleanup(func() { cancel(); <-done })
	srv := &testServer{URL: "http://" + lis.Addr().String(), prefix: "/ms1", client: &http.Client{Timeout: time.Minute}}

	var a answer
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := srv.client.Get(srv.URL + "/ms1/"); err == nil {
			resp.Body.Close()
			break
		}
	}
	a = srv.get(t, "/ms1/")
	if a.Status != http.StatusServiceUnavailable || a.JSON(t)["status"] != "service not available" {
		t.Errorf("service info without backend: %d %s", a.Status, a.Body)
	}
	wantError(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusServiceUnavailable)
}

func TestAPIDocs(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	a := srv.get(t, "/api/docs/")
	if a.Status != http.StatusOK || !strings.Contains(string(a.Body), "/api/v1/builds/{id}") {
		t.Errorf("docs page: %d %.200s", a.Status, a.Body)
	}
	a = srv.get(t, "/api/docs/openapi.json")
	if a.Status != http.StatusOK || a.JSON(t)["swagger"] != "2.0" {
		t.Errorf("openapi.json: %d %.200s", a.Status, a.Body)
	}
	if info := a.JSON(t)["info"]; path(info, "title") != "spackmon" || path(info, "version") != "v1" {
		t.Errorf("openapi.json info: %v", info)
	}
}

func TestMetrics(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	srv.post(t, "/ms1/specs/new/", singularitySpec(t))
	a := srv.get(t, "/metrics")
	if a.Status != http.StatusOK || !strings.Contains(string(a.Body), "rpc_server_call_duration") && !strings.Contains(string(a.Body), "rpc_server_duration") {
		t.Errorf("metrics: %d %.400s", a.Status, a.Body)
	}
}

// Service info is 503 when any backing service is down, not only ingest: Spack would start
// a run that fails at the realm or at analyze.
func TestServiceInfoAsksEveryBackend(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	up, dead := srv.GRPCAddr, goneAddr(t)
	for _, c := range []struct {
		addrs backendAddrs
		want  int
	}{
		{backendAddrs{ingest: up, auth: up, analysis: up}, http.StatusOK},
		{backendAddrs{ingest: up, auth: dead, analysis: up}, http.StatusServiceUnavailable},
		{backendAddrs{ingest: up, auth: up, analysis: dead}, http.StatusServiceUnavailable},
	} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- serveGateway(ctx, ctx, slog.New(slog.DiscardHandler), HTTPEdge{APIPrefix: "ms1"}, config.Auth{}, config.Limits{MaxBodyBytes: 1 << 20}, nil, c.addrs, lis)
		}()
		gw := &testServer{URL: "http://" + lis.Addr().String(), prefix: "/ms1", client: &http.Client{Timeout: time.Minute}}
		if a := gw.get(t, "/ms1/"); a.Status != c.want {
			t.Errorf("%+v: %d, want %d", c.addrs, a.Status, c.want)
		}
		cancel()
		<-done
	}
}

// A saturated server is busy, not down: while every ingest database connection waits on a
// lock held from outside and 64 clients queue writes behind it, service info stays 200 on
// every poll (it used to ping the database on the request's time and answer 503 once the
// ping waited a second), and the writes all succeed once the lock goes.
func TestServiceInfoUnderSaturation(t *testing.T) {
	const writers, hold = 64, 2500 * time.Millisecond
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		release := lockIngestDatabase(t, srv.db)
		body, err := json.Marshal(singularitySpec(t))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		failures := make(chan string, writers)
		for range writers {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ms1/specs/new/", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+srv.bearer)
				resp, err := srv.client.Do(req)
				if err != nil {
					failures <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
					failures <- resp.Status
				}
			})
		}
		polls := 0
		for end := time.Now().Add(hold); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if a := srv.get(t, "/ms1/"); a.Status != http.StatusOK {
				t.Fatalf("service info while saturated, poll %d: %d %s", polls+1, a.Status, a.Body)
			}
			polls++
		}
		release()
		wg.Wait()
		close(failures)
		for f := range failures {
			t.Errorf("a queued write failed: %s", f)
		}
		t.Logf("%d polls of service info while %d writes waited, all 200", polls, writers)
	})
}

// lockIngestDatabase takes, from outside the server, a lock that every ingest write waits
// on, until the returned function is called or the test ends.
func lockIngestDatabase(t *testing.T, d config.Database) (release func()) {
	t.Helper()
	defer func() {
		release = sync.OnceFunc(release)
		t.Cleanup(release)
	}()
	ctx := context.Background()
	if d.URL == "" {
		sq, err := db.OpenSQLite(filepath.Join(d.DataDir, ingestSchema.sqliteFile))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := sq.Write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
		if err != nil {
			t.Fatal(err)
		}
		return func() { _ = tx.Rollback(); sq.Close() }
	}
	conn, err := pgx.Connect(ctx, d.URL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "LOCK TABLE specs IN ACCESS EXCLUSIVE MODE")
	}
	if err != nil {
		t.Fatal(err)
	}
	return func() { _ = tx.Rollback(ctx); conn.Close(ctx) }
}

// The real binary's first-user hint can be pasted as it is (it names the binary as it was
// run, not a spackmon that may not be on PATH), and a SIGINT is logged as a stop.
func TestServeHintAndStopLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t)
	data := t.TempDir()
	// The test needs no address: the system picks both ports.
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "SPACKMON_DATABASE_URL=", "SPACKMON_LOG_LEVEL=info")
	var logs logBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs.waitLog(t, `create="`+bin+` user add NAME --data-dir `+data+`"`)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve on SIGINT: %v\n%s", err, logs.String())
	}
	stopping := strings.Index(logs.String(), `msg="spackmon stopping: finishing the requests in flight" reason="interrupt signal received"`)
	stopped := strings.Index(logs.String(), `msg="spackmon stopped"`)
	if stopping < 0 || stopped < stopping {
		t.Errorf("the log does not say it is stopping, then that it stopped:\n%s", logs.String())
	}
	// A clean stop is no warning: the services going down with the gateway are not news.
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a clean stop logged a warning:\n%s", logs.String())
	}
}

// A gateway that listens beyond loopback with a loopback public URL (SPACKMON_PUBLIC_URL
// unset) says so at start: its challenges send clients elsewhere to themselves for tokens.
func TestWarnLoopbackPublicURL(t *testing.T) {
	for _, c := range []struct {
		listen, public string
		warns          bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"0.0.0.0:8080", "http://127.0.0.1:8080", true},
		{"[::]:8080", "http://localhost:8080", true},
		{"10.0.0.5:8080", "http://[::1]:8080", true},
		{"0.0.0.0:8080", "https://monitor.example.org", false},
		{"[::1]:8080", "http://localhost:8080", false},
		{"0.0.0.0:8080", "http://LOCALHOST.:8080", true},
		{"0.0.0.0:8080", "http://spackmon.localhost:8080", true},
		{"0.0.0.0:8080", "http://0.0.0.0:8080", true},
	} {
		var buf bytes.Buffer
		warnLoopbackPublicURL(slog.New(slog.NewTextHandler(&buf, nil)), c.listen, c.public)
		if got := strings.Contains(buf.String(), "level=WARN"); got != c.warns {
			t.Errorf("listening on %s with %s: warned %v: %q", c.listen, c.public, got, buf.String())
		}
	}
}

// An idle timeout of zero or less would leave every connection unbounded: refused.
func TestIdleTimeoutMustBePositive(t *testing.T) {
	limits := config.Limits{MaxBodyBytes: 1 << 20}
	for d, ok := range map[time.Duration]bool{0: false, -time.Second: false, time.Second: true} {
		if err := (HTTPEdge{IdleTimeout: d, APIPrefix: "ms1"}).validate(config.Auth{}, limits); (err == nil) != ok {
			t.Errorf("SPACKMON_IDLE_TIMEOUT=%v: %v", d, err)
		}
	}
}

// What the gateway would refuse once serving is refused before a role says it serves.
func TestGatewaySettingsCheckedBeforeServing(t *testing.T) {
	for _, c := range []struct {
		prefix string
		body   int64
	}{{"ms1", -1}, {"ms1", 0}, {"api", 1 << 20}, {"a/b", 1 << 20}} {
		err := (HTTPEdge{IdleTimeout: time.Second, APIPrefix: c.prefix}).validate(config.Auth{}, config.Limits{MaxBodyBytes: c.body})
		if err == nil || !strings.HasPrefix(err.Error(), "configuration: ") {
			t.Errorf("SPACKMON_API_PREFIX=%s SPACKMON_MAX_BODY_BYTES=%d: %v", c.prefix, c.body, err)
		}
	}
}
