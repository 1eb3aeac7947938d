package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m, pgtest.Run) }

// bodyLimit is set on the servers under test so that the suite's 413 check runs instead of
// being skipped.
const bodyLimit = "1048576"

// The suite against spackmon serve on SQLite: every check must pass.
func TestServeOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	t.Parallel()
	bin := proctest.Build(t)
	data := t.TempDir()
	sockets := proctest.Listen(t, "http", "grpc")
	httpAddr := sockets.Addr("http")
	env := append(os.Environ(), "SPACKMON_LOG_LEVEL=warn", "SPACKMON_PUBLIC_URL=http://"+httpAddr,
		"SPACKMON_MAX_BODY_BYTES="+bodyLimit, "SPACKMON_DATABASE_URL=")
	proctest.Start(t, bin, env, sockets, "serve", "--data-dir", data, "--addr", httpAddr, "--grpc-addr", sockets.Addr("grpc"))
	url := "http://" + httpAddr
	proctest.WaitReady(t, url)
	// The users are made while the server runs, on its data dir.
	alice := account{"alice", proctest.AddUser(t, bin, env, "alice", "--data-dir", data)}
	bob := account{"bob", proctest.AddUser(t, bin, env, "bob", "--data-dir", data)}
	runSuite(t, url, alice, bob)
}

// The suite against the separate processes (auth, ingest, analysis, gateway) on PostgreSQL:
// every check must pass.
func TestSeparateProcessesOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	t.Parallel()
	bin := proctest.Build(t)
	db := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	d := proctest.StartRoles(t, bin, append(os.Environ(), "SPACKMON_DATABASE_URL="+db,
		"SPACKMON_LOG_LEVEL=warn", "SPACKMON_MAX_BODY_BYTES="+bodyLimit))
	alice := account{"alice", proctest.AddUser(t, bin, d.Env, "alice")}
	bob := account{"bob", proctest.AddUser(t, bin, d.Env, "bob")}
	runSuite(t, d.URL, alice, bob)
}

type account struct{ name, token string }

var finalLine = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed\n\z`)

// runSuite runs the command as a user would and wants every check to pass, none skipped
// but the ones a complete server has no reason to skip.
func runSuite(t *testing.T, url string, alice, bob account) {
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
	if strings.Contains(errOut.String(), "skipped:") {
		t.Errorf("a complete run is told how to run skipped checks: %s", errOut.String())
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
	if code := run(context.Background(), []string{"--url", srv.URL, "--user", "u", "--token", "t", "--junit", junit, "--run-id", "r1"}, &out, &errOut); code != 1 {
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
	// Without a second user and the body limit, the end of the run says how to run the
	// checks it skipped, and what it left in the server.
	for _, want := range []string{
		"4 ownership checks were skipped: to run them, set SPACKMON_USER2 and SPACKMON_TOKEN2",
		"1 body-limit check was skipped: to run it, pass --max-body-bytes",
		"This run left its data in " + srv.URL + ": specs named conf-r1-*, builds on the host conf-r1-host",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut.String())
		}
	}
	t.Setenv("SPACKMON_USER", "")
	t.Setenv("SPACKMON_TOKEN", "")
	if code := run(context.Background(), []string{"--url", srv.URL}, &out, &errOut); code != 2 {
		t.Errorf("exit status %d without credentials, want 2", code)
	}
}
