package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/server"
	analysisv1 "github.com/spackmon/spackmon/proto/spackmon/analysis/v1"
)

// newBuild stores the singularity spec and a build of it for the harness's user, and
// returns the build's id.
func newBuild(t testing.TB, srv *testServer) int64 {
	t.Helper()
	if a := srv.post(t, "/ms1/specs/new/", singularitySpec(t)); a.Status != http.StatusCreated && a.Status != http.StatusOK {
		t.Fatalf("new spec: %d %s", a.Status, a.Body)
	}
	m := wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, "")
	return num(t, path(m, "data", "build", "build_id"))
}

// specAndBuild posts the Singularity spec, new, and a build of it on a fresh server, each
// answered 201, and returns the build's id.
func specAndBuild(t testing.TB, srv *testServer) int64 {
	t.Helper()
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	return num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", buildEnv), http.StatusCreated, ""), "data", "build", "build_id"))
}

func analyze(t testing.TB, srv *testServer, id int64, metadata any) answer {
	t.Helper()
	return srv.post(t, "/ms1/analyze/builds/", map[string]any{"build_id": id, "metadata": metadata})
}

// spackBuildEnv reads spack-build-env.txt the way Spack's analyzer does before it posts it.
func spackBuildEnv(t testing.TB) map[string]string {
	env := map[string]string{}
	text := strings.ReplaceAll(string(readTestdata(t, "dummy-tar-spack", "spack-build-env.txt")), "\n", ";")
	for _, piece := range strings.Split(text, ";") {
		if !strings.Contains(piece, "SPACK_") || strings.Contains(piece, "export ") {
			continue
		}
		if name, value, ok := strings.Cut(piece, "="); ok {
			env[name] = value
		}
	}
	return env
}

// installFiles reads every install file of a build through /api/v1, pages of size at a time.
func installFiles(t testing.TB, srv *testServer, id int64, query string, size int) []map[string]any {
	t.Helper()
	var files []map[string]any
	token := ""
	for pages := 0; ; pages++ {
		a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/install-files?page_size=%d&page_token=%s&%s", id, size, token, query))
		if a.Status != http.StatusOK {
			t.Fatalf("install files: %d %s", a.Status, a.Body)
		}
		m := a.JSON(t)
		list, _ := m["install_files"].([]any)
		for _, f := range list {
			files = append(files, f.(map[string]any))
		}
		token, _ = m["next_page_token"].(string)
		if token == "" {
			return files
		}
		if pages > 1000 {
			t.Fatal("install files: the pages do not end")
		}
	}
}

// The original server's test, made stricter: every file of the manifest comes back with its
// path relative to the install prefix, its mode and its hash, and every variable with its value.
func TestAnalyzeUpstream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		id := newBuild(t, srv)
		raw := readTestdata(t, "dummy-tar-spack", "install_manifest.json")
		var manifest map[string]map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&manifest); err != nil {
			t.Fatal(err)
		}
		env := spackBuildEnv(t)
		if len(env) != 22 {
			t.Fatalf("%d variables parsed from the fixture, want 22", len(env))
		}
		configArgs := string(readTestdata(t, "dummy-tar-spack", "spack-configure-args.txt"))
		m := wantEnvelope(t, analyze(t, srv, id, map[string]any{
			"install_files": json.RawMessage(raw), "environment_variables": env, "config_args": configArgs,
		}), http.StatusOK, "Metadata updated")
		if num(t, path(m, "data", "build", "build_id")) != id || path(m, "data", "build", "spec_name") != "singularity" ||
			path(m, "data", "build", "spec_full_hash") != singularityHash {
			t.Errorf("answer data %v", m["data"])
		}

		const prefix = "/home/vanessa/Desktop/Code/spack/opt/spack/linux-ubuntu20.04-skylake/gcc-9.3.0/tar-1.32-v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5"
		files := installFiles(t, srv, id, "", 40)
		if len(files) != 155 {
			t.Fatalf("%d install files, want 155", len(files))
		}
		for _, f := range files {
			abs := prefix
			if p := f["path"].(string); p != "." {
				abs += "/" + p
			}
			want, ok := manifest[abs]
			if !ok {
				t.Errorf("install file %q is not in the manifest (as %s)", f["path"], abs)
				continue
			}
			for _, k := range []string{"type", "mode", "owner", "group"} {
				if fmt.Sprint(f[k]) != fmt.Sprint(want[k]) {
					t.Errorf("%s: %s %v, want %v", f["path"], k, f[k], want[k])
				}
			}
			if want["type"] == "file" && (f["hash"] != want["hash"] || fmt.Sprint(f["size"]) != fmt.Sprint(want["size"])) {
				t.Errorf("%s: hash %v size %v, want %v %v", f["path"], f["hash"], f["size"], want["hash"], want["size"])
			}
		}
		tar := installFiles(t, srv, id, "type=file&path_prefix=bin/", 100)
		if len(tar) != 1 {
			t.Errorf("files under bin/: %v", tar)
		}
		for _, f := range tar {
			if f["path"] == "bin/tar" && (num(t, f["mode"]) != 33261 || f["hash"] != "F7VQSJFAPKADSUN5RTFJZBLUMXUNYF6X") {
				t.Errorf("bin/tar: %v", f)
			}
		}

		a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/environment", id))
		vars, _ := a.JSON(t)["variables"].([]any)
		if a.Status != http.StatusOK || len(vars) != 22 {
			t.Fatalf("environment: %d, %d variables: %s", a.Status, len(vars), a.Body)
		}
		for _, v := range vars {
			name, _ := path(v, "name").(string)
			if path(v, "value") != env[name] {
				t.Errorf("variable %s = %v, want %q", name, path(v, "value"), env[name])
			}
		}
		a = srv.get(t, fmt.Sprintf("/api/v1/builds/%d/config-args", id))
		if c := a.JSON(t); c["config_args"] != configArgs || c["recorded"] != true {
			t.Errorf("config args: %s", a.Body)
		}

		// A second run replaces the environment and keeps the files.
		wantEnvelope(t, analyze(t, srv, id, map[string]any{"environment_variables": map[string]string{"SPACK_CC": "clang"}}),
			http.StatusOK, "Metadata updated")
		a = srv.get(t, fmt.Sprintf("/api/v1/builds/%d/environment", id))
		if vars, _ := a.JSON(t)["variables"].([]any); len(vars) != 1 || path(vars[0], "value") != "clang" {
			t.Errorf("environment after the second run: %s", a.Body)
		}
		if n := len(installFiles(t, srv, id, "", 1000)); n != 155 {
			t.Errorf("%d install files after the second run, want 155", n)
		}
	})
}

// Generic analyzer results in every value form, read back through the upstream look-ups.
func TestAnalyzeAttributes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		id := newBuild(t, srv)
		blob := []byte{0, 1, 2, 0xfe, 0xff, '\n'}
		wantEnvelope(t, analyze(t, srv, id, map[string]any{
			"libabigail": []any{map[string]any{"install_file": "lib/libz.so", "name": "abidw-xml", "value": "<abi-corpus/>"}},
			"symbolator": []any{map[string]any{"install_file": "bin/tar", "name": "symbolator-json", "json_value": `{"symbols": ["main"]}`}},
			"smeagle":    []any{map[string]any{"install_file": "bin/tar", "name": "smeagle-json", "json_value": map[string]any{"library": "tar", "n": 2}}},
			"blobs":      []any{map[string]any{"install_file": "bin/tar", "name": "blob", "binary_value": base64.StdEncoding.EncodeToString(blob)}},
			"nothing":    nil,
		}), http.StatusOK, "Metadata updated")

		a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/attributes", id))
		attrs, _ := a.JSON(t)["attributes"].([]any)
		if a.Status != http.StatusOK || len(attrs) != 4 {
			t.Fatalf("attributes: %d %s", a.Status, a.Body)
		}
		specID := num(t, srv.get(t, "/api/v1/specs/"+singularityHash+"?spack_version=1.0.0").JSON(t)["id"])
		byName := map[string]map[string]any{}
		for _, lookup := range []string{"/ms1/specs/%d/attributes/", "/ms1/specs/%d/attributes"} {
			a = srv.get(t, fmt.Sprintf(lookup, specID))
			var list []map[string]any
			if err := json.Unmarshal(a.Body, &list); a.Status != http.StatusOK || err != nil || len(list) != 4 {
				t.Fatalf("%s: %d %s", lookup, a.Status, a.Body)
			}
			for _, at := range list {
				if len(at) != 4 || at["id"] == nil {
					t.Errorf("look-up entry %v: want exactly id, filename, analyzer, name", at)
				}
				byName[at["name"].(string)] = at
			}
		}
		if at := byName["abidw-xml"]; at["filename"] != "lib/libz.so" || at["analyzer"] != "libabigail" {
			t.Errorf("abidw-xml: %v", at)
		}
		// Pages of the look-up: the next page's token comes in a header.
		seen, token := map[string]bool{}, ""
		for range 3 {
			a = srv.get(t, fmt.Sprintf("/ms1/specs/%d/attributes/?page_size=3&page_token=%s", specID, token))
			var list []map[string]any
			if err := json.Unmarshal(a.Body, &list); err != nil || a.Status != http.StatusOK {
				t.Fatalf("page: %d %s", a.Status, a.Body)
			}
			for _, at := range list {
				seen[at["name"].(string)] = true
			}
			if token = a.Header.Get("X-Next-Page-Token"); token == "" {
				break
			}
		}
		if len(seen) != 4 || token != "" {
			t.Errorf("pages of 3 gave %v, last token %q", seen, token)
		}
		a = srv.get(t, fmt.Sprintf("/ms1/specs/%d/attributes/symbolator/", specID))
		if a.Status != http.StatusOK || !strings.Contains(string(a.Body), `"symbolator-json"`) || strings.Contains(string(a.Body), "smeagle") {
			t.Errorf("symbolator attributes: %d %s", a.Status, a.Body)
		}
		if a = srv.get(t, "/ms1/specs/999999/attributes/"); a.Status != http.StatusOK || strings.TrimSpace(string(a.Body)) != "[]" {
			t.Errorf("attributes of an unknown spec: %d %s", a.Status, a.Body)
		}

		download := func(name string) answer {
			return srv.get(t, fmt.Sprintf("/ms1/attributes/%v/download/", byName[name]["id"]))
		}
		wantJSON := func(name, want string) {
			t.Helper()
			a := download(name)
			var got, exp any
			if a.Status != http.StatusOK || json.Unmarshal(a.Body, &got) != nil || json.Unmarshal([]byte(want), &exp) != nil ||
				fmt.Sprint(got) != fmt.Sprint(exp) || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") {
				t.Errorf("download %s: %d %q %s, want %s", name, a.Status, a.Header.Get("Content-Type"), a.Body, want)
			}
		}
		wantJSON("abidw-xml", `"<abi-corpus/>"`)
		wantJSON("symbolator-json", `{"symbols": ["main"]}`)
		wantJSON("smeagle-json", `{"library": "tar", "n": 2}`)
		if a := download("blob"); a.Status != http.StatusOK || !bytes.Equal(a.Body, blob) || a.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("download blob: %d %q %q", a.Status, a.Header.Get("Content-Type"), a.Body)
		}
		wantError(t, srv.get(t, "/ms1/attributes/999999/download/"), http.StatusNotFound)
		wantError(t, srv.get(t, "/ms1/attributes/0/download/"), http.StatusBadRequest)

		// Upstream answered 500 when an analyzer ran again with a different result.
		wantEnvelope(t, analyze(t, srv, id, map[string]any{
			"symbolator": []any{map[string]any{"install_file": "bin/tar", "name": "symbolator-json", "json_value": map[string]any{"symbols": []string{"main", "usage"}}}},
		}), http.StatusOK, "Metadata updated")
		wantJSON("symbolator-json", `{"symbols": ["main", "usage"]}`)
		a = srv.get(t, fmt.Sprintf("/api/v1/builds/%d/attributes?analyzer=symbolator", id))
		if attrs, _ := a.JSON(t)["attributes"].([]any); len(attrs) != 1 {
			t.Errorf("symbolator attributes after the re-run: %s", a.Body)
		}

		a = srv.get(t, "/ms1/specs/name/singularity/")
		var specs []map[string]any
		if err := json.Unmarshal(a.Body, &specs); a.Status != http.StatusOK || err != nil || len(specs) != 1 ||
			specs[0]["full_hash"] != singularityHash || specs[0]["name"] != "singularity" {
			t.Errorf("specs named singularity: %d %s", a.Status, a.Body)
		}
		// The look-up lists the dependencies the spec's own page does.
		one := srv.get(t, "/api/v1/specs/"+singularityHash).JSON(t)
		want, _ := json.Marshal(one["dependencies"])
		got, _ := json.Marshal(specs[0]["dependencies"])
		if !bytes.Equal(got, want) {
			t.Errorf("dependencies by name %s, by hash %s", got, want)
		}
		if deps, _ := specs[0]["dependencies"].([]any); len(deps) != 8 {
			t.Errorf("%d dependencies by name, want 8", len(deps))
		}
		if a = srv.get(t, "/ms1/specs/name/no-such-package"); a.Status != http.StatusOK || strings.TrimSpace(string(a.Body)) != "[]" {
			t.Errorf("specs of an unknown name: %d %s", a.Status, a.Body)
		}
	})
}

// Every way an analyze request can be wrong answers with the protocol's error, and leaves
// nothing behind.
func TestAnalyzeRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		id := newBuild(t, srv)
		for _, c := range []struct {
			name     string
			body     string
			mentions string
		}{
			{"metadata null", fmt.Sprintf(`{"build_id": %d, "metadata": null}`, id), "metadata"},
			{"no metadata", fmt.Sprintf(`{"build_id": %d}`, id), "metadata is required"},
			{"build id 0", `{"build_id": 0, "metadata": {}}`, "build_id must be a positive integer."},
			{"build id -1", `{"build_id": -1, "metadata": {}}`, "build_id must be a positive integer."},
			{"metadata a string", fmt.Sprintf(`{"build_id": %d, "metadata": "x"}`, id), "metadata"},
			{"metadata a list", fmt.Sprintf(`{"build_id": %d, "metadata": []}`, id), "metadata"},
			{"no build id", `{"metadata": {}}`, "build_id"},
			{"config_args a number", fmt.Sprintf(`{"build_id": %d, "metadata": {"config_args": 7}}`, id), "config_args"},
			{"environment a list", fmt.Sprintf(`{"build_id": %d, "metadata": {"environment_variables": ["A=1"]}}`, id), "environment_variables"},
			{"manifest a list", fmt.Sprintf(`{"build_id": %d, "metadata": {"install_files": ["/a"]}}`, id), "install_files"},
			{"results not a list", fmt.Sprintf(`{"build_id": %d, "metadata": {"symbolator": {"name": "x"}}}`, id), "symbolator"},
			{"result without a name", fmt.Sprintf(`{"build_id": %d, "metadata": {"symbolator": [{"value": "x"}]}}`, id), "symbolator[0]"},
			{"result without a value", fmt.Sprintf(`{"build_id": %d, "metadata": {"symbolator": [{"name": "x"}]}}`, id), "symbolator[0]"},
			{"json_value not JSON", fmt.Sprintf(`{"build_id": %d, "metadata": {"symbolator": [{"name": "x", "json_value": "{oops"}]}}`, id), "json_value"},
			{"binary_value not base64", fmt.Sprintf(`{"build_id": %d, "metadata": {"symbolator": [{"name": "x", "binary_value": "%%%%"}]}}`, id), "binary_value"},
			// Well-formed metadata the service's validation refuses before the store.
			{"NUL in a variable", fmt.Sprintf(`{"build_id": %d, "metadata": {"environment_variables": {"A": "x\u0000y"}}}`, id),
				"The value of environment variable A contains a NUL character."},
			{"long analyzer name", fmt.Sprintf(`{"build_id": %d, "metadata": {"%s": [{"name": "x", "value": "v"}]}}`, id, strings.Repeat("a", 151)),
				"An analyzer name is longer than 150 bytes."},
		} {
			m := wantError(t, srv.post(t, "/ms1/analyze/builds/", []byte(c.body)), http.StatusBadRequest)
			if msg, _ := m["message"].(string); !strings.Contains(msg, c.mentions) {
				t.Errorf("%s: message %q does not name %s", c.name, msg, c.mentions)
			}
		}
		a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/attributes", id))
		if attrs, _ := a.JSON(t)["attributes"].([]any); len(attrs) != 0 {
			t.Errorf("refused requests left attributes: %s", a.Body)
		}

		ok := map[string]any{"config_args": "--prefix=/x"}
		wantError(t, analyze(t, srv, 999999, ok), http.StatusNotFound)
		for _, read := range []string{"install-files", "environment", "config-args", "attributes"} {
			wantError(t, srv.get(t, "/api/v1/builds/999999/"+read), http.StatusNotFound)
		}

		bob, bobKey := srv.addUser(t, "bob", false)
		m := wantError(t, srv.postAs(t, "/ms1/analyze/builds/", map[string]any{"build_id": id, "metadata": ok},
			bearerHeader(srv.token(t, bob, bobKey, ""))), http.StatusForbidden)
		if m["message"] != "You do not own the build and cannot update it." {
			t.Errorf("not owner: %v", m["message"])
		}
		a = srv.get(t, fmt.Sprintf("/api/v1/builds/%d/config-args", id))
		if a.JSON(t)["recorded"] != false {
			t.Errorf("another user's request was recorded: %s", a.Body)
		}
		root, rootKey := srv.addUser(t, "root", true)
		wantEnvelope(t, srv.postAs(t, "/ms1/analyze/builds/", map[string]any{"build_id": id, "metadata": ok},
			bearerHeader(srv.token(t, root, rootKey, "?scope=build,admin"))), http.StatusOK, "Metadata updated")

		a = srv.postAs(t, "/ms1/analyze/builds/", map[string]any{"build_id": id, "metadata": ok}, http.Header{"Authorization": nil})
		wantError(t, a, http.StatusUnauthorized)
		if h := a.Header.Get("Www-Authenticate"); !strings.HasPrefix(h, "Bearer realm=") || !strings.Contains(h, `scope="build"`) {
			t.Errorf("challenge %q", h)
		}

		// Unknown analyzers with null results ask for nothing and are no error.
		wantEnvelope(t, analyze(t, srv, id, map[string]any{"unknown": nil, "config_args": nil}), http.StatusOK, "Metadata updated")
		a = srv.get(t, fmt.Sprintf("/api/v1/builds/%d/config-args", id))
		if a.JSON(t)["config_args"] != "--prefix=/x" {
			t.Errorf("a null config_args changed them: %s", a.Body)
		}
		wantError(t, srv.get(t, "/api/v1/builds/1/install-files?page_token="+url.QueryEscape("!")), http.StatusBadRequest)
		m = wantError(t, srv.get(t, fmt.Sprintf("/api/v1/builds/%d/install-files?type=%s", id, strings.Repeat("t", 26))), http.StatusBadRequest)
		if m["message"] != "The type is longer than 25 bytes." {
			t.Errorf("a long type filter: %v", m["message"])
		}
	})
}

// With private reads, ingest answers the analysis service only because the caller's own
// token travels with its questions: a direct gRPC caller gets the same rules as over HTTP.
func TestAnalysisOverGRPCWithPrivateReads(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv := startServe(t, b.database(t), func(c *serveConfig) { c.PrivateReads = true })
			id := newBuild(t, srv)
			conn, err := server.Dial(srv.GRPCAddr, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := analysisv1.NewAnalysisServiceClient(conn)
			md := []byte(`{"symbolator": [{"install_file": "bin/tar", "name": "symbolator-json", "json_value": {"a": 1}}]}`)
			_, err = client.RecordAnalysis(context.Background(), &analysisv1.RecordAnalysisRequest{BuildId: id, Metadata: md})
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("RecordAnalysis without a token: %v", err)
			}
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
			// A gRPC caller meets the service's validation as an HTTP one does.
			_, err = client.RecordAnalysis(ctx, &analysisv1.RecordAnalysisRequest{BuildId: id, Metadata: []byte(`{"environment_variables": {"": "x"}}`)})
			if reason, _ := errs.FromStatus(status.Convert(err)); status.Code(err) != codes.InvalidArgument || reason != errs.BadRequest {
				t.Errorf("RecordAnalysis with an empty variable name: %v", err)
			}
			resp, err := client.RecordAnalysis(ctx, &analysisv1.RecordAnalysisRequest{BuildId: id, Metadata: md})
			if err != nil || resp.GetBuild().GetBuildId() != id || resp.GetAttributes() != 1 {
				t.Fatalf("RecordAnalysis: %v %v", resp, err)
			}
			if _, err := client.ListAttributes(context.Background(), &analysisv1.ListAttributesRequest{BuildId: id}); status.Code(err) != codes.Unauthenticated {
				t.Errorf("a private read without a token: %v", err)
			}
			specID := num(t, srv.get(t, "/api/v1/specs/"+singularityHash+"?spack_version=1.0.0").JSON(t)["id"])
			attrs, err := client.ListAttributes(ctx, &analysisv1.ListAttributesRequest{SpecId: specID})
			if err != nil || len(attrs.GetAttributes()) != 1 || attrs.GetAttributes()[0].GetInstallFile() != "bin/tar" {
				t.Errorf("attributes of the spec: %v %v", attrs, err)
			}
			v, err := client.GetAttributeValue(ctx, &analysisv1.GetAttributeValueRequest{Id: attrs.GetAttributes()[0].GetId()})
			if err != nil || v.GetJsonValue() != `{"a":1}` {
				t.Errorf("value: %v %v", v, err)
			}
			health, err := grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: analysisv1.AnalysisService_ServiceDesc.ServiceName})
			if err != nil || health.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
				t.Errorf("health: %v %v", err, health)
			}
		})
	}
}

// Spack names the install prefix after the DAG hash, not the full hash (they differ in
// v0.17): a manifest without the .spack folder, all of whose files share a deeper folder,
// still gets paths relative to the prefix.
func TestAnalyzePrefixFromDAGHash(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	id := specAndBuild(t, srv)
	prefix := "/opt/spack/linux-ubuntu20.04-skylake/gcc-9.3.0/singularity-3.8.0-horgiy7swsitni32acyaplwfpbvpv4if"
	entry := map[string]any{"type": "file", "mode": 33261, "owner": 0, "group": 0, "hash": "abc", "size": 3}
	wantEnvelope(t, analyze(t, srv, id, map[string]any{"install_files": map[string]any{
		prefix + "/bin/singularity": entry, prefix + "/bin/run-singularity": entry,
	}}), http.StatusOK, "Metadata updated")
	files, _ := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/install-files", id)).JSON(t)["install_files"].([]any)
	var paths []string
	for _, f := range files {
		paths = append(paths, fmt.Sprint(path(f, "path")))
	}
	if !slices.Equal(paths, []string{"bin/run-singularity", "bin/singularity"}) {
		t.Errorf("paths %v", paths)
	}
}
