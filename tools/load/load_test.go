package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/proctest"
)

func TestMain(m *testing.M) { proctest.Main(m, (*testing.M).Run) }

// The smoke run CI makes: a short sweep against the real binary's serve, auth on. It fails
// on any request the server refuses or answers wrongly, and checks that what was sent is
// what the server then reads back: every build, its status, its phases and their warnings.
// Its second step starts 16 clients at once, each posting its first spec without a token
// and then logging in as the same user: what used to lose challenges to resets and
// logins to the realm's limit.
func TestSmokeAgainstServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a sweep against it")
	}
	bin := proctest.Build(t)
	sockets := proctest.Listen(t, "http", "grpc")
	dataDir := t.TempDir()
	env := append(os.Environ(), "SPACKMON_DATA_DIR="+dataDir, "SPACKMON_ADDR="+sockets.Addr("http"),
		"SPACKMON_GRPC_ADDR="+sockets.Addr("grpc"), "SPACKMON_LOG_LEVEL=warn")
	token := proctest.AddUser(t, bin, env, "load")
	serve := proctest.Start(t, bin, env, sockets, "serve")
	url := "http://" + sockets.Addr("http")
	proctest.WaitReady(t, url)

	cfg := config{url: url, user: "load", token: token, clients: []int{1, 16}, specs: 16, failRate: 0.3, seed: 7,
		testdata: fixtures.Path(t), pids: []int{serve.Pid()}, logMin: minLogBytes, logMax: maxLogBytes, dataDir: dataDir, spackVersion: "0.17.2"}
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, endpoint := range []string{"GET /ms1/", "POST /ms1/specs/new/", "POST /ms1/builds/new/", "POST /ms1/builds/phases/update/",
		"POST /ms1/builds/update/", "POST /ms1/analyze/builds/", "GET /auth/token/"} {
		if !regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(endpoint) + ` +[1-9]\d* +0 `).MatchString(out.String()) {
			t.Errorf("no row of requests without errors for %s", endpoint)
		}
	}
	summary := regexp.MustCompile(`(?m)^SUMMARY clients=1,16 specs=16,16 errors=0,0 specs_per_s=\S+ p99_ms=\S+ ` +
		`cpu_ms_per_spec=[0-9.]+,[0-9.]+ peak_rss_mib=[1-9]\d*,[1-9]\d* disk_kb_per_spec=\d+,\d+$`)
	if !summary.MatchString(out.String()) {
		t.Errorf("no SUMMARY line with every figure measured")
	}
	checkStored(t, url, 32)
}

// checkStored reads back the builds the run made: as many as its specs, each with a status
// Spack sent, its phases and the warnings of their logs; the failed ones with an error.
func checkStored(t *testing.T, url string, builds int) {
	t.Helper()
	var failed, warnings int
	for id := 1; id <= builds; id++ {
		var b struct {
			Status string `json:"status"`
			Phases []struct {
				Name         string `json:"name"`
				Status       string `json:"status"`
				ErrorCount   int    `json:"error_count"`
				WarningCount int    `json:"warning_count"`
			} `json:"phases"`
		}
		getJSON(t, fmt.Sprintf("%s/api/v1/builds/%d", url, id), &b)
		errors := 0
		for _, p := range b.Phases {
			warnings += p.WarningCount
			errors += p.ErrorCount
		}
		switch {
		case b.Status == "SUCCESS" && len(b.Phases) == 3:
		case b.Status == "FAILED" && len(b.Phases) == 2 && b.Phases[1].Status == "ERROR" && errors > 0:
			failed++
		default:
			t.Errorf("build %d: %+v", id, b)
		}
	}
	if failed == 0 || failed == builds || warnings < builds {
		t.Errorf("%d of %d builds failed, %d warnings in all: the workload has failures, successes and warnings", failed, builds, warnings)
	}
	// No more builds than specs: each spec's workflow made exactly one.
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/builds/%d", url, builds+1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("build %d: status %d, want 404", builds+1, resp.StatusCode)
	}
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, strings.TrimSpace(body.String()))
	}
	if err := json.Unmarshal(body.Bytes(), into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
