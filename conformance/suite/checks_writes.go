package suite

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// unknownBuild is an id no server of a conformance run will have reached.
const unknownBuild = 2000000000

// wantSpec checks the data of a specs/new answer against the root and its expected
// dependency map.
func (t *T) wantSpec(data map[string]any, root node, deps map[string]string) {
	t.equal("data.spec.full_hash", at(data, "spec", "full_hash"), root.fullHash)
	t.equal("data.spec.name", at(data, "spec", "name"), root.name)
	t.equal("data.spec.version", at(data, "spec", "version"), root.version)
	t.equal("data.spec.spack_version", at(data, "spec", "spack_version"), t.r.cfg.SpackVersion)
	got, ok := at(data, "spec", "specs").(map[string]any)
	if !ok {
		t.Errorf("data.spec.specs is %v, want an object of direct dependencies", at(data, "spec", "specs"))
		return
	}
	if fmt.Sprint(got) != fmt.Sprint(toAny(deps)) {
		t.Errorf("data.spec.specs = %v, want %v (dependencies resolved inside the document first)", got, deps)
	}
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func specsNew(r *runner, n *Node) {
	st := r.st
	// The dependency is referenced by its build_hash, which differs from its full_hash: the
	// answer must name the full_hash of the node found in the document.
	st.dep = r.pkg("dep", "1.0")
	st.root = r.pkg("root", "2.1", ref{st.dep.name, "build_hash", st.dep.buildHash})
	mainDoc := r.specBody(nodesDoc(3, st.root, st.dep))

	r.check(n, "a v3 document: 201, created, the root and its direct dependencies", func(t *T) {
		data := t.envelope(t.write("/specs/new/", mainDoc), http.StatusCreated, "")
		t.equal("data.created", data["created"], true)
		t.wantSpec(data, st.root, map[string]string{st.dep.name: st.dep.fullHash})
		st.specOK = true
	})
	r.check(n, "the same document again: 200, created false", func(t *T) {
		data := t.envelope(t.write("/specs/new/", mainDoc), http.StatusOK, "")
		t.equal("data.created", data["created"], false)
		t.wantSpec(data, st.root, map[string]string{st.dep.name: st.dep.fullHash})
	})
	r.check(n, "a v2 document nested once more in {\"spec\": ...}, dependency by hash", func(t *T) {
		dep := r.pkg("nested-dep", "0.1")
		root := r.pkg("nested", "3.0", ref{dep.name, "hash", dep.hash})
		data := t.envelope(t.write("/specs/new/", r.specBody(map[string]any{"spec": nodesDoc(2, root, dep)})), http.StatusCreated, "")
		t.wantSpec(data, root, map[string]string{dep.name: dep.fullHash})
	})
	r.check(n, "a v1 list document", func(t *T) {
		dep := r.pkg("v1-dep", "0.2")
		root := r.pkg("v1", "3.6.4", ref{dep.name, "hash", dep.hash})
		data := t.envelope(t.write("/specs/new/", r.specBody(listDoc(root, dep))), http.StatusCreated, "")
		t.wantSpec(data, root, map[string]string{dep.name: dep.fullHash})
	})
	r.check(n, "a dependency by full_hash that is not in the document", func(t *T) {
		missing := r.pkg("elsewhere", "9")
		root := r.pkg("stubbed", "1.0", ref{missing.name, "full_hash", missing.fullHash})
		data := t.envelope(t.write("/specs/new/", r.specBody(nodesDoc(3, root))), http.StatusCreated, "")
		t.wantSpec(data, root, map[string]string{missing.name: missing.fullHash})
	})
	r.check(n, "a failed-concretization document", func(t *T) {
		doc, name := r.failedDoc("failed")
		data, _ := t.created(t.write("/specs/new/", r.specBody(doc)))
		t.equal("data.spec.name", at(data, "spec", "name"), name)
		t.equal("data.spec.full_hash", at(data, "spec", "full_hash"), "FAILED_CONCRETIZATION")
	})

	bad := n.Group("bad input: 400 with a message")
	r.check(bad, "no spack_version", func(t *T) {
		t.bad400(t.write("/specs/new/", map[string]any{"spec": nodesDoc(3, r.pkg("bad", "1"))}), "A spack_version string is required")
	})
	r.check(bad, "an empty spack_version", func(t *T) {
		t.bad400(t.write("/specs/new/", map[string]any{"spec": nodesDoc(3, r.pkg("bad", "1")), "spack_version": ""}), "A spack_version string is required")
	})
	for _, c := range []struct {
		name string
		body any
	}{
		{"invalid JSON", []byte(`{"spec": `)},
		{"an empty body", []byte(``)},
		{"a body that is not an object", []byte(`[1, 2]`)},
		{"no spec", map[string]any{"spack_version": r.cfg.SpackVersion}},
		{"a spec that is not a document", map[string]any{"spack_version": r.cfg.SpackVersion, "spec": 42}},
		{"no nodes", map[string]any{"spack_version": r.cfg.SpackVersion, "spec": map[string]any{"_meta": map[string]any{"version": 3}, "nodes": []any{}}}},
		{"a node without a name", map[string]any{"spack_version": r.cfg.SpackVersion, "spec": map[string]any{"nodes": []any{
			map[string]any{"version": "1", "hash": r.hashOf("nameless"), "full_hash": r.hashOf("nameless/f")}}}}},
		{"a dependency without a name", map[string]any{"spack_version": r.cfg.SpackVersion, "spec": map[string]any{"nodes": []any{
			map[string]any{"name": "conf-" + r.cfg.RunID + "-depless", "version": "1", "hash": r.hashOf("depless"), "full_hash": r.hashOf("depless/f"),
				"dependencies": []any{map[string]any{"hash": r.hashOf("x"), "type": []any{"build"}}}}}}}},
	} {
		r.check(bad, c.name, func(t *T) { t.bad400(t.write("/specs/new/", c.body), "") })
	}
}

func (r *runner) buildEnv(full, hostname string) map[string]any {
	return map[string]any{
		"full_hash": full, "spack_version": r.cfg.SpackVersion, "hostname": hostname,
		"kernel_version": "#1 SMP PREEMPT_DYNAMIC conformance", "host_os": "debian12",
		"host_target": "x86_64_v2", "platform": "linux",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// wantBuild checks the data of a builds/new answer and returns the build id.
func (t *T) wantBuild(data map[string]any, created, envCreated bool, spec node, spackHash string) int64 {
	t.equal("data.build_created", data["build_created"], created)
	t.equal("data.build_environment_created", data["build_environment_created"], envCreated)
	id, ok := intOf(at(data, "build", "build_id"))
	if !ok {
		t.Fatalf("data.build.build_id is %v, want a JSON number", at(data, "build", "build_id"))
	}
	t.equal("data.build.spec_full_hash", at(data, "build", "spec_full_hash"), spackHash)
	t.equal("data.build.spec_name", at(data, "build", "spec_name"), spec.name)
	return id
}

func buildsNew(r *runner, n *Node) {
	st := r.st
	st.hostname = "conf-" + r.cfg.RunID + "-host"
	env := r.buildEnv(st.root.fullHash, st.hostname)
	r.check(n, "a new build: 201, build and environment created, a numeric build_id", func(t *T) {
		t.Need(st.specOK, "the main spec")
		data := t.envelope(t.write("/builds/new/", with(env, "tags", " Alpha , beta")), http.StatusCreated, "Build get or create was successful.")
		st.buildID = t.wantBuild(data, true, true, st.root, st.root.fullHash)
	})
	r.check(n, "the same build again: 200, the same id, nothing created", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		data := t.envelope(t.write("/builds/new/", env), http.StatusOK, "Build get or create was successful.")
		t.equal("build_id", t.wantBuild(data, false, false, st.root, st.root.fullHash), st.buildID)
	})
	r.check(n, "full_hash may be the spec's DAG hash (Spack v0.18)", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		data := t.envelope(t.write("/builds/new/", with(env, "full_hash", st.root.hash)), http.StatusOK, "")
		id, _ := intOf(at(data, "build", "build_id"))
		t.equal("build_id", id, st.buildID)
	})
	r.check(n, "tags as a list are added to the same build", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		data := t.envelope(t.write("/builds/new/", with(env, "tags", []any{"ALPHA", " gamma"})), http.StatusOK, "")
		id, _ := intOf(at(data, "build", "build_id"))
		t.equal("build_id", id, st.buildID)
	})
	r.check(n, "another environment is another build", func(t *T) {
		t.Need(st.specOK, "the main spec")
		data := t.envelope(t.write("/builds/new/", with(env, "hostname", st.hostname+"-2")), http.StatusCreated, "")
		id := t.wantBuild(data, true, true, st.root, st.root.fullHash)
		if id == st.buildID {
			t.Errorf("a build on another host got the same id %d", id)
		}
		st.otherBuildID = id
	})
	r.check(n, "a spec document in the body is imported first", func(t *T) {
		inline := r.pkg("inline", "0.5")
		body := with(r.buildEnv(inline.fullHash, st.hostname), "spec", nodesDoc(3, inline))
		data := t.envelope(t.write("/builds/new/", body), http.StatusCreated, "")
		t.wantBuild(data, true, false, inline, inline.fullHash)
	})
	r.check(n, "an unknown spec: 400 with the protocol's message and data", func(t *T) {
		unknown := r.hashOf("unknown")
		a := t.write("/builds/new/", r.buildEnv(unknown, st.hostname))
		m := t.wantError(a, http.StatusBadRequest, fmt.Sprintf("The spec with full hash %s and spack version %s does not exist.", unknown, r.cfg.SpackVersion))
		t.equal("data", m["data"], map[string]any{"build_created": false, "build_environment_created": false})
	})
	bad := n.Group("a missing or empty environment field: 400 \"Missing required build environment data.\"")
	fields := []string{"full_hash", "spack_version", "hostname", "kernel_version", "host_os", "host_target", "platform"}
	for _, f := range fields {
		r.check(bad, "without "+f, func(t *T) {
			t.bad400(t.write("/builds/new/", with(env, f, nil)), "Missing required build environment data.")
		})
	}
	r.check(bad, "an empty hostname", func(t *T) {
		t.bad400(t.write("/builds/new/", with(env, "hostname", "")), "Missing required build environment data.")
	})
}

func buildsUpdate(r *runner, n *Node) {
	st := r.st
	r.check(n, "a FAILED build of the dependency, for the side-effect check", func(t *T) {
		t.Need(st.specOK, "the main spec")
		data := t.envelope(t.write("/builds/new/", r.buildEnv(st.dep.fullHash, st.hostname)), http.StatusCreated, "")
		id := t.wantBuild(data, true, false, st.dep, st.dep.fullHash)
		t.envelope(t.write("/builds/update/", map[string]any{"build_id": id, "status": "FAILED"}), http.StatusOK, "Status updated")
		st.depBuildID = id
	})
	for _, status := range []string{"CANCELLED", "NOTRUN", "SUCCESS", "FAILED"} {
		r.check(n, "status "+status+": 200 \"Status updated\"", func(t *T) {
			t.Need(st.buildID != 0, "the build")
			data := t.envelope(t.write("/builds/update/", map[string]any{"build_id": st.buildID, "status": status}), http.StatusOK, "Status updated")
			id, ok := intOf(at(data, "build", "build_id"))
			if !ok || id != st.buildID {
				t.Errorf("data.build.build_id = %v, want the number %d", at(data, "build", "build_id"), st.buildID)
			}
			t.equal("data.build.spec_full_hash", at(data, "build", "spec_full_hash"), st.root.fullHash)
			t.equal("data.build.spec_name", at(data, "build", "spec_name"), st.root.name)
			st.finalStatus = status
		})
	}
	const invalid = "Invalid status. Choices are CANCELLED,SUCCESS,NOTRUN,FAILED"
	r.check(n, "an invalid status: 400 with the choices", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.bad400(t.write("/builds/update/", map[string]any{"build_id": st.buildID, "status": "DONE"}), invalid)
	})
	r.check(n, "no status: 400 with the choices", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.bad400(t.write("/builds/update/", map[string]any{"build_id": st.buildID}), invalid)
	})
	r.check(n, "no build id: 400 \"Missing required build id.\"", func(t *T) {
		t.bad400(t.write("/builds/update/", map[string]any{"status": "SUCCESS"}), "Missing required build id.")
	})
	r.check(n, "a build id that is not a number: 400", func(t *T) {
		t.bad400(t.write("/builds/update/", map[string]any{"build_id": "seven", "status": "SUCCESS"}), "")
	})
	r.check(n, "an unknown build: 404 JSON", func(t *T) {
		t.wantError(t.write("/builds/update/", map[string]any{"build_id": unknownBuild, "status": "SUCCESS"}), http.StatusNotFound, "")
	})
}

// replacedError is in a log that a later post replaces: its event must go with it.
const replacedError = "the first log of relog"

// buildLog has a compiler error and a warning, for the events the server extracts.
const buildLog = "==> conformance: Executing phase: 'build'\ncc -c main.c\n" +
	"main.c:3:1: error: conformance failure\n 3 | int x = ;\n   | ^\n" +
	"main.c:9:5: warning: unused variable 'y'\nmake: *** [Makefile:2: main.o] Error 1\n"

func phasesUpdate(r *runner, n *Node) {
	st := r.st
	st.outputs = map[string]string{}
	var phaseID int64
	phase := func(name, status string, output any) map[string]any {
		return map[string]any{"build_id": st.buildID, "phase_name": name, "status": status, "output": output}
	}
	r.check(n, "a phase: 200 with its message and id, name and status", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		out := "==> configure\nchecking for gcc... gcc \u00e9\u4e2d\n"
		data := t.envelope(t.write("/builds/phases/update/", phase("configure", "SUCCESS", out)), http.StatusOK, "Phase configure was successfully updated.")
		id, ok := intOf(at(data, "build_phase", "id"))
		if !ok {
			t.Errorf("data.build_phase.id is %v, want a JSON number", at(data, "build_phase", "id"))
		}
		phaseID = id
		t.equal("data.build_phase.name", at(data, "build_phase", "name"), "configure")
		t.equal("data.build_phase.status", at(data, "build_phase", "status"), "SUCCESS")
		st.outputs["configure"] = out
	})
	r.check(n, "the same phase again: replaced, the same id", func(t *T) {
		t.Need(phaseID != 0, "the phase")
		out := "==> configure (again)\nchecking for gcc... gcc\x00 (a NUL, kept byte for byte)\n"
		data := t.envelope(t.write("/builds/phases/update/", phase("configure", "SUCCESS", out)), http.StatusOK, "Phase configure was successfully updated.")
		id, _ := intOf(at(data, "build_phase", "id"))
		t.equal("data.build_phase.id", id, phaseID)
		st.outputs["configure"] = out
	})
	r.check(n, "an ERROR phase with a build log", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		data := t.envelope(t.write("/builds/phases/update/", phase("build", "ERROR", buildLog)), http.StatusOK, "Phase build was successfully updated.")
		t.equal("data.build_phase.status", at(data, "build_phase", "status"), "ERROR")
		st.outputs["build"] = buildLog
	})
	r.check(n, "a log replaced by a clean one", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.envelope(t.write("/builds/phases/update/", phase("relog", "ERROR", "relog.c:1:1: error: "+replacedError+"\n")), http.StatusOK, "")
		t.envelope(t.write("/builds/phases/update/", phase("relog", "SUCCESS", "all good\n")), http.StatusOK, "Phase relog was successfully updated.")
		st.outputs["relog"] = "all good\n"
	})
	r.check(n, "an empty output", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.envelope(t.write("/builds/phases/update/", phase("empty", "SUCCESS", "")), http.StatusOK, "Phase empty was successfully updated.")
		st.outputs["empty"] = ""
	})
	r.check(n, "a null output", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.envelope(t.write("/builds/phases/update/", phase("null", "SUCCESS", nil)), http.StatusOK, "Phase null was successfully updated.")
	})
	const required = "phase_name, and status are required."
	r.check(n, "no phase_name: 400 \""+required+"\"", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.bad400(t.write("/builds/phases/update/", map[string]any{"build_id": st.buildID, "status": "SUCCESS", "output": "x"}), required)
	})
	r.check(n, "no status: 400 \""+required+"\"", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		t.bad400(t.write("/builds/phases/update/", map[string]any{"build_id": st.buildID, "phase_name": "x", "output": "x"}), required)
	})
	r.check(n, "an unknown build: 404 JSON", func(t *T) {
		t.wantError(t.write("/builds/phases/update/", map[string]any{"build_id": unknownBuild, "phase_name": "x", "status": "SUCCESS"}), http.StatusNotFound, "")
	})
}

// installPrefix is where Spack would have installed the main spec.
func (r *runner) installPrefix() string {
	st := r.st
	return "/opt/spack/linux-debian12-x86_64_v2/gcc-12.2.0/" + st.root.name + "-" + st.root.version + "-" + st.root.hash
}

// analyzerName is this suite's generic analyzer.
const analyzerName = "conformance"

var attributeBlob = []byte{0, 1, 2, 0xfe, 0xff, '\n'}

func (r *runner) metadata() map[string]any {
	prefix := r.installPrefix()
	return map[string]any{
		"config_args":           "--prefix=" + prefix + " --enable-conformance",
		"environment_variables": map[string]any{"SPACK_CC": "gcc", "SPACK_CONFORMANCE": r.cfg.RunID},
		"install_files": map[string]any{
			prefix:                       map[string]any{"type": "dir", "mode": 16877, "owner": 1000, "group": 1000},
			prefix + "/bin":              map[string]any{"type": "dir", "mode": 16877, "owner": 1000, "group": 1000},
			prefix + "/bin/conformance":  map[string]any{"type": "file", "mode": 33261, "owner": 1000, "group": 1000, "hash": "F7VQSJFAPKADSUN5RTFJZBLUMXUNYF6X", "size": 1234, "time": 1637080000.5},
			prefix + "/lib/libconf.so.1": map[string]any{"type": "link", "mode": 41471, "owner": 1000, "group": 1000},
			// Spack writes its metadata directory into every prefix and lists it.
			prefix + "/.spack":           map[string]any{"type": "dir", "mode": 16877, "owner": 1000, "group": 1000},
			prefix + "/.spack/spec.json": map[string]any{"type": "file", "mode": 33188, "owner": 1000, "group": 1000, "hash": "A3VQSJFAPKADSUN5RTFJZBLUMXUNYF6X", "size": 99, "time": 1637080000.5},
		},
		analyzerName: []any{
			map[string]any{"install_file": "bin/conformance", "name": "text-attr", "value": "conformance text"},
			map[string]any{"install_file": "bin/conformance", "name": "json-attr", "json_value": map[string]any{"symbols": []any{"main"}}},
			map[string]any{"install_file": "bin/conformance", "name": "binary-attr", "binary_value": base64.StdEncoding.EncodeToString(attributeBlob)},
		},
		"not-an-analyzer": nil,
	}
}

func analyzeBuilds(r *runner, n *Node) {
	st := r.st
	r.check(n, "every kind of result: 200 \"Metadata updated\"", func(t *T) {
		t.Need(st.buildID != 0, "the build")
		data := t.envelope(t.write("/analyze/builds/", map[string]any{"build_id": st.buildID, "metadata": r.metadata()}), http.StatusOK, "Metadata updated")
		id, ok := intOf(at(data, "build", "build_id"))
		if !ok || id != st.buildID {
			t.Errorf("data.build.build_id = %v, want the number %d", at(data, "build", "build_id"), st.buildID)
		}
		t.equal("data.build.spec_full_hash", at(data, "build", "spec_full_hash"), st.root.fullHash)
		t.equal("data.build.spec_name", at(data, "build", "spec_name"), st.root.name)
		st.analyzed = true
	})
	r.check(n, "the same results again: 200", func(t *T) {
		t.Need(st.analyzed, "the first analysis")
		t.envelope(t.write("/analyze/builds/", map[string]any{"build_id": st.buildID, "metadata": r.metadata()}), http.StatusOK, "Metadata updated")
	})
	r.check(n, "a later analysis replaces the environment, not another build's", func(t *T) {
		t.Need(st.analyzed && st.otherBuildID != 0, "the first analysis and the other build")
		t.envelope(t.write("/analyze/builds/", map[string]any{"build_id": st.otherBuildID,
			"metadata": map[string]any{"environment_variables": map[string]any{"SPACK_OTHER": "1"}}}), http.StatusOK, "Metadata updated")
		t.envelope(t.write("/analyze/builds/", map[string]any{"build_id": st.buildID,
			"metadata": map[string]any{"environment_variables": map[string]any{"SPACK_CC": "clang"}}}), http.StatusOK, "Metadata updated")
		st.env = map[string]string{"SPACK_CC": "clang"}
	})
	for _, c := range []struct {
		name     string
		metadata any
	}{{"null metadata", nil}, {"metadata that is a list", []any{1}}, {"metadata that is a string", "config"}} {
		r.check(n, c.name+": 400", func(t *T) {
			t.Need(st.buildID != 0, "the build")
			t.bad400(t.write("/analyze/builds/", map[string]any{"build_id": st.buildID, "metadata": c.metadata}), "")
		})
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}
