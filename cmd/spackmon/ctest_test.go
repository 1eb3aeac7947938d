package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ctestPath is Debian's ctest, or the test is skipped, loudly, except in CI (.ci/run
// installs cmake), where a missing ctest fails it.
func ctestPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ctest")
	if err == nil {
		if _, err = exec.LookPath("cmake"); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("ctest and cmake are required in CI (apt-get install cmake): %v", err)
	}
	t.Skipf("SKIPPED: the real ctest client is not installed (apt-get install cmake): %v", err)
	return ""
}

// ctestProject copies a captured CMake project to a temporary source tree whose
// CTestConfig.cmake submits to url.
func ctestProject(t *testing.T, name, url string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(src, os.DirFS(testdata(t, "cdash-client", "projects", name))); err != nil {
		t.Fatal(err)
	}
	// No retries: a refusal is final here, and waiting for it would only slow the test.
	config := fmt.Sprintf("set(CTEST_PROJECT_NAME \"Demo\")\nset(CTEST_NIGHTLY_START_TIME \"01:00:00 UTC\")\n"+
		"set(CTEST_SUBMIT_URL %q)\nset(CTEST_SUBMIT_RETRY_COUNT 0)\nset(CTEST_SUBMIT_RETRY_DELAY 0)\n", url)
	if err := os.WriteFile(filepath.Join(src, "CTestConfig.cmake"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// run runs a command in dir and returns its combined output; failing is allowed (ctest
// exits non-zero when a test or the build fails), the caller checks the output.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// experimental configures a project with cmake and runs ctest -D Experimental on it.
func experimental(t *testing.T, ctest, src string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	if out := run(t, ".", "cmake", "-S", src, "-B", bin); !strings.Contains(out, "Build files have been written") {
		t.Fatalf("cmake: %s", out)
	}
	out := run(t, bin, ctest, "-D", "Experimental")
	if !strings.Contains(out, "Submission successful") || strings.Contains(out, "Submit failed") {
		t.Fatalf("ctest -D Experimental did not submit:\n%s", out)
	}
	return out
}

// onlyBuild is the one build of a project and build name.
func onlyBuild(t *testing.T, srv *testServer, project, name string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, b := range items(getJSON(t, srv, "/api/v1/builds?source=cdash&project="+project)["builds"]) {
		if path(b, "cdash", "build_name") == name {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d builds named %q in %s, want 1", len(found), name, project)
	}
	return found[0]
}

// The real ctest client against serve: ctest -D Experimental on a passing and a failing
// project (an open project), and a ctest -S script with its API token in HTTPHEADER (a
// closed one); ctest says "Submission successful" and what it sent is stored.
func TestRealCTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cmake, a compiler and ctest")
	}
	ctest := ctestPath(t)
	srv := startServe(t, backends[0].database(t), func(cfg *serveConfig) { cfg.OpenProjects = []string{"Demo"} })

	t.Run("Experimental", func(t *testing.T) {
		experimental(t, ctest, ctestProject(t, "ctest-success", srv.URL+"/submit.php?project=Demo"))
		b := onlyBuild(t, srv, "Demo", "Linux-cc")
		id := num(t, b["id"])
		if b["status"] != "FAILED" || b["owner"] != "anonymous" || num(t, b["tests_passed"]) != 1 || num(t, b["tests_failed"]) != 1 {
			t.Errorf("build %v", b)
		}
		warns := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=warning", id))["events"])
		if len(warns) == 0 || warns[0]["source_file"] != "demo.c" {
			t.Errorf("warnings %v", warns)
		}
		failed := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/tests?status=failed", id))["tests"])
		if len(failed) != 1 || failed[0]["name"] != "demo_fails" || !strings.Contains(fmt.Sprint(failed[0]["output"]), "diagnostic line 40 of 40") {
			t.Errorf("failed tests %v", failed)
		}
	})

	t.Run("ExperimentalBuildFailure", func(t *testing.T) {
		src := ctestProject(t, "ctest-build-failure", srv.URL+"/cdash/submit.php?project=Broken")
		// A project that is not open: ctest without a token is refused, says so, and
		// nothing is stored.
		bin := filepath.Join(t.TempDir(), "bin")
		run(t, ".", "cmake", "-S", src, "-B", bin)
		out := run(t, bin, ctest, "-D", "Experimental")
		if strings.Contains(out, "Submission successful") || !strings.Contains(out, "401") {
			t.Errorf("ctest to a closed project without a token:\n%s", out)
		}
		if bs := items(getJSON(t, srv, "/api/v1/builds?project=Broken")["builds"]); len(bs) != 0 {
			t.Errorf("a refused submission stored builds: %v", bs)
		}
		// Under the open project it is stored, failed, with the compiler's error.
		src = ctestProject(t, "ctest-build-failure", srv.URL+"/cdash/submit.php?project=Demo")
		experimental(t, ctest, src)
		var broken map[string]any
		for _, b := range items(getJSON(t, srv, "/api/v1/builds?source=cdash&project=Demo")["builds"]) {
			for _, p := range items(b["phases"]) {
				if p["name"] == "build" && p["status"] == "ERROR" {
					broken = b
				}
			}
		}
		if broken == nil || broken["status"] != "FAILED" {
			t.Fatalf("no failed build stored")
		}
		errs := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", num(t, broken["id"])))["events"])
		if len(errs) == 0 || errs[0]["source_file"] != "broken.c" {
			t.Errorf("errors %v", errs)
		}
	})

	t.Run("ScriptWithToken", func(t *testing.T) {
		src := ctestProject(t, "ctest-success", srv.URL+"/submit.php?project=Closed")
		bin := filepath.Join(t.TempDir(), "bin")
		script := filepath.Join(t.TempDir(), "dashboard.cmake")
		body := fmt.Sprintf(`set(CTEST_SITE "script-site")
set(CTEST_BUILD_NAME "script build (token)")
set(CTEST_SOURCE_DIRECTORY %q)
set(CTEST_BINARY_DIRECTORY %q)
set(CTEST_CMAKE_GENERATOR "Unix Makefiles")
set(CTEST_SUBMIT_RETRY_COUNT 0)
ctest_start(Experimental)
ctest_configure()
ctest_build()
ctest_test()
ctest_submit(HTTPHEADER "Authorization: Bearer %s" BUILD_ID build_id RETURN_VALUE submit_rv)
message("BUILD_ID=${build_id} RETURN_VALUE=${submit_rv}")
`, src, bin, srv.apiToken)
		if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		out := run(t, ".", ctest, "-V", "-S", script)
		m := regexp.MustCompile(`BUILD_ID=(\d+) RETURN_VALUE=0`).FindStringSubmatch(out)
		if !strings.Contains(out, "Submission successful") || m == nil {
			t.Fatalf("ctest -S:\n%s", out)
		}
		b := onlyBuild(t, srv, "Closed", "script build (token)")
		if fmt.Sprint(num(t, b["id"])) != m[1] || b["owner"] != srv.user || path(b, "cdash", "site") != "script-site" {
			t.Errorf("build %v, ctest was told %s", b, m[1])
		}
		if a := srv.do(t, http.MethodGet, "/api/v1/builds/"+m[1]+"/tests", nil, nil); a.Status != http.StatusOK {
			t.Errorf("tests: %d", a.Status)
		}
	})
}
