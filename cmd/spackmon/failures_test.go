package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// failingLog is the log of one failing build as the machine of user under stage root would
// write it: the same failures wherever it runs, in other paths.
func failingLog(root, user, hash string, lines ...string) string {
	stage := root + "/" + user + "/spack-stage/spack-stage-singularity-3.8.0-" + hash + "/spack-src"
	return strings.ReplaceAll(strings.Join(lines, "\n")+"\n", "STAGE", stage)
}

const (
	ompLine      = "/usr/bin/ld: STAGE/cmd/main.c:41: undefined reference to `omp_get_thread_num'"
	collect2Line = "collect2: error: ld returned 1 exit status"
	newLine      = "STAGE/cmd/starter.c:12:7: error: 'struct stat' has no member named 'st_birthtim'"
)

// twoFailingBuilds stores two failed builds of the same spec on two hosts, under other
// stage paths: the second fixed the first's collect2 error and has a new one.
func twoFailingBuilds(t *testing.T, srv *testServer) (first, second int64) {
	t.Helper()
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	build := func(host, log string) int64 {
		env := maps.Clone(buildEnv)
		env["hostname"] = host
		id := num(t, path(srv.post(t, "/ms1/builds/new/", env).JSON(t), "data", "build", "build_id"))
		wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
			"build_id": id, "phase_name": "build", "status": "ERROR", "output": log}), http.StatusOK, "")
		wantEnvelope(t, srv.post(t, "/ms1/builds/update/", map[string]any{"build_id": id, "status": "FAILED"}), http.StatusOK, "")
		return id
	}
	first = build("quartz1", failingLog("/tmp", "vanessa", "36u22fm5i3w2tqyiyje22j6x55emekjw", ompLine, collect2Line))
	second = build("ci-runner-7", failingLog("/var/tmp/builds", "runner", "q4rbxmyz2w6x7jakq3s5cfgnmvbeqd3h", ompLine, newLine))
	return first, second
}

// Two builds of the same spec on two hosts, under other stage paths: the failure list counts
// the shared failure once per build and host, the second build's delta against the first
// tells the new, fixed and outstanding errors, and a known cause an admin adds shows on the
// failures it matches. Only admins manage the causes.
func TestFailuresAndDelta(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		first, second := twoFailingBuilds(t, srv)

		list := srv.get(t, "/api/v1/failures?since=7d")
		if list.Status != http.StatusOK {
			t.Fatalf("failures: %d %s", list.Status, list.Body)
		}
		failures, _ := list.JSON(t)["failures"].([]any)
		if len(failures) != 3 {
			t.Fatalf("failures = %s", list.Body)
		}
		top := failures[0]
		if path(top, "fingerprint", "class") != "linker-undefined-symbol" || num(t, path(top, "builds")) != 2 ||
			num(t, path(top, "hosts")) != 2 || num(t, path(top, "packages")) != 1 ||
			path(top, "fingerprint", "text") != "ld: <stage>/cmd/main.c:<n>: undefined reference to `omp_get_thread_num'" ||
			num(t, path(top, "example", "build_id")) != second {
			t.Errorf("top failure = %v", top)
		}

		delta := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/delta", second))
		if delta.Status != http.StatusOK {
			t.Fatalf("delta: %d %s", delta.Status, delta.Body)
		}
		d := delta.JSON(t)
		texts := func(key string) []string {
			var out []string
			entries, _ := d[key].([]any)
			for _, e := range entries {
				out = append(out, fmt.Sprint(path(e, "fingerprint", "text")))
			}
			return out
		}
		if num(t, path(d, "reference", "build_id")) != first ||
			fmt.Sprint(texts("new_errors")) != "[<stage>/cmd/starter.c:<n>: error: 'struct stat' has no member named 'st_birthtim']" ||
			fmt.Sprint(texts("fixed_errors")) != "["+collect2Line+"]" || len(texts("outstanding_errors")) != 1 {
			t.Errorf("delta = %s", delta.Body)
		}
		// The first build has no reference: everything is new.
		if d := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/delta", first)).JSON(t); d["reference"] != nil || len(d["new_errors"].([]any)) != 2 {
			t.Errorf("delta of the first build = %v", d)
		}
		// Against an explicit build, the other way round.
		if d := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/delta?reference=build&reference_build_id=%d", first, second)).JSON(t); len(d["new_errors"].([]any)) != 1 {
			t.Errorf("delta of the first build against the second = %v", d)
		}
		for _, bad := range []string{"/api/v1/failures?since=7y", "/api/v1/failures?kind=fatal", fmt.Sprintf("/api/v1/builds/%d/delta?reference=nearest", first)} {
			if a := srv.get(t, bad); a.Status != http.StatusBadRequest {
				t.Errorf("GET %s = %d %s, want 400", bad, a.Status, a.Body)
			}
		}

		omp := fmt.Sprint(path(top, "fingerprint", "hash"))
		cause, _ := json.Marshal(map[string]any{"title": "OpenMP runtime missing from the link", "link": "https://example.org/omp", "fingerprint": omp})
		if a := srv.do(t, http.MethodPost, "/api/v1/known-causes", cause, nil); a.Status != http.StatusForbidden {
			t.Errorf("a user's POST known-causes = %d %s, want 403", a.Status, a.Body)
		}
		admin, adminKey := srv.addUser(t, "root", true)
		asAdmin := bearerHeader(srv.token(t, admin, adminKey, "?scope=admin"))
		created := srv.do(t, http.MethodPost, "/api/v1/known-causes", cause, asAdmin)
		if created.Status != http.StatusOK || created.JSON(t)["created_by"] != "root" {
			t.Fatalf("admin's POST known-causes = %d %s", created.Status, created.Body)
		}
		bad, _ := json.Marshal(map[string]any{"title": "x", "pattern": "(unclosed"})
		if a := srv.do(t, http.MethodPost, "/api/v1/known-causes", bad, asAdmin); a.Status != http.StatusBadRequest {
			t.Errorf("a cause with a bad pattern = %d %s, want 400", a.Status, a.Body)
		}
		prints := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/fingerprints", second)).JSON(t)["fingerprints"].([]any)
		causes, _ := path(prints[0], "causes").([]any)
		if len(prints) != 2 || len(causes) != 1 || path(causes[0], "title") != "OpenMP runtime missing from the link" ||
			num(t, path(prints[0], "other_builds")) != 1 || len(path(prints[1], "causes").([]any)) != 0 {
			t.Errorf("fingerprints of the second build = %v", prints)
		}
		id := num(t, created.JSON(t)["id"])
		if a := srv.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/known-causes/%d", id), nil, asAdmin); a.Status != http.StatusOK {
			t.Errorf("DELETE known cause = %d %s", a.Status, a.Body)
		}
		if a := srv.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/known-causes/%d", id), nil, asAdmin); a.Status != http.StatusNotFound {
			t.Errorf("DELETE it again = %d %s, want 404", a.Status, a.Body)
		}
	})
}
