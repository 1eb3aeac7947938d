package main

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Odd but legal input must be stored, and odd URLs must get a 4xx, on both stores.
func TestEdgeInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
		id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))

		t.Run("NUL in a log is stored byte for byte", func(t *testing.T) {
			log := "checking\x00\nmain.c:3:1: error: bad\x00thing\n"
			wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
				"build_id": id, "phase_name": "nul", "status": "ERROR", "output": log}), http.StatusOK, "")
			if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/nul/output", id)); string(a.Body) != log {
				t.Errorf("output %q", a.Body)
			}
			events := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", id)).JSON(t)
			list, _ := events["events"].([]any)
			if len(list) != 1 || path(list[0], "text") != "main.c:3:1: error: bad\uFFFDthing" {
				t.Errorf("events %v", events)
			}
		})
		t.Run("NUL in an identifier is refused", func(t *testing.T) {
			env := maps.Clone(buildEnv)
			env["hostname"] = "host\x00"
			m := wantError(t, srv.post(t, "/ms1/builds/new/", env), http.StatusBadRequest)
			if m["message"] != "hostname must not contain NUL characters." {
				t.Errorf("message %v", m["message"])
			}
			wantError(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
				"build_id": id, "phase_name": "a\x00", "status": "SUCCESS"}), http.StatusBadRequest)
		})
		t.Run("a failed concretization without hashes is stored once per document", func(t *testing.T) {
			failed := func(versions string) map[string]any {
				return map[string]any{"spack_version": "0.18.1", "spec": map[string]any{"spec": map[string]any{
					"_meta": map[string]any{"version": 3},
					"nodes": []any{
						map[string]any{"name": "mon-nohash", "versions": []string{versions}, "concrete": false,
							"full_hash": "FAILED_CONCRETIZATION", "dependencies": []any{map[string]any{"name": "mon-nohash-dep", "type": []string{}}}},
						map[string]any{"name": "mon-nohash-dep", "versions": []string{":"}, "concrete": false, "full_hash": "FAILED_CONCRETIZATION"},
					}}}}
			}
			specs := func() []any {
				list, _ := srv.get(t, "/api/v1/specs?name=mon-nohash").JSON(t)["specs"].([]any)
				return list
			}
			m := wantEnvelope(t, srv.post(t, "/ms1/specs/new/", failed(":")), http.StatusCreated, "")
			if path(m, "data", "spec", "full_hash") != "FAILED_CONCRETIZATION" || path(m, "data", "spec", "specs", "mon-nohash-dep") != "FAILED_CONCRETIZATION" {
				t.Errorf("answer %v", m)
			}
			wantEnvelope(t, srv.post(t, "/ms1/specs/new/", failed(":")), http.StatusOK, "")
			if list := specs(); len(list) != 1 || path(list[0], "failed_concretization") != true {
				t.Fatalf("after a repeat: %v", list)
			}
			wantEnvelope(t, srv.post(t, "/ms1/specs/new/", failed("1.2:")), http.StatusCreated, "")
			if list := specs(); len(list) != 2 || path(list[1], "failed_concretization") != true {
				t.Fatalf("after another abstract spec: %v", list)
			}
		})
		t.Run("a phase name that could not be read back is refused", func(t *testing.T) {
			m := wantError(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
				"build_id": id, "phase_name": "a/b", "status": "SUCCESS", "output": "ab"}), http.StatusBadRequest)
			if m["message"] != "phase_name must not contain '/'." {
				t.Errorf("message %v", m["message"])
			}
		})
		t.Run("limits count characters, not bytes", func(t *testing.T) {
			env := maps.Clone(buildEnv)
			env["hostname"] = strings.Repeat("ホ", 250)
			env["tags"] = strings.Repeat("é", 100)
			if a := srv.post(t, "/ms1/builds/new/", env); a.Status != http.StatusCreated {
				t.Errorf("250 three-byte characters in a hostname: %d %s", a.Status, a.Body)
			}
			env["hostname"] = strings.Repeat("ホ", 251)
			m := wantError(t, srv.post(t, "/ms1/builds/new/", env), http.StatusBadRequest)
			if m["message"] != "Build environment values must be at most 250 characters." {
				t.Errorf("251 characters: %v", m["message"])
			}
			matrix := "/api/v1/matrix?package=" + url.QueryEscape(strings.Repeat("é", 250))
			if a := srv.get(t, matrix); a.Status != http.StatusOK {
				t.Errorf("matrix of a 250-character name: %d %s", a.Status, a.Body)
			}
		})
		t.Run("ids and counts are JSON numbers", func(t *testing.T) {
			b := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
			if num(t, b["id"]) != id {
				t.Errorf("id %v", b["id"])
			}
			phases, _ := b["phases"].([]any)
			if len(phases) == 0 {
				t.Fatal("no phases")
			}
			num(t, path(phases[0], "output_bytes"))
			num(t, path(phases[0], "error_count"))
			specs := srv.get(t, "/api/v1/specs?page_size=1").JSON(t)
			list, _ := specs["specs"].([]any)
			num(t, path(list[0], "id"))
		})
		for _, c := range []struct{ name, method, path, contentType string }{
			{"invalid UTF-8 in the path", http.MethodGet, "/api/v1/specs/%ff", ""},
			{"invalid UTF-8 in the query", http.MethodGet, "/api/v1/builds?q=%c3", ""},
			{"NUL in the query", http.MethodGet, "/api/v1/specs?name=a%00b", ""},
			{"id that is not a number", http.MethodGet, "/api/v1/builds/abc", ""},
			{"page size out of range", http.MethodGet, "/api/v1/builds?page_size=99999999999", ""},
			{"a build status that does not exist", http.MethodGet, "/api/v1/builds?status=failed", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				m := wantError(t, srv.do(t, c.method, c.path, nil, nil), http.StatusBadRequest)
				if msg, _ := m["message"].(string); strings.Contains(msg, "strconv") || strings.Contains(msg, "grpc") {
					t.Errorf("message leaks internals: %q", msg)
				}
			})
		}
		t.Run("a compressed body is refused as such", func(t *testing.T) {
			gz := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}
			m := wantError(t, srv.do(t, http.MethodPost, "/ms1/specs/new/", []byte("\x1f\x8b\x08"), gz), http.StatusUnsupportedMediaType)
			if msg, _ := m["message"].(string); !strings.Contains(msg, "Content-Encoding") {
				t.Errorf("message %q", msg)
			}
			plain := http.Header{"Content-Encoding": {"identity"}}
			wantError(t, srv.do(t, http.MethodPost, "/ms1/specs/new/", []byte("{}"), plain), http.StatusBadRequest)
		})
		t.Run("a page's bad URL gets the error page", func(t *testing.T) {
			for _, p := range []string{"/?q=%00", "/builds?owner=%ff", "/specs/%ff"} {
				a := srv.get(t, p)
				if a.Status != http.StatusBadRequest || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(a.Body), "valid UTF-8") {
					t.Errorf("%s: %d %s", p, a.Status, a.Header.Get("Content-Type"))
				}
			}
		})
		t.Run("a form POST is not turned into a GET", func(t *testing.T) {
			form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			wantError(t, srv.do(t, http.MethodPost, "/ms1/", []byte("{}"), form), http.StatusMethodNotAllowed)
			wantError(t, srv.do(t, http.MethodPost, "/api/v1/builds", []byte("page_size=1"), form), http.StatusMethodNotAllowed)
		})
		t.Run("a 405 says which methods the path takes", func(t *testing.T) {
			for _, c := range []struct{ method, path, allow string }{
				{http.MethodPost, "/ms1/", "GET, HEAD"},
				{http.MethodDelete, "/api/v1/builds", "GET, HEAD"},
				{http.MethodGet, "/ms1/specs/new/", "POST"},
				{"BREW", "/ms1/builds/phases/update/", "POST"},
				{http.MethodPut, fmt.Sprintf("/api/v1/builds/%d/phases/nul/output", id), "GET, HEAD"},
				{http.MethodDelete, "/", "GET, HEAD"},
			} {
				a := srv.do(t, c.method, c.path, nil, nil)
				if a.Status != http.StatusMethodNotAllowed || a.Header.Get("Allow") != c.allow {
					t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q", c.method, c.path, a.Status, a.Header.Get("Allow"), c.allow)
				}
			}
		})
		t.Run("HEAD answers like GET without a body", func(t *testing.T) {
			a := srv.do(t, http.MethodHead, "/ms1/", nil, nil)
			if a.Status != http.StatusOK || len(a.Body) != 0 {
				t.Errorf("HEAD /ms1/: %d %q", a.Status, a.Body)
			}
			// A log's HEAD reads no log when it is whole; its headers are the GET's all the same.
			for _, q := range []string{"", "?offset=1&limit=2", "?unit=lines&limit=1"} {
				p := fmt.Sprintf("/api/v1/builds/%d/phases/nul/output%s", id, q)
				get, head := srv.get(t, p), srv.do(t, http.MethodHead, p, nil, nil)
				if get.Status != http.StatusOK || head.Status != get.Status || len(head.Body) != 0 ||
					head.Header.Get("Content-Length") != get.Header.Get("Content-Length") || get.Header.Get("Content-Length") == "" {
					t.Errorf("HEAD %s: %d, Content-Length %q; GET: %d, %q", p, head.Status, head.Header.Get("Content-Length"),
						get.Status, get.Header.Get("Content-Length"))
				}
			}
		})
		t.Run("logs are not sniffed", func(t *testing.T) {
			a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/nul/output", id))
			if a.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("headers %v", a.Header)
			}
		})
	})
}

// A client cannot set the deadline of the calls it makes: Grpc-Timeout is not part of the
// protocol.
func TestGrpcTimeoutHeaderIgnored(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	h := http.Header{"Grpc-Timeout": {"1n"}, "Content-Type": {"application/json"}}
	if a := srv.do(t, http.MethodPost, "/ms1/specs/new/", specBody(readTestdata(t, "specs", "singularity-3.8.0.json"), "1.0.0"), h); a.Status != http.StatusCreated {
		t.Errorf("with Grpc-Timeout: %d %s", a.Status, a.Body)
	}
}
