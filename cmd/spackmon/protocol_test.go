package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const singularityHash = "36u22fm5i3w2tqyiyje22j6x55emekjw"

var buildEnv = map[string]any{
	"full_hash": singularityHash, "spack_version": "1.0.0", "hostname": "builder",
	"kernel_version": "#73-Ubuntu SMP Mon Jan 18 17:25:17 UTC 2021", "host_os": "ubuntu20.04",
	"host_target": "skylake", "platform": "linux",
}

func singularitySpec(t testing.TB) map[string]any {
	return map[string]any{"spec": json.RawMessage(readTestdata(t, "specs", "singularity-3.8.0.json")), "spack_version": "1.0.0"}
}

// countSpecs counts every stored spec through the read API, page by page.
func countSpecs(t testing.TB, srv *testServer) int {
	t.Helper()
	total, token := 0, ""
	for {
		a := srv.get(t, "/api/v1/specs?page_size=1000&page_token="+token)
		if a.Status != http.StatusOK {
			t.Fatalf("list specs: %d %s", a.Status, a.Body)
		}
		m := a.JSON(t)
		specs, _ := m["specs"].([]any)
		total += len(specs)
		token, _ = m["next_page_token"].(string)
		if token == "" {
			return total
		}
	}
}

// The original server's tests, made stricter: no ghost specs, exact outputs.
func TestUpstreamFlows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		m := wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "success")
		if path(m, "data", "spec", "full_hash") != singularityHash || path(m, "data", "created") != true {
			t.Fatalf("new spec answered %v", m["data"])
		}
		deps, _ := path(m, "data", "spec", "specs").(map[string]any)
		if len(deps) != 8 {
			t.Errorf("%d dependencies, want 8: %v", len(deps), deps)
		}
		for name, hash := range deps {
			a := srv.get(t, fmt.Sprintf("/api/v1/specs/%s?spack_version=1.0.0", hash))
			if a.Status != http.StatusOK || a.JSON(t)["name"] != name || a.JSON(t)["stub"] != false {
				t.Errorf("dependency %s %s: %d %s", name, hash, a.Status, a.Body)
			}
		}
		m = wantEnvelope(t, srv.post(t, "/ms1/specs/new", singularitySpec(t)), http.StatusOK, "success")
		if path(m, "data", "created") != false {
			t.Errorf("repeat answered created=%v", path(m, "data", "created"))
		}
		if n := countSpecs(t, srv); n != 55 {
			t.Errorf("%d specs stored, want 55", n)
		}

		m = wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "Build get or create was successful.")
		id := num(t, path(m, "data", "build", "build_id"))
		if path(m, "data", "build_environment_created") != true || path(m, "data", "build", "spec_name") != "singularity" ||
			path(m, "data", "build", "spec_full_hash") != singularityHash {
			t.Errorf("new build answered %v", m["data"])
		}
		m = wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusOK, "Build get or create was successful.")
		if num(t, path(m, "data", "build", "build_id")) != id || path(m, "data", "build_environment_created") != false {
			t.Errorf("repeat build answered %v", m["data"])
		}

		wantEnvelope(t, srv.post(t, "/ms1/builds/update/", map[string]any{"build_id": id, "status": "FAILED"}), http.StatusOK, "Status updated")
		for i, phase := range []string{"autoconf", "build", "install"} {
			m := wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
				"build_id": id, "phase_name": phase, "status": "SUCCESS", "output": phase + "-output"}),
				http.StatusOK, "Phase "+phase+" was successfully updated.")
			if path(m, "data", "build_phase", "name") != phase {
				t.Errorf("phase answered %v", m["data"])
			}
			b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
			if phases, _ := b["phases"].([]any); len(phases) != i+1 {
				t.Errorf("after %s: %d phases, want %d", phase, len(phases), i+1)
			}
		}
		for _, phase := range []string{"autoconf", "build", "install"} {
			a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/%s/output", id, phase))
			if string(a.Body) != phase+"-output" {
				t.Errorf("%s output %q", phase, a.Body)
			}
		}
		b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
		if b["status"] != "FAILED" || b["finished_at"] == nil || b["owner"] != srv.user {
			t.Errorf("stored build %v", b)
		}
	})
}

// specWithNode is a specs/new body of one node.
func specWithNode(node map[string]any) map[string]any {
	return map[string]any{"spack_version": "0.17.2", "spec": map[string]any{"nodes": []any{node}}}
}

// Every client mistake gets a JSON 4xx with a message that says what is wrong.
func TestBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
		build := wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "")
		id := num(t, path(build, "data", "build", "build_id"))
		missingEnv := maps.Clone(buildEnv)
		delete(missingEnv, "hostname")
		unknownSpec := maps.Clone(buildEnv)
		unknownSpec["full_hash"] = "doesnotexist"
		cases := []struct {
			name, path string
			body       any
			status     int
			message    string
		}{
			{"invalid JSON", "/ms1/specs/new/", []byte(`{"spec": `), 400, "Invalid JSON body"},
			{"empty body", "/ms1/builds/new/", []byte(``), 400, "The request body is empty; a JSON object is expected."},
			{"array body", "/ms1/builds/update/", []byte(`[1, 2]`), 400, "The request body must be a JSON object."},
			{"no spack_version", "/ms1/specs/new/", map[string]any{"spec": json.RawMessage(`{"nodes": []}`)}, 400, "A spack_version string is required"},
			{"no spec", "/ms1/specs/new/", map[string]any{"spack_version": "0.17.2"}, 400, "A spec document is required"},
			{"no nodes", "/ms1/specs/new/", map[string]any{"spack_version": "0.17.2", "spec": map[string]any{"nodes": []any{}}}, 400, "Invalid spec document"},
			{"node without name", "/ms1/specs/new/", map[string]any{"spack_version": "0.17.2", "spec": map[string]any{"nodes": []any{map[string]any{"full_hash": "abc"}}}}, 400, "Invalid spec document"},
			{"spec not an object", "/ms1/specs/new/", map[string]any{"spack_version": "0.17.2", "spec": 42}, 400, "Invalid spec document"},
			{"spack_version not a string", "/ms1/specs/new/", map[string]any{"spack_version": 17, "spec": map[string]any{}}, 400, "spack_version must be a string."},
			{"missing environment", "/ms1/builds/new/", missingEnv, 400, "Missing required build environment data."},
			{"unknown spec", "/ms1/builds/new/", unknownSpec, 400, "The spec with full hash doesnotexist and spack version 1.0.0 does not exist."},
			{"missing build id", "/ms1/builds/update/", map[string]any{"status": "SUCCESS"}, 400, "Missing required build id."},
			{"bad status", "/ms1/builds/update/", map[string]any{"build_id": id, "status": "DONE"}, 400, "Invalid status. Choices are CANCELLED,SUCCESS,NOTRUN,FAILED"},
			{"no status", "/ms1/builds/update/", map[string]any{"build_id": id}, 400, "Invalid status. Choices are CANCELLED,SUCCESS,NOTRUN,FAILED"},
			{"build id not a number", "/ms1/builds/update/", map[string]any{"build_id": "seven", "status": "SUCCESS"}, 400, "build_id must be an integer."},
			{"unknown build", "/ms1/builds/update/", map[string]any{"build_id": 999999, "status": "SUCCESS"}, 404, ""},
			{"unknown build phase", "/ms1/builds/phases/update/", map[string]any{"build_id": 999999, "phase_name": "x", "status": "SUCCESS"}, 404, ""},
			{"phase without status", "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "x"}, 400, "phase_name, and status are required."},
			{"phase output not a string", "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "x", "status": "SUCCESS", "output": 5}, 400, "output must be a string or null."},
			{"phase status not one of Spack's", "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "x", "status": "NaN"}, 400, "Invalid phase status. Choices are SUCCESS,ERROR"},
			{"phase status a number", "/ms1/builds/phases/update/", map[string]any{"build_id": id, "phase_name": "x", "status": "1"}, 400, "Invalid phase status. Choices are SUCCESS,ERROR"},
			{"build id 0", "/ms1/builds/update/", map[string]any{"build_id": 0, "status": "SUCCESS"}, 400, "build_id must be a positive integer."},
			{"build id -1", "/ms1/builds/update/", map[string]any{"build_id": -1, "status": "SUCCESS"}, 400, "build_id must be a positive integer."},
			{"phase build id 0", "/ms1/builds/phases/update/", map[string]any{"build_id": 0, "phase_name": "x", "status": "SUCCESS"}, 400, "build_id must be a positive integer."},
			{"phase build id -1", "/ms1/builds/phases/update/", map[string]any{"build_id": "-1", "phase_name": "x", "status": "SUCCESS"}, 400, "build_id must be a positive integer."},
			{"phase without build id", "/ms1/builds/phases/update/", map[string]any{"phase_name": "x", "status": "SUCCESS"}, 400, "Missing required build_id."},
			{"over-long node name", "/ms1/specs/new/", specWithNode(map[string]any{"name": strings.Repeat("n", 251), "full_hash": "fh"}), 400,
				"Invalid spec document: node 0: name is longer than 250 characters."},
			{"over-long node version", "/ms1/specs/new/", specWithNode(map[string]any{"name": "n", "version": strings.Repeat("é", 251), "full_hash": "fh"}), 400,
				"Invalid spec document: node 0: version is longer than 250 characters."},
			{"over-long compiler", "/ms1/specs/new/", specWithNode(map[string]any{"name": "n", "full_hash": "fh", "compiler": map[string]any{"name": strings.Repeat("c", 300), "version": "1"}}), 400,
				"Invalid spec document: node 0: compiler.name is longer than 250 characters."},
			{"over-long dependency hash", "/ms1/specs/new/", specWithNode(map[string]any{"name": "n", "full_hash": "fh", "dependencies": []any{map[string]any{"name": "d", "hash": strings.Repeat("h", 251)}}}), 400,
				"Invalid spec document: node 0: dependencies[0].hash is longer than 250 characters."},
			{"over-long target features", "/ms1/specs/new/", specWithNode(map[string]any{"name": "n", "full_hash": "fh", "arch": map[string]any{"platform": "linux", "platform_os": "os",
				"target": map[string]any{"name": "t", "features": []string{strings.Repeat("\x01", 11000)}}}}), 400,
				"Invalid spec document: node 0: arch.target.features is longer than 65536 characters as JSON."},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				m := wantError(t, srv.post(t, c.path, c.body), c.status)
				if msg, _ := m["message"].(string); !strings.HasPrefix(msg, c.message) {
					t.Errorf("message %q, want it to start with %q", msg, c.message)
				}
				if c.name == "unknown spec" && fmt.Sprint(m["data"]) != "map[build_created:false build_environment_created:false]" {
					t.Errorf("data %v", m["data"])
				}
			})
		}
		t.Run("unknown route", func(t *testing.T) {
			wantError(t, srv.post(t, "/ms1/nothing/here/", map[string]any{}), http.StatusNotFound)
		})
		t.Run("unknown spec read", func(t *testing.T) {
			wantError(t, srv.get(t, "/api/v1/specs/nosuchhash"), http.StatusNotFound)
		})
		t.Run("unknown build read", func(t *testing.T) {
			wantError(t, srv.get(t, "/api/v1/builds/424242"), http.StatusNotFound)
		})
	})
}

func TestBodyLimit(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) { c.MaxBodyBytes = 1024 })
	big := map[string]any{"build_id": 1, "phase_name": "build", "status": "SUCCESS", "output": strings.Repeat("x", 4096)}
	wantError(t, srv.post(t, "/ms1/builds/phases/update/", big), http.StatusRequestEntityTooLarge)
	// A body sent without a declared length is cut off while it is read.
	data, _ := json.Marshal(big)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ms1/builds/phases/update/", &chunked{data: data})
	req.Header.Set("Authorization", "Bearer "+srv.bearer)
	resp, err := srv.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked body over the limit: %d", resp.StatusCode)
	}
	// Without a token the write is challenged before its body counts: nobody makes the
	// server read up to the limit for nothing.
	a := srv.postAs(t, "/ms1/builds/phases/update/", big, noAuth)
	wantChallenge(t, srv, a, http.StatusUnauthorized, "")
}

// chunked hides its length so the client sends the body chunked.
type chunked struct{ data []byte }

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

func wantError(t testing.TB, a answer, status int) map[string]any {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Body)
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	m := a.JSON(t)
	if num(t, m["code"]) != int64(status) || m["message"] == "" {
		t.Errorf("error body %v", m)
	}
	return m
}

// Identical writes at once: one creates, the others find it; nothing fails or doubles.
func TestConcurrentWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		const n = 16
		spec := singularitySpec(t)
		specBody, buildBody := jsonBody(t, spec), jsonBody(t, buildEnv)
		codes := parallel(t, srv, n, "/ms1/specs/new/", func(int) []byte { return specBody })
		wantOneCreated(t, "spec", codes)
		builds := parallel(t, srv, n, "/ms1/builds/new/", func(int) []byte { return buildBody })
		wantOneCreated(t, "build", builds)
		ids := map[int64]bool{}
		for _, a := range builds {
			ids[num(t, path(a.JSON(t), "data", "build", "build_id"))] = true
		}
		if len(ids) != 1 {
			t.Errorf("builds answered %d different ids", len(ids))
		}
		if c := countSpecs(t, srv); c != 55 {
			t.Errorf("%d specs after concurrent uploads, want 55", c)
		}

		// Distinct roots over the same dependencies: every root new, shared nodes once.
		var doc map[string]any
		if err := json.Unmarshal(readTestdata(t, "specs", "singularity-3.8.0.json"), &doc); err != nil {
			t.Fatal(err)
		}
		roots := parallel(t, srv, n, "/ms1/specs/new/", func(i int) []byte {
			return jsonBody(t, map[string]any{"spec": variant(t, doc, i), "spack_version": "1.0.0"})
		})
		for _, a := range roots {
			wantEnvelope(t, a, http.StatusCreated, "success")
		}
		if c := countSpecs(t, srv); c != 55+n {
			t.Errorf("%d specs after %d new roots, want %d", c, n, 55+n)
		}
	})
}

// variant is the singularity document with its root renamed and rehashed.
func variant(t testing.TB, doc map[string]any, i int) any {
	data, _ := json.Marshal(doc)
	var cp map[string]any
	if err := json.Unmarshal(data, &cp); err != nil {
		t.Fatal(err)
	}
	nodes := path(cp, "spec", "nodes").([]any)
	root := nodes[0].(map[string]any)
	root["name"] = fmt.Sprintf("variant%d", i)
	root["full_hash"] = fmt.Sprintf("variantfullhash%02d", i)
	root["hash"] = fmt.Sprintf("varianthash%02d", i)
	return cp
}

// parallel sends n requests at once, body(i) to path, and fails the test, from its own
// goroutine, when one could not be sent.
func parallel(t testing.TB, srv *testServer, n int, path string, body func(i int) []byte) []answer {
	t.Helper()
	out := make([]answer, n)
	errs := make([]error, n)
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i] = body(i)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			out[i], errs[i] = srv.send(http.MethodPost, path, bodies[i], spackForm())
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonBody is v encoded, failing the test when it cannot be.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantOneCreated(t testing.TB, what string, answers []answer) {
	t.Helper()
	created := 0
	for _, a := range answers {
		switch a.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("%s: status %d: %s", what, a.Status, a.Body)
		}
	}
	if created != 1 {
		t.Errorf("%s: %d answers were 201, want exactly 1", what, created)
	}
}
