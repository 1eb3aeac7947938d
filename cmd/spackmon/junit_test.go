package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// spack install --log-format=junit files through spackmon upload --junit: a build per
// package, linked to the stored spec whose DAG hash names the test case, the package's log
// as its install phase, parsed for events; and a generic report posted to /api/v1/junit as
// one build with its tests.
func TestJUnitUpload(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		// mon-dep's spec is stored (as spack install --monitor would have); mon-root's is not.
		const depHash = "ceibowx5kp4l2pbg6ujczcsobh25axio"
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", specWithNode(map[string]any{
			"name": "mon-dep", "version": "1.0", "hash": depHash, "full_hash": "monDepFullHash"})), http.StatusCreated, "")

		files := []string{testdata(t, "junit", "junit-v0.18-success.xml"), testdata(t, "junit", "junit-v0.18-cc-error.xml")}
		upload := func() string {
			var out, errOut bytes.Buffer
			env := map[string]string{"SPACKMON_USER": srv.user, "SPACKMON_TOKEN": srv.apiToken}
			_, err := uploadCommand(context.Background(), &out, &errOut, false, func(k string) string { return env[k] },
				append([]string{"--url", srv.URL, "--site", "vm", "--junit"}, files...))
			if err != nil {
				t.Fatalf("upload --junit: %v\n%s%s", err, out.String(), errOut.String())
			}
			return out.String()
		}
		out := upload()
		for _, want := range []string{"mon-dep SUCCESS, 1 tests spec monDepFullHash", "mon-root SUCCESS, 1 tests\n", "cdcap-cc-fail FAILED, 1 tests\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("upload output lacks %q:\n%s", want, out)
			}
		}
		// Sent again: the same builds, nothing doubled.
		if again := upload(); again != out {
			t.Errorf("second upload:\n%s\nfirst:\n%s", again, out)
		}
		builds := items(getJSON(t, srv, "/api/v1/builds?source=junit&site=vm")["builds"])
		if len(builds) != 3 {
			t.Fatalf("%d junit builds, want 3", len(builds))
		}
		byName := map[string]map[string]any{}
		for _, b := range builds {
			byName[fmt.Sprint(path(b, "cdash", "build_name"))] = b
		}
		dep, root, cc := byName["mon-dep"], byName["mon-root"], byName["cdcap-cc-fail"]
		if path(dep, "spec", "full_hash") != "monDepFullHash" || path(dep, "spec", "version") != "1.0" {
			t.Errorf("mon-dep not linked to its stored spec: %v", dep["spec"])
		}
		if path(root, "spec", "name") != "mon-root" || path(root, "cdash", "compiler_name") != "gcc" {
			t.Errorf("mon-root: %v %v", root["spec"], root["cdash"])
		}
		output := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/install/output", num(t, root["id"])))
		if output.Status != http.StatusOK || !strings.Contains(string(output.Body), "Executing phase: 'configure'") {
			t.Errorf("mon-root install log: %d %.200s", output.Status, output.Body)
		}
		if cc["status"] != "FAILED" || num(t, cc["tests_failed"]) != 1 {
			t.Errorf("cc-fail: %v", cc)
		}
		errs := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", num(t, cc["id"])))["events"])
		if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs[0]["text"]), "undeclared") {
			t.Errorf("cc-fail errors from its log: %v", errs)
		}

		// A generic report, posted with an API token as ctest users have.
		report := `<?xml version="1.0"?><testsuites name="pytest"><testsuite name="pytest" timestamp="2026-12-05T07:00:00" hostname="ci-1">
<testcase classname="tests.test_a" name="test_ok" time="0.5"/>
<testcase classname="tests.test_a" name="test_bad" time="0.1"><failure message="assert 1 == 2">trace</failure></testcase>
<testcase classname="tests.test_a" name="test_skip"><skipped/></testcase></testsuite></testsuites>`
		a := srv.do(t, http.MethodPost, "/api/v1/junit?project=Py", []byte(report), bearerHeader(srv.apiToken))
		if a.Status != http.StatusOK {
			t.Fatalf("POST /api/v1/junit: %d %s", a.Status, a.Body)
		}
		made := items(a.JSON(t)["builds"])
		if len(made) != 1 || made[0]["build_name"] != "pytest" || made[0]["status"] != "FAILED" {
			t.Fatalf("generic report: %s", a.Body)
		}
		tests := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/tests", num(t, made[0]["build_id"])))["tests"])
		if len(tests) != 3 || tests[1]["name"] != "tests.test_a.test_bad" || tests[1]["status"] != "failed" ||
			!strings.Contains(fmt.Sprint(tests[1]["output"]), "assert 1 == 2") || tests[2]["status"] != "notrun" {
			t.Errorf("tests %v", tests)
		}
		// Without a token: the realm's challenge, nothing stored.
		a = srv.do(t, http.MethodPost, "/api/v1/junit?project=Other", []byte(report), http.Header{"Authorization": nil})
		if a.Status != http.StatusUnauthorized || a.Header.Get("Www-Authenticate") == "" {
			t.Errorf("without a token: %d %v %s", a.Status, a.Header, a.Body)
		}
		a = srv.do(t, http.MethodPost, "/api/v1/junit", []byte(`<testsuite><testcase>`), bearerHeader(srv.apiToken))
		if a.Status != http.StatusBadRequest || !strings.Contains(string(a.Body), "Invalid JUnit report") {
			t.Errorf("malformed report: %d %s", a.Status, a.Body)
		}
	})
}
