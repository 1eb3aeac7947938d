package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/authn"
	"github.com/spackmon/spackmon/pkg/signing"
)

// exchange is one captured request of the real Spack client with the stub's answer.
type exchange struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	StubCode int
	StubBody map[string]any
}

func loadCapture(t *testing.T, name string) []exchange {
	t.Helper()
	var out []exchange
	sc := bufio.NewScanner(bytes.NewReader(readTestdata(t, "spack-client", name)))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			exchange
			Resp     *int           `json:"resp"`
			RespBody map[string]any `json:"resp_body"`
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if line.Resp != nil {
			out[len(out)-1].StubCode, out[len(out)-1].StubBody = *line.Resp, line.RespBody
			continue
		}
		out = append(out, line.exchange)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// replay keeps what the client told the server, to predict answers and check the stored
// state afterwards.
type replay struct {
	t        *testing.T
	srv      *testServer
	ids      map[int64]int64 // the stub's build id -> ours
	specs    map[string]bool // spec keys seen
	builds   map[string]int64
	expected map[int64]*expectedBuild
	// nodes indexes every node posted by full_hash and by hash, for the cascade of FAILED.
	nodes map[string]map[string]any
	// tokens maps the stub's realm tokens to ours; expired holds those the stub had expired
	// by the time the client sent them, which the replay sends expired too.
	tokens  map[string]string
	expired map[string]bool
	// challenge is the last challenge our server answered with.
	challenge authn.Challenge
}

func newReplay(t *testing.T, srv *testServer) *replay {
	// The replay authenticates exactly as the captured client did, not as the harness does.
	srv.bearer = ""
	return &replay{t: t, srv: srv, ids: map[int64]int64{}, specs: map[string]bool{},
		builds: map[string]int64{}, expected: map[int64]*expectedBuild{},
		tokens: map[string]string{}, expired: map[string]bool{}}
}

type expectedBuild struct {
	name, hash string
	status     string
	tags       []string
	phases     map[string]*string // nil: posted as null
	phaseState map[string]string
	// What spack analyze posted: the manifest's paths, the environment, the configure
	// arguments (nil: none posted).
	installFiles map[string]bool
	env          map[string]any
	configArgs   *string
}

func TestReplaySpackClient(t *testing.T) {
	captures := []string{
		"v0.17.2-install.jsonl", "v0.17.2-install-failure.jsonl", "v0.18-install.jsonl",
		"v0.18-install-failure.jsonl", "v0.18-concretization-failure.jsonl", "v0.17.2-reinstall.jsonl",
		"v0.17.2-analyze.jsonl", "v0.18-analyze.jsonl", "v0.17.2-monitor-upload.jsonl", "v0.17.2-token-expiry.jsonl",
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, name := range captures {
				t.Run(name, func(t *testing.T) {
					capture := loadCapture(t, name)
					// A capture taken against an open server is replayed against one.
					open := !slices.ContainsFunc(capture, func(ex exchange) bool { return strings.HasPrefix(ex.Path, "/auth/token") })
					r := newReplay(t, startServe(t, b.database(t), func(c *serveConfig) { c.DisableAuth = open }))
					for i, ex := range capture {
						r.send(i, ex)
					}
					r.checkStored()
				})
			}
		})
	}
}

// send replays one request with the credentials the client had: our user's API token for the
// realm, our token in place of each of the stub's, and an expired one where the stub had
// expired it. Where the stub challenged, our server must challenge too.
func (r *replay) send(i int, ex exchange) {
	t := r.t
	label := fmt.Sprintf("request %d %s %s", i, ex.Method, ex.Path)
	if strings.HasPrefix(ex.Path, "/auth/token") {
		r.fetchToken(label, ex)
		return
	}
	header := http.Header{"Authorization": nil}
	for k, v := range ex.Headers {
		if k != "Authorization" && k != "Content-Length" && k != "Host" {
			header.Set(k, v)
		}
	}
	stubToken, sentToken := authn.BearerToken(ex.Headers["Authorization"])
	if sentToken {
		if ex.StubCode == http.StatusUnauthorized {
			r.expired[stubToken] = true
		}
		header.Set("Authorization", "Bearer "+r.ourToken(label, stubToken))
	}
	var body map[string]any
	if ex.Body != "" {
		dec := json.NewDecoder(strings.NewReader(ex.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	raw := []byte(ex.Body)
	if id, ok := body["build_id"]; ok {
		body["build_id"] = json.Number(fmt.Sprint(r.ids[num(t, id)]))
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	a := r.srv.do(t, ex.Method, ex.Path, raw, header)
	if ex.StubCode == http.StatusUnauthorized {
		r.checkChallenge(label, a, sentToken)
		return
	}
	switch ex.Path {
	case "/ms1/":
		r.checkServiceInfo(label, a)
	case "/ms1/specs/new/":
		r.checkNewSpec(label, body, a)
	case "/ms1/builds/new/":
		r.checkNewBuild(label, ex, body, a)
	case "/ms1/builds/phases/update/":
		r.checkPhase(label, body, a)
	case "/ms1/builds/update/":
		r.checkStatus(label, body, a)
	case "/ms1/analyze/builds/":
		r.checkAnalyze(label, body, a)
	default:
		t.Fatalf("%s: not a path of the protocol", label)
	}
}

// fetchToken asks our realm for a token as Spack does: Basic credentials, and the service of
// the challenge in a Service header.
func (r *replay) fetchToken(label string, ex exchange) {
	t := r.t
	if r.challenge.Service == "" {
		t.Fatalf("%s: the client asks for a token before any challenge", label)
	}
	header := basic(r.srv.user, r.srv.apiToken)
	header.Set("Service", r.challenge.Service)
	header.Set("Accept", "application/json")
	header.Set("User-Agent", "spackmoncli")
	a := r.srv.do(t, http.MethodGet, strings.TrimPrefix(r.challenge.Realm, r.srv.URL), nil, header)
	if a.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", label, a.Status, a.Body)
	}
	m := a.JSON(t)
	tok, _ := m["token"].(string)
	if tok == "" || m["access_token"] != tok || num(t, m["expires_in"]) != int64(signing.DefaultTTL.Seconds()) {
		t.Fatalf("%s: token answer %s", label, a.Body)
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(m["issued_at"])); err != nil || len(m) != 4 {
		t.Errorf("%s: token answer %s: want exactly token, access_token, expires_in, issued_at (RFC 3339)", label, a.Body)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", label, cc)
	}
	stub, _ := ex.StubBody["token"].(string)
	r.tokens[stub] = tok
}

// ourToken is the token to send where the client sent the stub's token stub.
func (r *replay) ourToken(label, stub string) string {
	tok, ok := r.tokens[stub]
	if !ok {
		r.t.Fatalf("%s: the client sends a token %q the realm never gave", label, stub)
	}
	if r.expired[stub] {
		return expiredCopy(r.t, r.srv, tok)
	}
	return tok
}

// checkChallenge checks a refusal the way Spack reads it: 401, and a challenge that its regex
// parses to our realm, service and scope.
func (r *replay) checkChallenge(label string, a answer, sentToken bool) {
	t := r.t
	if a.Status != http.StatusUnauthorized {
		t.Fatalf("%s: %d, want 401: %s", label, a.Status, a.Body)
	}
	c, err := authn.ParseChallenge(a.Header.Get("Www-Authenticate"))
	if err != nil {
		t.Fatalf("%s: challenge %q: %v", label, a.Header.Get("Www-Authenticate"), err)
	}
	want := authn.Challenge{Realm: r.srv.realm, Service: r.srv.URL, Scope: "build"}
	if sentToken {
		want.Error = authn.InvalidToken
	}
	if c != want {
		t.Errorf("%s: challenge %+v, want %+v", label, c, want)
	}
	r.challenge = c
}

func (r *replay) checkServiceInfo(label string, a answer) {
	if a.Status != http.StatusOK {
		r.t.Fatalf("%s: status %d", label, a.Status)
	}
	m := a.JSON(r.t)
	for _, k := range []string{"id", "status", "name", "description", "organization", "contactUrl",
		"documentationUrl", "createdAt", "updatedAt", "environment", "version", "auth_instructions_url"} {
		if _, ok := m[k]; !ok {
			r.t.Errorf("%s: service info lacks %q", label, k)
		}
	}
	if m["id"] != "spackmon" || m["status"] != "running" || m["version"] == "" {
		r.t.Errorf("%s: service info %v", label, m)
	}
}

// rootOf returns the root node of a spec document in any layout this replay sends.
func rootOf(doc any) map[string]any {
	for {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		if inner, ok := m["spec"]; ok {
			doc = inner
			continue
		}
		nodes, _ := m["nodes"].([]any)
		if len(nodes) == 0 {
			return nil
		}
		root, _ := nodes[0].(map[string]any)
		return root
	}
}

func (r *replay) checkNewSpec(label string, body map[string]any, a answer) {
	t := r.t
	root := rootOf(body["spec"])
	fullHash, _ := root["full_hash"].(string)
	key := fmt.Sprint(root["name"], "/", fullHash, "/", root["hash"], "/", body["spack_version"])
	status := http.StatusCreated
	if r.specs[key] {
		status = http.StatusOK
	}
	r.specs[key] = true
	r.index(body["spec"])
	m := wantEnvelope(t, a, status, "success")
	if created := path(m, "data", "created"); created != (status == http.StatusCreated) {
		t.Errorf("%s: created %v", label, created)
	}
	if got := path(m, "data", "spec", "name"); got != root["name"] {
		t.Errorf("%s: spec name %v, want %v", label, got, root["name"])
	}
	if fullHash != "FAILED_CONCRETIZATION" && path(m, "data", "spec", "full_hash") != fullHash {
		t.Errorf("%s: full_hash %v, want %v", label, path(m, "data", "spec", "full_hash"), fullHash)
	}
	if path(m, "data", "spec", "spack_version") != body["spack_version"] {
		t.Errorf("%s: spack_version %v", label, path(m, "data", "spec", "spack_version"))
	}
	deps, _ := root["dependencies"].([]any)
	specs, _ := path(m, "data", "spec", "specs").(map[string]any)
	if len(specs) != len(deps) {
		t.Errorf("%s: %d dependencies in specs, want %d", label, len(specs), len(deps))
	}
}

func (r *replay) checkNewBuild(label string, ex exchange, body map[string]any, a answer) {
	t := r.t
	key := fmt.Sprint(body["full_hash"], body["spack_version"], body["hostname"], body["kernel_version"],
		body["host_os"], body["host_target"], body["platform"])
	status := http.StatusCreated
	if _, seen := r.builds[key]; seen {
		status = http.StatusOK
	}
	m := wantEnvelope(t, a, status, "Build get or create was successful.")
	if path(m, "data", "build_created") != (status == http.StatusCreated) {
		t.Errorf("%s: build_created %v", label, path(m, "data", "build_created"))
	}
	id := num(t, path(m, "data", "build", "build_id"))
	if prev, seen := r.builds[key]; seen && prev != id {
		t.Errorf("%s: repeat gave build %d, first gave %d", label, id, prev)
	}
	r.builds[key] = id
	r.ids[num(t, path(ex.StubBody, "data", "build", "build_id"))] = id
	name, _ := path(m, "data", "build", "spec_name").(string)
	if name == "" || path(m, "data", "build", "spec_full_hash") == "" {
		t.Errorf("%s: build without spec: %v", label, m["data"])
	}
	if r.expected[id] == nil {
		var tags []string
		if s, ok := body["tags"].(string); ok {
			tags = strings.Split(s, ",")
		}
		r.expected[id] = &expectedBuild{name: name, hash: body["full_hash"].(string), status: "NOTRUN", tags: tags,
			phases: map[string]*string{}, phaseState: map[string]string{}}
	}
}

func (r *replay) checkPhase(label string, body map[string]any, a answer) {
	name, _ := body["phase_name"].(string)
	m := wantEnvelope(r.t, a, http.StatusOK, "Phase "+name+" was successfully updated.")
	if path(m, "data", "build_phase", "name") != name || path(m, "data", "build_phase", "status") != body["status"] {
		r.t.Errorf("%s: build_phase %v", label, path(m, "data", "build_phase"))
	}
	num(r.t, path(m, "data", "build_phase", "id"))
	b := r.expected[num(r.t, body["build_id"])]
	var out *string
	if s, ok := body["output"].(string); ok {
		out = &s
	}
	b.phases[name] = out
	b.phaseState[name] = body["status"].(string)
}

func (r *replay) checkStatus(label string, body map[string]any, a answer) {
	m := wantEnvelope(r.t, a, http.StatusOK, "Status updated")
	id := num(r.t, body["build_id"])
	if got := num(r.t, path(m, "data", "build", "build_id")); got != id {
		r.t.Errorf("%s: build %d, want %d", label, got, id)
	}
	r.expected[id].status = body["status"].(string)
	if r.expected[id].status == "FAILED" {
		r.cascade(r.expected[id])
	}
}

func (r *replay) checkAnalyze(label string, body map[string]any, a answer) {
	m := wantEnvelope(r.t, a, http.StatusOK, "Metadata updated")
	id := num(r.t, body["build_id"])
	b := r.expected[id]
	if got := num(r.t, path(m, "data", "build", "build_id")); got != id || path(m, "data", "build", "spec_name") != b.name {
		r.t.Errorf("%s: build %v, want %d %s", label, path(m, "data", "build"), id, b.name)
	}
	md, _ := body["metadata"].(map[string]any)
	if files, ok := md["install_files"].(map[string]any); ok {
		if b.installFiles == nil {
			b.installFiles = map[string]bool{}
		}
		for p := range files {
			b.installFiles[p] = true
		}
	}
	if env, ok := md["environment_variables"].(map[string]any); ok {
		b.env = env
	}
	if args, ok := md["config_args"].(string); ok {
		b.configArgs = &args
	}
}

// checkAnalysis reads back what spack analyze posted about build id.
func (r *replay) checkAnalysis(id int64, want *expectedBuild) {
	t := r.t
	if want.installFiles != nil {
		a := r.srv.get(t, fmt.Sprintf("/api/v1/builds/%d/install-files?page_size=1000", id))
		files, _ := a.JSON(t)["install_files"].([]any)
		if a.Status != http.StatusOK || len(files) != len(want.installFiles) {
			t.Errorf("build %d: %d install files, want %d: %s", id, len(files), len(want.installFiles), a.Body)
		}
		// Spack writes its .spack directory into the install prefix, and lists it.
		prefix := ""
		for p := range want.installFiles {
			if strings.HasSuffix(p, "/.spack") && (prefix == "" || len(p) < len(prefix)+len("/.spack")) {
				prefix = strings.TrimSuffix(p, "/.spack")
			}
		}
		for _, f := range files {
			p, _ := path(f, "path").(string)
			abs := prefix + "/" + p
			if p == "." {
				abs = prefix
			}
			if !want.installFiles[abs] {
				t.Errorf("build %d: install file %q is not a path of the manifest relative to %s", id, p, prefix)
			}
		}
	}
	if want.env != nil {
		a := r.srv.get(t, fmt.Sprintf("/api/v1/builds/%d/environment", id))
		vars, _ := a.JSON(t)["variables"].([]any)
		if len(vars) != len(want.env) {
			t.Errorf("build %d: %d variables, want %d", id, len(vars), len(want.env))
		}
		for _, v := range vars {
			name, _ := path(v, "name").(string)
			if path(v, "value") != want.env[name] {
				t.Errorf("build %d: %s = %v, want %v", id, name, path(v, "value"), want.env[name])
			}
		}
	}
	if want.configArgs != nil {
		a := r.srv.get(t, fmt.Sprintf("/api/v1/builds/%d/config-args", id))
		if a.JSON(t)["config_args"] != *want.configArgs {
			t.Errorf("build %d: config args %s, want %q", id, a.Body, *want.configArgs)
		}
	}
}

// index remembers the nodes of a posted document.
func (r *replay) index(doc any) {
	if r.nodes == nil {
		r.nodes = map[string]map[string]any{}
	}
	for m, ok := doc.(map[string]any); ok; m, ok = doc.(map[string]any) {
		if inner, nested := m["spec"]; nested {
			doc = inner
			continue
		}
		nodes, _ := m["nodes"].([]any)
		for _, n := range nodes {
			node, _ := n.(map[string]any)
			for _, k := range []string{"full_hash", "hash"} {
				if h, ok := node[k].(string); ok {
					r.nodes[h] = node
				}
			}
		}
		return
	}
}

// cascade is what PROTOCOL.md and Spack ask of a FAILED build: the same owner's builds in
// the same environment of its direct dependencies that never got a status are settled,
// FAILED when one of their phases failed (the package that really broke), else CANCELLED.
func (r *replay) cascade(failed *expectedBuild) {
	node := r.nodes[failed.hash]
	deps, _ := node["dependencies"].([]any)
	for _, d := range deps {
		dep := map[string]bool{}
		for _, k := range []string{"full_hash", "hash", "build_hash"} {
			if ref, ok := d.(map[string]any)[k].(string); ok {
				if n := r.nodes[ref]; n != nil {
					dep[fmt.Sprint(n["full_hash"])], dep[fmt.Sprint(n["hash"])] = true, true
				}
			}
		}
		for _, b := range r.expected {
			if !dep[b.hash] || b.status != "NOTRUN" {
				continue
			}
			b.status = "CANCELLED"
			for _, st := range b.phaseState {
				if st == "ERROR" {
					b.status = "FAILED"
				}
			}
		}
	}
}

// checkStored reads every build back through /api/v1 and compares it with what was sent.
func (r *replay) checkStored() {
	t := r.t
	for id, want := range r.expected {
		a := r.srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id))
		if a.Status != http.StatusOK {
			t.Fatalf("build %d: %d %s", id, a.Status, a.Body)
		}
		b := a.JSON(t)
		if b["status"] != want.status {
			t.Errorf("build %d: status %v, want %v", id, b["status"], want.status)
		}
		if path(b, "spec", "name") != want.name {
			t.Errorf("build %d: spec %v, want %v", id, path(b, "spec", "name"), want.name)
		}
		if got := fmt.Sprint(b["tags"]); len(want.tags) > 0 && got != fmt.Sprint(anySlice(want.tags)) {
			t.Errorf("build %d: tags %v, want %v", id, got, want.tags)
		}
		if want.status == "NOTRUN" && b["finished_at"] != nil {
			t.Errorf("build %d: finished_at %v for a build that did not finish", id, b["finished_at"])
		}
		phases, _ := b["phases"].([]any)
		if len(phases) != len(want.phases) {
			t.Errorf("build %d: %d phases, want %d", id, len(phases), len(want.phases))
		}
		for _, p := range phases {
			name, _ := path(p, "name").(string)
			if path(p, "status") != want.phaseState[name] {
				t.Errorf("build %d phase %s: status %v, want %v", id, name, path(p, "status"), want.phaseState[name])
			}
			r.checkOutput(id, name, want.phases[name])
		}
		r.checkAnalysis(id, want)
	}
}

func (r *replay) checkOutput(id int64, phase string, want *string) {
	a := r.srv.get(r.t, fmt.Sprintf("/api/v1/builds/%d/phases/%s/output", id, phase))
	if a.Status != http.StatusOK {
		r.t.Fatalf("output of build %d phase %s: %d %s", id, phase, a.Status, a.Body)
	}
	wantText := ""
	if want != nil {
		wantText = *want
	}
	if string(a.Body) != wantText {
		r.t.Errorf("output of build %d phase %s: %q, want %q", id, phase, a.Body, wantText)
	}
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
