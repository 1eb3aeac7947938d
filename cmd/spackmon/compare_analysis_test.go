package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// testManifest is an install manifest of a prefix that holds .spack and the given files,
// each with its content hash.
func testManifest(hashes map[string]string) map[string]any {
	const prefix = "/opt/spack/linux-x86_64/gcc-13/pkg-1.0-abcdefg"
	m := map[string]any{prefix + "/.spack": map[string]any{"type": "dir", "mode": 16877, "owner": 1000, "group": 1000}}
	for p, h := range hashes {
		m[prefix+"/"+p] = map[string]any{"type": "file", "mode": 33188, "owner": 1000, "group": 1000, "hash": h, "size": 10}
	}
	return m
}

// buildOn posts a build of the singularity spec on another host, so another build.
func buildOn(t *testing.T, srv *testServer, host string) int64 {
	t.Helper()
	env := maps.Clone(buildEnv)
	env["hostname"] = host
	return num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", env), http.StatusCreated, ""), "data", "build", "build_id"))
}

// compareAnalysis answers /api/v1/compare/analysis for builds a and b.
func compareAnalysis(t *testing.T, srv *testServer, a, b int64) map[string]any {
	t.Helper()
	ans := srv.get(t, fmt.Sprintf("/api/v1/compare/analysis?a=%d&b=%d", a, b))
	if ans.Status != http.StatusOK {
		t.Fatalf("compare analyses of %d and %d: %d %s", a, b, ans.Status, ans.Body)
	}
	return ans.JSON(t)
}

// The analysis part of comparing two builds: configure arguments, environment variables and
// install files that differ, each list capped with the cut said and the rest a DiffAnalysis
// page away; builds without results answered as such, unknown builds 404; the /compare page
// shows the same answer.
func TestCompareAnalyses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		a := newBuild(t, srv)
		b, bare, attrsOnly := buildOn(t, srv, "builder2"), buildOn(t, srv, "builder3"), buildOn(t, srv, "builder4")
		filesA := map[string]string{"bin/tool": "h1", "lib/old.so": "h3"}
		for i := range 250 {
			filesA[fmt.Sprintf("share/doc/f%03d", i)] = "d"
		}
		wantEnvelope(t, analyze(t, srv, a, map[string]any{"install_files": testManifest(filesA), "config_args": "--prefix=/x --enable-static",
			"environment_variables": map[string]string{"CC": "gcc", "ONLY_A": "1", "SAME": "s"}}), http.StatusOK, "")
		wantEnvelope(t, analyze(t, srv, b, map[string]any{"install_files": testManifest(map[string]string{"bin/tool": "h2", "lib/new.so": "h4"}),
			"config_args": "--prefix=/x --enable-shared", "environment_variables": map[string]string{"CC": "clang", "ONLY_B": "2", "SAME": "s"}}), http.StatusOK, "")
		wantEnvelope(t, analyze(t, srv, attrsOnly, map[string]any{"libabigail": []any{map[string]any{"name": "abidw-xml", "value": "<abi-corpus/>"}}}), http.StatusOK, "")

		m := compareAnalysis(t, srv, a, b)
		if m["analyzed_a"] != true || m["analyzed_b"] != true || path(m, "max_entries") != json.Number("200") {
			t.Fatalf("both analyzed: %v %v, cap %v", m["analyzed_a"], m["analyzed_b"], m["max_entries"])
		}
		if fmt.Sprint(m["config_args_removed"]) != "[--enable-static]" || fmt.Sprint(m["config_args_added"]) != "[--enable-shared]" || m["config_args_truncated"] != false {
			t.Errorf("configure arguments %v %v %v", m["config_args_removed"], m["config_args_added"], m["config_args_truncated"])
		}
		var env []string
		for _, v := range m["environment"].([]any) {
			env = append(env, fmt.Sprintf("%s %s %s>%s", path(v, "name"), path(v, "change"), path(v, "a"), path(v, "b")))
		}
		if strings.Join(env, ", ") != "CC changed gcc>clang, ONLY_A removed 1>, ONLY_B added >2" || m["environment_truncated"] != false {
			t.Errorf("environment %v (truncated %v)", env, m["environment_truncated"])
		}
		files := m["install_files"].([]any)
		var first []string
		for _, f := range files[:4] {
			first = append(first, fmt.Sprint(path(f, "path"), " ", path(f, "change")))
		}
		if len(files) != 200 || m["install_files_truncated"] != true ||
			strings.Join(first, ", ") != "bin/tool changed, lib/new.so added, lib/old.so removed, share/doc/f000 removed" {
			t.Errorf("%d install files (truncated %v), first %v", len(files), m["install_files_truncated"], first)
		}
		// The rest is DiffAnalysis's, from the token the comparison gave.
		rest := srv.get(t, fmt.Sprintf("/api/v1/analysis-diff?a=%d&b=%d&page_size=100&page_token=%s", a, b, url.QueryEscape(fmt.Sprint(m["install_files_next_page_token"])))).JSON(t)
		if more := rest["install_files"].([]any); len(more) != 53 || path(more[0], "path") != "share/doc/f197" {
			t.Errorf("the rest of the install files: %d, from %v", len(more), path(more[0], "path"))
		}

		// Results differ from a build without: it is said, and nothing is compared.
		for _, c := range []struct {
			a, b         int64
			wantA, wantB bool
		}{{a, bare, true, false}, {bare, b, false, true}, {bare, bare, false, false}, {attrsOnly, bare, true, false}} {
			m := compareAnalysis(t, srv, c.a, c.b)
			if m["analyzed_a"] != c.wantA || m["analyzed_b"] != c.wantB || len(m["install_files"].([]any)) != 0 ||
				len(m["environment"].([]any)) != 0 || len(m["config_args_added"].([]any)) != 0 {
				t.Errorf("%d and %d: analyzed %v %v, %d files", c.a, c.b, m["analyzed_a"], m["analyzed_b"], len(m["install_files"].([]any)))
			}
		}
		if got := srv.get(t, fmt.Sprintf("/api/v1/compare/analysis?a=%d&b=999999", a)); got.Status != http.StatusNotFound {
			t.Errorf("an unknown build: %d %s", got.Status, got.Body)
		}
		if got := srv.get(t, fmt.Sprintf("/api/v1/compare/analysis?a=0&b=%d", a)); got.Status != http.StatusBadRequest {
			t.Errorf("build 0: %d %s", got.Status, got.Body)
		}

		page := srv.get(t, fmt.Sprintf("/compare?a=%d&b=%d", a, b))
		for _, want := range []string{`<ul class="config-added"><li class="mono">--enable-shared</li></ul>`,
			`<li class="mono">CC changed</li>`, `<li class="mono">lib/new.so added</li>`, "Each list shows its first 200 differences."} {
			if !strings.Contains(string(page.Body), want) {
				t.Errorf("the compare page lacks %s", want)
			}
		}
		if page := srv.get(t, fmt.Sprintf("/compare?a=%d&b=%d", a, bare)); !strings.Contains(string(page.Body), "B was not analyzed") {
			t.Errorf("the compare page with a build not analyzed: %d %s", page.Status, page.Body)
		}
		doc := srv.get(t, "/api/docs/openapi.json").JSON(t)
		if path(doc, "paths", "/api/v1/compare/analysis", "get") == nil {
			t.Error("/api/v1/compare/analysis is not in the OpenAPI document")
		}
	})
}
