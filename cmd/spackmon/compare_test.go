package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// spackHash is a Spack hash as a JSON string in a spec document.
var spackHash = regexp.MustCompile(`"[a-z2-7]{32}"`)

// rebuiltSingularity is the singularity document as Spack would concretize it with zlib
// 1.2.12: every hash different, zlib's version changed, nothing else.
func rebuiltSingularity(t *testing.T) (map[string]any, string) {
	doc := string(readTestdata(t, "specs", "singularity-3.8.0.json"))
	doc = spackHash.ReplaceAllStringFunc(doc, func(h string) string { return h[:len(h)-5] + "zzzz\"" })
	if strings.Count(doc, `"version": "1.2.11"`) != 1 {
		t.Fatal("the fixture does not hold zlib 1.2.11 once")
	}
	doc = strings.Replace(doc, `"version": "1.2.11"`, `"version": "1.2.12"`, 1)
	return map[string]any{"spec": json.RawMessage(doc), "spack_version": "1.0.0"}, singularityHash[:len(singularityHash)-4] + "zzzz"
}

// TestCompareBuilds compares two builds of singularity through /api/v1/compare on both
// stores: the DAG change and its culprit, the environment, the phases and the errors.
func TestCompareBuilds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		a := newBuild(t, srv)
		spec, hash := rebuiltSingularity(t)
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", spec), http.StatusCreated, "")
		env := maps.Clone(buildEnv)
		env["full_hash"], env["hostname"], env["kernel_version"] = hash, "builder2", "#80-Ubuntu"
		b := num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", env), http.StatusCreated, ""), "data", "build", "build_id"))
		phase := func(id int64, name, status, output string) {
			wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": name,
				"status": status, "output": output}), http.StatusOK, "")
		}
		phase(a, "configure", "SUCCESS", "checking for gcc... gcc\n")
		phase(a, "build", "ERROR", "cc -c a.c\na.c:3:1: error: unknown type name 'uint'\n")
		phase(b, "configure", "SUCCESS", "checking for gcc... gcc\n")
		phase(b, "build", "ERROR", "cc -c a.c\na.c:7:1: error: unknown type name 'uint'\nld: error: undefined reference to `inflateReset2'\n")
		phase(b, "install", "ERROR", "")

		ans := srv.get(t, fmt.Sprintf("/api/v1/compare?a=%d&b=%d", a, b))
		if ans.Status != http.StatusOK {
			t.Fatalf("compare: %d %s", ans.Status, ans.Body)
		}
		var cmp struct {
			Packages []struct {
				Name, Change string
				Fields       []struct{ Name, A, B string }
			}
			LikelyCulprits []string `json:"likely_culprits"`
			Environment    []struct{ Name, A, B string }
			Phases         []struct {
				Name    string
				StatusA string `json:"status_a"`
				StatusB string `json:"status_b"`
			}
			Errors struct{ New, Fixed, Outstanding []string }
		}
		if err := json.Unmarshal(ans.Body, &cmp); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cmp.LikelyCulprits, []string{"zlib"}) {
			t.Errorf("likely culprits %v, want [zlib]", cmp.LikelyCulprits)
		}
		if len(cmp.Packages) != 55 || cmp.Packages[0].Name != "singularity" {
			t.Errorf("%d packages changed (first %+v), want the 55 of the DAG, the root first", len(cmp.Packages), cmp.Packages[0])
		}
		for _, p := range cmp.Packages {
			if p.Name == "zlib" && (p.Change != "changed" || p.Fields[0].Name != "version" || p.Fields[0].A != "1.2.11" || p.Fields[0].B != "1.2.12") {
				t.Errorf("zlib's change %+v", p)
			}
		}
		var envNames []string
		for _, f := range cmp.Environment {
			envNames = append(envNames, f.Name+":"+f.A+">"+f.B)
		}
		if !slices.Equal(envNames, []string{"hostname:builder>builder2", "kernel_version:" + buildEnv["kernel_version"].(string) + ">#80-Ubuntu"}) {
			t.Errorf("environment changes %v", envNames)
		}
		if !slices.Equal(cmp.Errors.New, []string{"ld: error: undefined reference to `inflateReset2'"}) ||
			!slices.Equal(cmp.Errors.Outstanding, []string{"a.c:<n>: error: unknown type name 'uint'"}) || len(cmp.Errors.Fixed) != 0 {
			t.Errorf("error delta %+v", cmp.Errors)
		}
		if len(cmp.Phases) != 3 || cmp.Phases[2].Name != "install" {
			t.Errorf("phases %+v", cmp.Phases)
		}
		page := srv.get(t, fmt.Sprintf("/compare?a=%d&b=%d", a, b))
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `<p class="culprits"><strong>zlib</strong></p>`) ||
			!strings.Contains(string(page.Body), "undefined reference to `inflateReset2&#39;") {
			t.Errorf("compare page: %d %s", page.Status, page.Body)
		}
		// Nothing differs between a build and itself.
		self := srv.get(t, fmt.Sprintf("/api/v1/compare?a=%d&b=%d", a, a)).JSON(t)
		if p, c := self["packages"].([]any), self["likely_culprits"].([]any); len(p) != 0 || len(c) != 0 {
			t.Errorf("a build compared with itself: %v", self)
		}
		if got := srv.get(t, fmt.Sprintf("/api/v1/compare?a=%d&b=999999", a)); got.Status != http.StatusNotFound {
			t.Errorf("compare with an unknown build: %d", got.Status)
		}
		if got := srv.get(t, "/api/v1/compare?a=0&b=1"); got.Status != http.StatusBadRequest {
			t.Errorf("compare with build 0: %d", got.Status)
		}
	})
}
