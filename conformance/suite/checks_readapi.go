package suite

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func (r *runner) api(p string) string { return "/api/v1" + p }

func readAPI(r *runner, n *Node) {
	st := r.st
	r.check(n, "the server offers /api/v1", func(t *T) {
		a := t.get(r.api("/builds?page_size=1"), nil)
		switch {
		case a.Status == http.StatusNotFound:
			t.Skipf("optional feature missing: GET /api/v1/builds answered 404")
		case a.Status != http.StatusOK:
			t.Fatalf("GET /api/v1/builds: %s, want 200 (or 404 when the read API is not offered)", a)
		}
		t.object(a)
		st.api = true
	})
	check := func(name string, f func(t *T)) {
		r.check(n, name, func(t *T) {
			if !st.api {
				t.Skipf("optional feature missing: the server does not offer /api/v1")
			}
			f(t)
		})
	}
	check("GET /api/v1/specs/{full_hash}: the spec and its direct dependencies", func(t *T) {
		t.Need(st.specOK, "the main spec")
		m := t.object(t.okGet(r.api("/specs/" + st.root.fullHash + "?spack_version=" + url.QueryEscape(r.cfg.SpackVersion))))
		t.equal("name", m["name"], st.root.name)
		t.equal("full_hash", m["full_hash"], st.root.fullHash)
		t.equal("version", m["version"], st.root.version)
		id, ok := intOf(m["id"])
		if !ok {
			t.Errorf("id %v is not a JSON number", m["id"])
		}
		st.specID = id
		deps := asList(m["dependencies"])
		if len(deps) != 1 || at(deps[0], "name") != st.dep.name || at(deps[0], "full_hash") != st.dep.fullHash || at(deps[0], "version") != st.dep.version {
			t.Errorf("dependencies %v, want [{name: %s, full_hash: %s, version: %s, type}]", deps, st.dep.name, st.dep.fullHash, st.dep.version)
		}
		if len(deps) == 1 && at(deps[0], "type") == nil {
			t.Errorf("dependency without its type: %v", deps[0])
		}
	})
	check("GET /api/v1/specs/{full_hash} of the dependency names its dependent", func(t *T) {
		t.Need(st.specOK, "the main spec")
		m := t.object(t.okGet(r.api("/specs/" + st.dep.fullHash + "?spack_version=" + url.QueryEscape(r.cfg.SpackVersion))))
		if !strings.Contains(fmt.Sprint(m["dependents"]), st.root.fullHash) {
			t.Errorf("dependents %v do not include %s", m["dependents"], st.root.fullHash)
		}
	})
	check("GET /api/v1/specs?name= finds the spec", func(t *T) {
		t.Need(st.specOK, "the main spec")
		m := t.object(t.okGet(r.api("/specs?name=" + url.QueryEscape(st.root.name))))
		if l := asList(m["specs"]); len(l) != 1 || at(l[0], "full_hash") != st.root.fullHash {
			t.Errorf("specs %v, want exactly the spec %s", m["specs"], st.root.fullHash)
		}
	})
	var build map[string]any
	check("a repeated builds/new kept the status and phases", func(t *T) {
		t.Need(st.buildID != 0 && st.finalStatus != "", "the build and its status")
		t.envelope(t.write("/builds/new/", r.buildEnv(st.root.fullHash, st.hostname)), http.StatusOK, "")
		build = t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d", st.buildID))))
		t.equal("status", build["status"], st.finalStatus)
		var names []string
		for _, p := range asList(build["phases"]) {
			names = append(names, fmt.Sprint(at(p, "name")))
		}
		for name := range st.outputs {
			if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+name+" ") {
				t.Errorf("phase %s is missing from %v", name, names)
			}
		}
	})
	check("a status update never rewrites another build's FAILED", func(t *T) {
		t.Need(st.depBuildID != 0 && st.finalStatus != "", "the dependency's build and the status updates")
		b := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d", st.depBuildID))))
		t.equal("the dependency's build status", b["status"], "FAILED")
		o := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d", st.otherBuildID))))
		t.equal("the other environment's build status", o["status"], "NOTRUN")
	})
	check("GET /api/v1/builds/{id}: the build as stored", func(t *T) {
		t.Need(build != nil, "the build read")
		if id, ok := intOf(build["id"]); !ok || id != st.buildID {
			t.Errorf("id %v, want the number %d", build["id"], st.buildID)
		}
		for k, want := range map[string]string{"full_hash": st.root.fullHash, "name": st.root.name, "version": st.root.version, "spack_version": r.cfg.SpackVersion} {
			t.equal("spec."+k, at(build, "spec", k), want)
		}
		for k, want := range map[string]string{"hostname": st.hostname, "platform": "linux", "host_os": "debian12", "host_target": "x86_64_v2",
			"kernel_version": "#1 SMP PREEMPT_DYNAMIC conformance"} {
			t.equal("environment."+k, at(build, "environment", k), want)
		}
		t.equal("owner", build["owner"], r.cfg.User)
		var tags []string
		for _, tg := range asList(build["tags"]) {
			s, _ := tg.(string)
			tags = append(tags, s)
		}
		t.equal("tags (trimmed, compared case-insensitively)", sortedKeys(set(lower(tags))), []string{"alpha", "beta", "gamma"})
		for _, k := range []string{"created_at", "updated_at", "finished_at"} {
			if s, _ := build[k].(string); s == "" {
				t.Errorf("%s is %v, want a time", k, build[k])
			}
		}
		for _, p := range asList(build["phases"]) {
			for _, k := range []string{"output_bytes", "error_count", "warning_count"} {
				if _, ok := intOf(at(p, k)); !ok {
					t.Errorf("phase %v: %s is %v, want a JSON number", at(p, "name"), k, at(p, k))
				}
			}
			if want, ok := st.outputs[fmt.Sprint(at(p, "name"))]; ok {
				if b, _ := intOf(at(p, "output_bytes")); b != int64(len(want)) {
					t.Errorf("phase %v: output_bytes %d, want %d", at(p, "name"), b, len(want))
				}
			}
		}
	})
	check("GET /api/v1/builds/{id}/phases/{name}/output: the exact bytes, text/plain", func(t *T) {
		t.Need(st.buildID != 0 && len(st.outputs) > 0, "the phases")
		for name, want := range st.outputs {
			a := t.okGet(r.api(fmt.Sprintf("/builds/%d/phases/%s/output", st.buildID, name)))
			if string(a.Body) != want {
				t.Errorf("phase %s: output %q, want %q", name, a.Body, want)
			}
			if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("phase %s: Content-Type %q, want text/plain", name, ct)
			}
		}
	})
	check("GET /api/v1/builds/{id}/events?kind=error: the extracted error with context", func(t *T) {
		t.Need(st.outputs["build"] != "", "the build log")
		m := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/events?kind=error", st.buildID))))
		if !strings.Contains(fmt.Sprint(m), "error: conformance failure") {
			t.Errorf("no event for the error line in %v", m)
		}
		if strings.Contains(fmt.Sprint(m), replacedError) {
			t.Errorf("the event of a replaced log is still there: %v", m)
		}
		w := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/events?kind=warning", st.buildID))))
		if !strings.Contains(fmt.Sprint(w), "warning: unused variable") {
			t.Errorf("no event for the warning line in %v", w)
		}
	})
	filters := map[string]string{
		"spec_name": st.root.name, "tag": "alpha", "owner": r.cfg.User, "hostname": st.hostname,
		"spack_version": r.cfg.SpackVersion,
	}
	for _, k := range []string{"spec_name", "tag", "owner", "hostname", "spack_version", "status"} {
		check("GET /api/v1/builds?"+k+"= finds the build", func(t *T) {
			t.Need(st.buildID != 0 && st.finalStatus != "", "the build")
			v := filters[k]
			if k == "status" {
				v = st.finalStatus
			}
			// hostname narrows the list to this run's builds, so the pages stay short.
			q := url.Values{k: {v}, "page_size": {"1000"}}
			if k != "hostname" {
				q.Set("hostname", st.hostname)
			}
			m := t.object(t.okGet(r.api("/builds?" + q.Encode())))
			if !hasID(asList(m["builds"]), st.buildID) {
				t.Errorf("build %d is not in %v", st.buildID, m["builds"])
			}
		})
	}
	check("list calls are paginated with page_size and next_page_token", func(t *T) {
		t.Need(st.specOK, "this run's specs")
		q := url.Values{"page_size": {"1"}, "spack_version": {r.cfg.SpackVersion}}
		m := t.object(t.okGet(r.api("/specs?" + q.Encode())))
		tok, _ := m["next_page_token"].(string)
		if len(asList(m["specs"])) != 1 || tok == "" {
			t.Fatalf("page of 1: %d specs, next_page_token %q; want 1 and a token", len(asList(m["specs"])), tok)
		}
		q.Set("page_token", tok)
		m2 := t.object(t.okGet(r.api("/specs?" + q.Encode())))
		if l := asList(m2["specs"]); len(l) != 1 || fmt.Sprint(at(l[0], "id")) == fmt.Sprint(at(asList(m["specs"])[0], "id")) {
			t.Errorf("the second page %v repeats or lacks a spec", m2["specs"])
		}
	})
	check("GET /api/v1/builds/{id}/install-files: paths relative to the install prefix", func(t *T) {
		t.Need(st.analyzed, "the analysis")
		m := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/install-files?page_size=1000", st.buildID))))
		files := map[string]any{}
		for _, f := range asList(m["install_files"]) {
			files[fmt.Sprint(at(f, "path"))] = f
		}
		t.equal("paths", sortedKeys(keysOf(files)), []string{".", ".spack", ".spack/spec.json", "bin", "bin/conformance", "lib/libconf.so.1"})
		f := files["bin/conformance"]
		if f == nil {
			t.Fatalf("no bin/conformance in %v", sortedKeys(keysOf(files)))
		}
		t.equal("type", at(f, "type"), "file")
		t.equal("mode", at(f, "mode"), 33261)
		t.equal("hash", at(f, "hash"), "F7VQSJFAPKADSUN5RTFJZBLUMXUNYF6X")
		t.equal("size", at(f, "size"), 1234)
	})
	check("GET /api/v1/builds/{id}/environment: the variables, replaced not merged, per build", func(t *T) {
		t.Need(st.env != nil, "the second analysis")
		env := func(id int64) map[string]string {
			m := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/environment", id))))
			got := map[string]string{}
			for _, v := range asList(m["variables"]) {
				got[fmt.Sprint(at(v, "name"))] = fmt.Sprint(at(v, "value"))
			}
			return got
		}
		t.equal("variables", env(st.buildID), st.env)
		t.equal("the other build's variables", env(st.otherBuildID), map[string]string{"SPACK_OTHER": "1"})
	})
	check("GET /api/v1/builds/{id}/config-args", func(t *T) {
		t.Need(st.analyzed, "the analysis")
		m := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/config-args", st.buildID))))
		t.equal("config_args", m["config_args"], "--prefix="+r.installPrefix()+" --enable-conformance")
	})
	check("GET /api/v1/builds/{id}/attributes?analyzer=", func(t *T) {
		t.Need(st.analyzed, "the analysis")
		m := t.object(t.okGet(r.api(fmt.Sprintf("/builds/%d/attributes?analyzer=%s", st.buildID, analyzerName))))
		if l := asList(m["attributes"]); len(l) != 3 {
			t.Errorf("%d attributes, want 3: %v", len(l), l)
		}
	})
	check("an unknown build: 404 JSON", func(t *T) {
		t.wantError(t.get(r.api(fmt.Sprintf("/builds/%d", unknownBuild)), nil), http.StatusNotFound, "")
	})
	check("the OpenAPI document at /api/docs/openapi.json", func(t *T) {
		m := t.object(t.okGet("/api/docs/openapi.json"))
		if m["paths"] == nil {
			t.Errorf("no paths in the OpenAPI document")
		}
	})
}

// okGet reads a public resource, which needs no token.
func (t *T) okGet(path string) *Response {
	a := t.get(path, nil)
	if a.Status != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200", path, a)
	}
	return a
}

func hasID(list []any, id int64) bool {
	for _, e := range list {
		if v, ok := intOf(at(e, "id")); ok && v == id {
			return true
		}
	}
	return false
}

func set(ss []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		out[strings.TrimSpace(s)] = true
	}
	return out
}

func keysOf(m map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
