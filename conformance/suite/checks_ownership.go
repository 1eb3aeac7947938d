package suite

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func ownership(r *runner, n *Node) {
	st := r.st
	needUser2 := func(t *T) string {
		if r.cfg.User2 == "" || r.cfg.Token2 == "" {
			t.Skipf("%s", SkipNoUser2)
		}
		t.Need(st.buildID != 0, "the first user's build")
		if st.token2 == "" {
			st.token2 = t.dance(r.cfg.User2, r.cfg.Token2)
		}
		return st.token2
	}
	const notOwner = "You do not own the build and cannot update it."
	for _, c := range []struct {
		route string
		body  func() map[string]any
	}{
		{"/builds/update/", func() map[string]any { return map[string]any{"build_id": st.buildID, "status": "SUCCESS"} }},
		{"/builds/phases/update/", func() map[string]any {
			return map[string]any{"build_id": st.buildID, "phase_name": "intruder", "status": "SUCCESS", "output": "x"}
		}},
		{"/analyze/builds/", func() map[string]any {
			return map[string]any{"build_id": st.buildID, "metadata": map[string]any{"config_args": "--intruder"}}
		}},
	} {
		r.check(n, "another user's POST /ms1"+c.route+": 403 \""+notOwner+"\"", func(t *T) {
			tok := needUser2(t)
			t.wantError(t.post(r.route(c.route), c.body(), bearerHeader(tok)), http.StatusForbidden, notOwner)
		})
	}
	r.check(n, "another user's builds/new of the same spec and environment is their own build", func(t *T) {
		tok := needUser2(t)
		a := t.post(r.route("/builds/new/"), r.buildEnv(st.root.fullHash, st.hostname), bearerHeader(tok))
		data := t.envelope(a, http.StatusCreated, "")
		if id, _ := intOf(at(data, "build", "build_id")); id == st.buildID {
			t.Errorf("the second user got the first user's build %d", id)
		}
	})
}

func lookups(r *runner, n *Node) {
	st := r.st
	for _, p := range []string{"/specs/name/%s/", "/specs/name/%s"} {
		r.check(n, "GET /ms1"+strings.ReplaceAll(p, "%s", "<name>")+": a bare array with the spec", func(t *T) {
			t.Need(st.specOK, "the main spec")
			a := t.get(r.route(fmt.Sprintf(p, url.PathEscape(st.root.name))), nil)
			if a.Status != http.StatusOK {
				t.Fatalf("status %s, want 200", a)
			}
			v, err := a.JSON()
			list, ok := v.([]any)
			if err != nil || !ok {
				t.Fatalf("want a JSON array (no envelope): %s", a)
			}
			found := false
			for _, s := range list {
				found = found || strings.Contains(fmt.Sprint(s), st.root.fullHash)
			}
			if !found {
				t.Errorf("the spec %s is not in %s", st.root.fullHash, a)
			}
		})
	}
	var attrs []any
	r.check(n, "GET /ms1/specs/<id>/attributes/: {id, filename, analyzer, name} per result", func(t *T) {
		t.Need(st.analyzed, "the analysis")
		t.Need(st.specID != 0, "the spec's id (only /api/v1 tells it)")
		for _, p := range []string{"/specs/%d/attributes/", "/specs/%d/attributes"} {
			a := t.get(r.route(fmt.Sprintf(p, st.specID)), nil)
			v, err := a.JSON()
			list, ok := v.([]any)
			if a.Status != http.StatusOK || err != nil || !ok {
				t.Fatalf("GET %s: want 200 and a JSON array: %s", fmt.Sprintf(p, st.specID), a)
			}
			attrs = list
		}
		names := map[string]bool{}
		for _, e := range attrs {
			m, _ := e.(map[string]any)
			if len(m) != 4 || m["id"] == nil || m["filename"] == nil || m["analyzer"] == nil || m["name"] == nil {
				t.Errorf("entry %v: want exactly id, filename, analyzer, name", e)
			}
			if m["analyzer"] == analyzerName {
				names[fmt.Sprint(m["name"])] = true
				t.equal("filename of "+fmt.Sprint(m["name"]), m["filename"], "bin/conformance")
			}
		}
		t.equal("this run's attributes", sortedKeys(names), []string{"binary-attr", "json-attr", "text-attr"})
	})
	r.check(n, "GET /ms1/specs/<id>/attributes/<analyzer>/ lists only that analyzer", func(t *T) {
		t.Need(attrs != nil, "the attribute list")
		a := t.get(r.route(fmt.Sprintf("/specs/%d/attributes/%s/", st.specID, analyzerName)), nil)
		v, _ := a.JSON()
		list, ok := v.([]any)
		if a.Status != http.StatusOK || !ok || len(list) != 3 {
			t.Fatalf("want 200 and the 3 results of %s: %s", analyzerName, a)
		}
		for _, e := range list {
			t.equal("analyzer", at(e, "analyzer"), analyzerName)
		}
	})
	r.check(n, "GET /ms1/attributes/<id>/download/ (and without slash) returns the value", func(t *T) {
		t.Need(attrs != nil, "the attribute list")
		for _, e := range attrs {
			if at(e, "name") != "text-attr" {
				continue
			}
			id, _ := intOf(at(e, "id"))
			for _, p := range []string{"/attributes/%d/download/", "/attributes/%d/download"} {
				a := t.get(r.route(fmt.Sprintf(p, id)), nil)
				if a.Status != http.StatusOK || !strings.Contains(string(a.Body), "conformance text") {
					t.Errorf("GET %s: %s, want 200 with the value", fmt.Sprintf(p, id), a)
				}
			}
			return
		}
		t.Errorf("no text-attr in %v", attrs)
	})
}
