package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bodyLimit is set on the servers under test so that the suite's 413 check runs instead of
// being skipped.
const bodyLimit = "1048576"

// The suite against spackmon serve on SQLite: every check must pass.
func TestServeOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	t.Parallel()
	bin := spackmonBinary(t)
	data := t.TempDir()
	httpAddr := freeAddr(t)
	env := append(os.Environ(), "SPACKMON_LOG_LEVEL=warn", "SPACKMON_PUBLIC_URL=http://"+httpAddr,
		"SPACKMON_MAX_BODY_BYTES="+bodyLimit, "SPACKMON_DATABASE_URL=")
	// The users are made before the server starts: SQLite is the server's alone once it runs.
	alice := addUser(t, bin, env, "alice", "--data-dir", data)
	bob := addUser(t, bin, env, "bob", "--data-dir", data)
	start(t, bin, env, "serve", "--data-dir", data, "--addr", httpAddr, "--grpc-addr", freeAddr(t))
	runSuite(t, "http://"+httpAddr, alice, bob)
}

// The suite against the separate processes (auth, ingest, analysis, gateway) on PostgreSQL:
// every check must pass.
func TestSeparateProcessesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	t.Parallel()
	bin := spackmonBinary(t)
	url := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	httpAddr, ingestAddr, authAddr, analysisAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	env := append(os.Environ(), "SPACKMON_DATABASE_URL="+url, "SPACKMON_LOG_LEVEL=warn",
		"SPACKMON_PUBLIC_URL=http://"+httpAddr, "SPACKMON_MAX_BODY_BYTES="+bodyLimit)
	migrate := exec.Command(bin, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	start(t, bin, append(env, "SPACKMON_GRPC_ADDR="+authAddr, "SPACKMON_DATA_DIR="+t.TempDir()), "auth")
	start(t, bin, append(env, "SPACKMON_GRPC_ADDR="+ingestAddr), "ingest")
	start(t, bin, append(env, "SPACKMON_GRPC_ADDR="+analysisAddr, "SPACKMON_INGEST_ADDR="+ingestAddr), "analysis")
	start(t, bin, append(env, "SPACKMON_ADDR="+httpAddr, "SPACKMON_INGEST_ADDR="+ingestAddr,
		"SPACKMON_AUTH_ADDR="+authAddr, "SPACKMON_ANALYSIS_ADDR="+analysisAddr), "gateway")
	alice := addUser(t, bin, env, "alice")
	bob := addUser(t, bin, env, "bob")
	runSuite(t, "http://"+httpAddr, alice, bob)
}

type account struct{ name, token string }

var finalLine = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed\n\z`)

// runSuite runs the command as a user would and wants every check to pass, none skipped
// but the ones a complete server has no reason to skip.
func runSuite(t *testing.T, url string, alice, bob account) {
	waitReady(t, url)
	dir := t.TempDir()
	junit, transcripts := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "transcripts")
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, []string{"--url", url, "--user", alice.name, "--token", alice.token,
		"--user2", bob.name, "--token2", bob.token, "--max-body-bytes", bodyLimit,
		"--junit", junit, "--transcripts", transcripts}, &out, &errOut)
	text := out.String()
	if code != 0 {
		t.Errorf("exit status %d, want 0; stderr: %s", code, errOut.String())
		for _, f := range transcriptFiles(t, transcripts) {
			b, _ := os.ReadFile(f)
			t.Logf("%s", b)
		}
	}
	m := finalLine.FindStringSubmatch(text)
	if m == nil || m[2] != "0" {
		t.Errorf("final line of\n%s", text)
	}
	if !strings.Contains(text, "\n0 skipped\n") {
		t.Errorf("checks were skipped against a complete server:\n%s", grepNot(text, "PASS"))
	}
	if t.Failed() {
		t.Logf("results:\n%s", grepNot(text, "PASS"))
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(raw, &suites); err != nil || suites.Tests < 100 || suites.Failures != 0 {
		t.Errorf("junit: %v, %d tests, %d failures", err, suites.Tests, suites.Failures)
	}
}

func grepNot(text, word string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, word) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func transcriptFiles(t *testing.T, dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	return files
}

// spackmonBinary builds cmd/spackmon: the suite talks to the real binary, as an operator
// would run it.
func spackmonBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "spackmon")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/spackmon/spackmon/cmd/spackmon")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// addUser runs spackmon user add, which prints the API token on its last line.
func addUser(t *testing.T, bin string, env []string, name string, args ...string) account {
	cmd := exec.Command(bin, append([]string{"user", "add", name}, args...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("user add %s: %v\n%s%s", name, err, out, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return account{name, lines[len(lines)-1]}
}

func freeAddr(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

// start runs a role of the binary until the test ends, then stops it with SIGINT.
func start(t *testing.T, bin string, env []string, args ...string) {
	cmd := exec.Command(bin, args...)
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
				t.Errorf("%s exited with %v", args[0], err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGINT", args[0])
		}
	})
}

// waitReady waits for service info and for the realm: a gateway that dialed the auth
// service before it listened answers 503 until its gRPC connection is back.
func waitReady(t *testing.T, url string) {
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range []struct {
		path   string
		status int
	}{{"/ms1/", http.StatusOK}, {"/auth/token/", http.StatusUnauthorized}} {
		for {
			resp, err := http.Get(url + c.path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == c.status {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server did not become ready: GET %s: %v", c.path, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// The command's contract with CI: exit 1 and a final "N passed, N failed" line when a check
// fails, 2 when it cannot run at all.
func TestExitStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	junit := filepath.Join(t.TempDir(), "junit.xml")
	if code := run(context.Background(), []string{"--url", srv.URL, "--user", "u", "--token", "t", "--junit", junit}, &out, &errOut); code != 1 {
		t.Errorf("exit status %d against a server that answers 200 {}, want 1", code)
	}
	m := finalLine.FindStringSubmatch(out.String())
	if m == nil || m[2] == "0" {
		t.Errorf("output ends %q", out.String()[max(0, out.Len()-200):])
	}
	if !regexp.MustCompile(`\n\d+ skipped\n\d+ passed, \d+ failed\n$`).MatchString(out.String()) {
		t.Errorf("the skipped count is not on the line before the final one")
	}
	if _, err := os.Stat(junit); err != nil {
		t.Errorf("junit: %v", err)
	}
	t.Setenv("SPACKMON_USER", "")
	t.Setenv("SPACKMON_TOKEN", "")
	if code := run(context.Background(), []string{"--url", srv.URL}, &out, &errOut); code != 2 {
		t.Errorf("exit status %d without credentials, want 2", code)
	}
}
