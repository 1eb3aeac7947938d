package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spackmon/spackmon/pkg/proctest"
	"github.com/spackmon/spackmon/pkg/server"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// cdashRequest is one request of a CDash client capture (testdata/cdash-client).
type cdashRequest struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Query  [][]string `json:"query"`
	RawB64 string     `json:"raw_b64"`
	Kind   string     `json:"kind"`
}

func (c cdashRequest) param(name string) string {
	for _, kv := range c.Query {
		if len(kv) == 2 && kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

func loadCDashCapture(t testing.TB, name string) []cdashRequest {
	t.Helper()
	var out []cdashRequest
	for _, line := range bytes.Split(readTestdata(t, "cdash-client", name), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c cdashRequest
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, c)
	}
	return out
}

// cdashAnswer is what the server answered one raw request.
type cdashAnswer struct {
	Status    int
	Header    http.Header
	Body      string
	Continued bool // a 100 Continue came before the body was sent
}

var buildIDInAnswer = regexp.MustCompile(`<buildId>(\d+)</buildId>`)

func (a cdashAnswer) buildID() string {
	m := buildIDInAnswer.FindStringSubmatch(a.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// sendRaw sends a captured request byte for byte on a new connection, with its bearer
// token, if any, replaced by token (none added when token is ""): the headers first, and
// the body only after the server's 100 Continue when the client asked for one, as curl
// does for ctest.
func sendRaw(t testing.TB, addr string, raw []byte, token string) cdashAnswer {
	t.Helper()
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("captured request without a header end: %.100q", raw)
	}
	lines := strings.Split(string(head), "\r\n")
	kept := lines[:0]
	expect := false
	for _, l := range lines {
		if strings.HasPrefix(strings.ToLower(l), "authorization:") {
			continue
		}
		expect = expect || strings.EqualFold(l, "Expect: 100-continue")
		kept = append(kept, l)
	}
	if token != "" {
		kept = append(kept, "Authorization: Bearer "+token)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, strings.Join(kept, "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var a cdashAnswer
	if expect {
		// The interim answer, or the final one when the server refuses the body unread.
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusContinue {
			return finish(t, resp, false)
		}
		a.Continued = true
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return finish(t, resp, a.Continued)
}

func finish(t testing.TB, resp *http.Response, continued bool) cdashAnswer {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return cdashAnswer{Status: resp.StatusCode, Header: resp.Header, Body: string(data), Continued: continued}
}

// cdashReplay replays captures against a server and remembers the build each key got.
type cdashReplay struct {
	t        *testing.T
	srv      *testServer
	token    string // the API token sent where the client sent one
	builds   map[string]string
	answered int
	// uploadBuild is the build the upload API's first step answered, which its second step
	// names instead of the capture's.
	uploadBuild string
}

func cdashKeyOf(c cdashRequest) string {
	return strings.Join([]string{c.param("project"), c.param("build"), c.param("site"), c.param("stamp")}, "\x00")
}

// authorized are the captures whose client sent a token ("secret"), or that need one here
// (Spack's query-less URL names no project, so no open one).
var authorized = map[string]bool{
	"ctest-script-full.jsonl": true, "spack-v0.17.2-cdash-auth.jsonl": true, "spack-v0.18-cdash-auth.jsonl": true,
	"spack-v0.18-cdash-url-without-query.jsonl": true,
}

// replay sends every request of a capture, checking each answer is CDash's success.
func (r *cdashReplay) replay(name string) {
	t := r.t
	token := ""
	if authorized[name] {
		token = r.token
	}
	for i, c := range loadCDashCapture(t, name) {
		raw, err := base64.StdEncoding.DecodeString(c.RawB64)
		if err != nil {
			t.Fatal(err)
		}
		label := fmt.Sprintf("%s #%d %s %.80s", name, i, c.Method, c.Path)
		if c.param("buildid") != "" {
			raw = bytes.Replace(raw, []byte("buildid="+c.param("buildid")), []byte("buildid="+r.uploadBuild), 1)
		}
		a := sendRaw(t, strings.TrimPrefix(r.srv.URL, "http://"), raw, token)
		r.answered++
		if a.Status != http.StatusOK {
			t.Errorf("%s: %d %s", label, a.Status, a.Body)
			continue
		}
		if c.param("type") != "" || c.Method == http.MethodPost {
			r.checkUploadAPI(label, c, a)
			continue
		}
		if ct := a.Header.Get("Content-Type"); ct != "text/xml" {
			t.Errorf("%s: Content-Type %q", label, ct)
		}
		low := strings.ToLower(a.Body)
		if !strings.Contains(a.Body, "<status>OK</status>") || strings.Contains(low, "error") || strings.Contains(low, "warning") {
			t.Errorf("%s: not a clean success: %s", label, a.Body)
		}
		_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		sum := md5.Sum(body)
		if !strings.Contains(a.Body, "<md5>"+hex.EncodeToString(sum[:])+"</md5>") {
			t.Errorf("%s: answer without the part's md5: %s", label, a.Body)
		}
		id := a.buildID()
		if id == "" && c.param("build") == "" && strings.HasSuffix(c.param("FileName"), "Done.xml") {
			continue // a Done without names names no build: answered without one
		}
		if id == "" {
			t.Errorf("%s: no buildId: %s", label, a.Body)
			continue
		}
		key := cdashKeyOf(c)
		if c.param("build") == "" {
			key = "names from the part " + name
		}
		if prev, seen := r.builds[key]; seen && prev != id {
			t.Errorf("%s: build %s, want %s as for the earlier parts of %q", label, id, prev, key)
		}
		r.builds[key] = id
	}
}

// checkUploadAPI checks the two steps of ctest's upload API, answered in JSON.
func (r *cdashReplay) checkUploadAPI(label string, c cdashRequest, a cdashAnswer) {
	var m map[string]any
	if err := json.Unmarshal([]byte(a.Body), &m); err != nil {
		r.t.Errorf("%s: answer is not JSON: %s", label, a.Body)
		return
	}
	if m["status"] != float64(0) {
		r.t.Errorf("%s: status %v", label, m["status"])
	}
	if c.Method == http.MethodPost {
		if files, _ := m["datafilesmd5"].([]any); len(files) != 1 || files[0] != float64(0) || m["buildid"] == nil {
			r.t.Errorf("%s: %s", label, a.Body)
		}
		r.uploadBuild = fmt.Sprint(m["buildid"])
		if want := r.builds[cdashKeyOf(cdashRequest{Query: [][]string{{"project", "Demo"}, {"build", "script-build"}, {"site", "capture-site"}, {"stamp", "20261205-0725-Experimental"}}})]; r.uploadBuild != want {
			r.t.Errorf("%s: upload to build %s, want the script's build %s", label, r.uploadBuild, want)
		}
	}
}

func (r *cdashReplay) build(project, build, site, stamp string) int64 {
	r.t.Helper()
	id, ok := r.builds[strings.Join([]string{project, build, site, stamp}, "\x00")]
	if !ok {
		r.t.Fatalf("no build for %s/%s/%s/%s", project, build, site, stamp)
	}
	var n int64
	fmt.Sscan(id, &n)
	return n
}

func openProjects(cfg *serveConfig) { cfg.OpenProjects = []string{"Demo", "Spack"} }

// Every capture of ctest and Spack's CDash reporter, replayed byte for byte against serve
// on SQLite and on PostgreSQL: every answer is CDash's success, one build per
// (project, site, build name, stamp), and what they said is readable through /api/v1.
func TestCDashReplay(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			srv := startServe(t, b.database(t), openProjects)
			replayAllCDash(t, srv)
		})
	}
}

func replayAllCDash(t *testing.T, srv *testServer) *cdashReplay {
	r := &cdashReplay{t: t, srv: srv, token: srv.apiToken, builds: map[string]string{}}
	files, _ := filepath.Glob(testdata(t, "cdash-client", "*.jsonl"))
	negative, _ := filepath.Glob(testdata(t, "cdash-client", "negative", "*.jsonl"))
	sort.Strings(files)
	for _, f := range append(files, negative...) {
		rel, _ := filepath.Rel(testdata(t, "cdash-client"), f)
		r.replay(rel)
	}
	if r.answered < 120 {
		t.Fatalf("replayed %d requests, want every captured one", r.answered)
	}
	checkCTestSuccess(t, srv, r)
	checkCTestScript(t, srv, r)
	checkSpackBuilds(t, srv, r)
	return r
}

func getJSON(t testing.TB, srv *testServer, path string) map[string]any {
	t.Helper()
	a := srv.do(t, http.MethodGet, path, nil, http.Header{"Authorization": nil})
	if a.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, a.Status, a.Body)
	}
	return a.JSON(t)
}

func items(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func phaseNames(b map[string]any) []string {
	var out []string
	for _, p := range items(b["phases"]) {
		out = append(out, fmt.Sprint(p["name"], ":", p["status"]))
	}
	return out
}

func checkCTestSuccess(t *testing.T, srv *testServer, r *cdashReplay) {
	id := r.build("Demo", "Linux-cc", "vm", "20261205-0723-Experimental")
	b := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", id))
	if b["source"] != "cdash" || path(b, "cdash", "project") != "Demo" || path(b, "cdash", "generator") != "ctest-3.25.1" ||
		path(b, "cdash", "track") != "Experimental" || path(b, "spec", "name") != "Linux-cc" || b["status"] != "FAILED" || b["owner"] != "anonymous" {
		t.Errorf("ctest success build: %v", b)
	}
	if got := strings.Join(phaseNames(b), " "); got != "configure:SUCCESS build:SUCCESS test:ERROR" {
		t.Errorf("phases %s", got)
	}
	// The negative captures re-sent these parts up to twice: nothing doubled.
	ev := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events", id))
	events := items(ev["events"])
	if len(events) != 1 || events[0]["kind"] != "warning" || events[0]["source_file"] != "demo.c" || num(t, events[0]["source_line"]) != 9 ||
		!strings.Contains(fmt.Sprint(events[0]["text"]), "unused variable") {
		t.Errorf("events %v", events)
	}
	tests := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/tests", id))["tests"])
	if len(tests) != 2 || tests[0]["name"] != "demo_passes" || tests[0]["status"] != "passed" ||
		tests[1]["name"] != "demo_fails" || tests[1]["status"] != "failed" || tests[1]["exit_value"] != "3" {
		t.Fatalf("tests %v", tests)
	}
	if out := fmt.Sprint(tests[1]["output"]); !strings.Contains(out, "demo: diagnostic line 40 of 40") || !strings.Contains(out, "failing on purpose (status 3)") {
		t.Errorf("demo_fails output not decoded: %q", out)
	}
	failed := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/tests?status=failed", id))["tests"])
	if len(failed) != 1 || failed[0]["name"] != "demo_fails" {
		t.Errorf("failed tests %v", failed)
	}
	checkCTestPages(t, srv, id)
	// buildSummary.php, the link both clients print, leads to the build's page.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		Get(fmt.Sprintf("%s/buildSummary.php?buildid=%d", srv.URL, id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != fmt.Sprintf("/builds/%d", id) {
		t.Errorf("buildSummary: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// checkCTestPages follows the build page of a ctest build to its failed test and to the
// warning, which came without a log: its link shows it with the lines CDash sent around it.
func checkCTestPages(t *testing.T, srv *testServer, id int64) {
	page := string(srv.get(t, fmt.Sprintf("/builds/%d", id)).Body)
	for _, want := range []string{"1 failed", "demo_fails", "failing on purpose (status 3)", fmt.Sprintf(`href="/api/v1/builds/%d/tests"`, id)} {
		if !strings.Contains(page, want) {
			t.Errorf("the build page lacks %q", want)
		}
	}
	link := regexp.MustCompile(`href="(/builds/\d+/phases/build\?line=(\d+)[^"]*)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no link to the warning on the build page:\n%s", page)
	}
	phase := string(srv.get(t, html.UnescapeString(link[1])).Body)
	for _, want := range []string{`id="L` + link[2] + `"`, "unused variable", "No log was sent for this phase"} {
		if !strings.Contains(phase, want) {
			t.Errorf("the warning's page lacks %q:\n%s", want, phase)
		}
	}
}

func checkCTestScript(t *testing.T, srv *testServer, r *cdashReplay) {
	id := r.build("Demo", "script-build", "capture-site", "20261205-0725-Experimental")
	b := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", id))
	if b["owner"] != srv.user || path(b, "cdash", "revision") != "59e015033da64988db5bd3d0b5b92263206cceef" {
		t.Errorf("script build: %v", b)
	}
	if got := strings.Join(phaseNames(b), " "); got != "update:SUCCESS configure:SUCCESS build:SUCCESS test:ERROR" {
		t.Errorf("phases %s", got)
	}
	list := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/attachments", id))["attachments"])
	var names []string
	for _, a := range list {
		names = append(names, fmt.Sprint(a["kind"], ":", filepath.Base(fmt.Sprint(a["name"]))))
	}
	if strings.Join(names, " ") != "note:notes.txt file:demo.c file:notes.txt" {
		t.Fatalf("attachments %v", names)
	}
	note := srv.do(t, http.MethodGet, fmt.Sprintf("/api/v1/builds/%d/attachments/%d", id, num(t, list[0]["id"])), nil, http.Header{"Authorization": nil})
	if note.Status != http.StatusOK || !strings.Contains(string(note.Body), `<tag> & "quotes"`) ||
		note.Header.Get("Content-Type") != "application/octet-stream" || note.Header.Get("Content-Disposition") != `attachment; filename=notes.txt` {
		t.Errorf("note download: %d %v %q", note.Status, note.Header, note.Body)
	}
	// The special names arrive escaped two ways (%20 in build, '(' bare in FileName).
	special := r.build("Demo", "gcc 12 (demo) a+b&c/d=e%f", "site name.example", "20261205-0732-Experimental")
	if sb := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", special)); path(sb, "cdash", "build_name") != "gcc 12 (demo) a+b&c/d=e%f" {
		t.Errorf("special names: %v", sb["cdash"])
	}
	// Launchers: each failing compiler or linker call is an error event.
	lb := r.build("Demo", "launchers-build", "capture-site", "20261205-0725-Experimental")
	errors := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", lb))["events"])
	if len(errors) != 2 || errors[0]["source_file"] != "broken.c" {
		t.Errorf("launcher errors %v", errors)
	}
}

func checkSpackBuilds(t *testing.T, srv *testServer, r *cdashReplay) {
	for _, stamp := range []string{"20261205-0728-Experimental", "20261205-0729-Experimental"} {
		dep := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", r.build("Spack", "mon-root - mon-dep", "vm", stamp)))
		root := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", r.build("Spack", "mon-root - mon-root", "vm", stamp)))
		if path(dep, "spec", "name") != "mon-dep" || path(dep, "cdash", "package") != "mon-dep" || dep["status"] != "SUCCESS" ||
			strings.Join(phaseNames(dep), " ") != "build:SUCCESS update:SUCCESS" {
			t.Errorf("%s mon-dep: %v %v", stamp, dep["spec"], phaseNames(dep))
		}
		if path(root, "spec", "name") != "mon-root" || !strings.HasPrefix(strings.Join(phaseNames(root), " "), "build:SUCCESS update:SUCCESS configure:SUCCESS") {
			t.Errorf("%s mon-root: %v %v", stamp, root["spec"], phaseNames(root))
		}
	}
	for _, stamp := range []string{"20261205-0728-Experimental", "20261205-0730-Experimental"} {
		cf := r.build("Spack", "mon-root ^mon-fail", "vm", stamp)
		b := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", cf))
		if b["status"] != "FAILED" || path(b, "cdash", "update_status") != "Package mon-root does not depend on mon-fail" || path(b, "spec", "name") != "mon-root" {
			t.Errorf("concretization failure %s: %v", stamp, b)
		}
		ev := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", cf))["events"])
		if len(ev) != 1 || ev[0]["text"] != "Package mon-root does not depend on mon-fail" || ev[0]["phase"] != "update" {
			t.Errorf("concretization failure events %v", ev)
		}
		cc := r.build("Spack", "cdcap-cc-fail", "vm", strings.Replace(stamp, "0728", "0729", 1))
		ccb := getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d", cc))
		if ccb["status"] != "FAILED" {
			t.Errorf("cc-fail status %v", ccb["status"])
		}
		errs := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=error", cc))["events"])
		if len(errs) != 1 || errs[0]["source_file"] != "broken.c" || num(t, errs[0]["source_line"]) != 7 {
			t.Errorf("cc-fail errors %v", errs)
		}
		warns := items(getJSON(t, srv, fmt.Sprintf("/api/v1/builds/%d/events?kind=warning", cc))["events"])
		if len(warns) != 1 || !strings.Contains(fmt.Sprint(warns[0]["pre_context"]), "\n==> [") {
			t.Errorf("cc-fail warning (double escaping undone) %v", warns)
		}
	}
	list := getJSON(t, srv, "/api/v1/builds?source=cdash&project=Spack&site=capture-site")
	if n := len(items(list["builds"])); n != 4 {
		t.Errorf("Spack builds at capture-site: %d, want mon-dep and mon-root of two runs", n)
	}
	if ms1 := items(getJSON(t, srv, "/api/v1/builds?source=ms1")["builds"]); len(ms1) != 0 {
		t.Errorf("ms1 builds after CDash submissions: %v", ms1)
	}
}

// Refusals: CDash's ERROR answer with a 4xx, and nothing stored.
func TestCDashRefusals(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(cfg *serveConfig) { cfg.OpenProjects = []string{"Demo"} })
	addr := strings.TrimPrefix(srv.URL, "http://")
	first := loadCDashCapture(t, "ctest-success.jsonl")[0]
	raw, _ := base64.StdEncoding.DecodeString(first.RawB64)
	refused := func(label string, a cdashAnswer, status int, message string) {
		t.Helper()
		if a.Status != status || !strings.Contains(a.Body, "<status>ERROR</status>") || !strings.Contains(a.Body, message) {
			t.Errorf("%s: %d %s, want %d with %q", label, a.Status, a.Body, status, message)
		}
		if a.Status >= 500 {
			t.Errorf("%s: a server error for a client's mistake", label)
		}
	}
	// A wrong MD5.
	wrong := bytes.Replace(raw, []byte("MD5=912be3f0664b523c83be12381780374e"), []byte("MD5=00000000000000000000000000000000"), 1)
	refused("wrong md5", sendRaw(t, addr, wrong, ""), http.StatusBadRequest, "MD5")
	// No build name, neither in the query nor in the part.
	noName := `<Site BuildStamp="20261205-0723-Experimental" Name="s"><Configure><ConfigureStatus>0</ConfigureStatus></Configure></Site>`
	sum := md5.Sum([]byte(noName))
	req := fmt.Sprintf("PUT /submit.php?project=Demo&build=&site=&stamp=&MD5=%x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", sum, len(noName), noName)
	refused("no build name", sendRaw(t, addr, []byte(req), ""), http.StatusBadRequest, "build is missing")
	// A project that is not open, without a token.
	notOpen := bytes.Replace(raw, []byte("project=Demo"), []byte("project=Closed"), 1)
	refused("closed project", sendRaw(t, addr, notOpen, ""), http.StatusUnauthorized, "token")
	// A token that is neither an API token nor a realm token.
	refused("bad token", sendRaw(t, addr, notOpen, "nonsense"), http.StatusUnauthorized, "token")
	// Hostile and malformed parts.
	for name, part := range hostileParts() {
		refused(name, putPart(t, srv, "Demo", part), http.StatusBadRequest, "Invalid part")
	}
	if builds := items(getJSON(t, srv, "/api/v1/builds")["builds"]); len(builds) != 0 {
		t.Errorf("refused parts stored builds: %v", builds)
	}
	// The OpenAPI document lists the new routes, the gateway's own among them.
	doc := getJSON(t, srv, "/api/docs/openapi.json")
	for _, p := range []string{"/submit.php", "/buildSummary.php", "/api/v1/junit", "/api/v1/builds/{build_id}/tests", "/api/v1/builds/{build_id}/attachments/{id}"} {
		if path(doc, "paths", p) == nil {
			t.Errorf("the OpenAPI document lacks %s", p)
		}
	}
	// The closed project takes the part with the user's API token.
	if a := sendRaw(t, addr, notOpen, srv.apiToken); a.Status != http.StatusOK || a.buildID() == "" {
		t.Errorf("closed project with a token: %d %s", a.Status, a.Body)
	}
}

func hostileParts() map[string]string {
	return map[string]string{
		"billion laughs": `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
			`<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Notes><Note Name="n"><Text>&lol3;</Text></Note></Notes></Site>`,
		"external entity": `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			`<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Notes><Note Name="n"><Text>&xxe;</Text></Note></Notes></Site>`,
		"100 levels": `<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Notes>` +
			strings.Repeat("<Note>", 100) + strings.Repeat("</Note>", 100) + `</Notes></Site>`,
		"invalid UTF-8": "<Site BuildName=\"b\" BuildStamp=\"20261205-0723-Experimental\" Name=\"s\"><Notes><Note Name=\"n\"><Text>\xff\xfe</Text></Note></Notes></Site>",
		"malformed":     `<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Build>`,
	}
}

// putPart PUTs a part as ctest does, with its MD5, and no token.
func putPart(t testing.TB, srv *testServer, project, part string) cdashAnswer {
	t.Helper()
	sum := md5.Sum([]byte(part))
	q := url.Values{"project": {project}, "build": {"b"}, "site": {"s"}, "stamp": {"20261205-0723-Experimental"}, "MD5": {hex.EncodeToString(sum[:])}}
	raw := fmt.Sprintf("PUT /submit.php?%s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n%s",
		q.Encode(), len(part), part)
	return sendRaw(t, strings.TrimPrefix(srv.URL, "http://"), []byte(raw), "")
}

// zeros is an endless stream of 'a' bytes, to a limit: a huge body never held in memory.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	z.left -= n
	return int(n), nil
}

// What the server may cost at its peak while it refuses 300 MB parts (it reads at most
// 32 MiB of one, a declared one not at all) and stores a 31 MiB one: about 250 MiB on an
// idle machine (the part's copies between the gateway, ingest, the tree and the store); the
// margin is for a machine so busy that the collector lags behind the copies.
const maxCDashPeakRSS = 768 << 20

// A 300 MB part, declared or streamed, is refused with 413 without being held: declared,
// before its body is asked for (no 100 Continue); streamed in chunks, once it passes the
// limit. The server's peak memory stays bounded, and nothing is stored.
func TestCDashHugePartMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and streams 300 MB")
	}
	srv, proc := startMeasuredServe(t, proctest.Build(t))
	const size = 300 << 20
	query := "/submit.php?project=Demo&build=b&site=s&stamp=20261205-0723-Experimental"

	// Declared: the headers alone, as ctest sends them before waiting for 100 Continue.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", query, size)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	conn.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "<status>ERROR</status>") {
		t.Errorf("declared 300 MB: %d %s", resp.StatusCode, body)
	}

	// Streamed without a length (chunked).
	req, err := http.NewRequest(http.MethodPut, srv.URL+query, io.MultiReader(strings.NewReader(`<Site Name="s"><Notes><Note Name="n"><Text>`), &zeros{left: size}))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	start := time.Now()
	resp, err = srv.client.Do(req)
	took := time.Since(start)
	if err != nil {
		t.Logf("streamed 300 MB: the server closed the connection before the client read its answer: %v", err)
	} else {
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "larger than") {
			t.Errorf("streamed 300 MB: %d %s", resp.StatusCode, body)
		}
	}
	if builds := items(srv.get(t, "/api/v1/builds").JSON(t)["builds"]); len(builds) != 0 {
		t.Errorf("a refused part stored builds: %v", builds)
	}
	// The largest part taken, a 31 MiB note, is stored within the same bound.
	note := `<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Notes><Note Name="n"><Text>` +
		strings.Repeat("a line of notes\n", 31<<20/16) + `</Text></Note></Notes></Site>`
	a := srv.do(t, http.MethodPut, query, []byte(note), nil)
	if a.Status != http.StatusOK || !strings.Contains(string(a.Body), "<buildId>") {
		t.Errorf("31 MiB note: %d %.300s", a.Status, a.Body)
	}
	rss := proc.Stop(t)
	t.Logf("300 MB parts refused (streamed one in %v), a 31 MiB part stored; peak RSS of serve %d MiB", took.Round(time.Millisecond), rss>>20)
	if rss > maxCDashPeakRSS {
		t.Errorf("peak RSS %d MiB, want at most %d MiB", rss>>20, maxCDashPeakRSS>>20)
	}
}

// The same replay against the roles as separate processes of the real binary on
// PostgreSQL: the gateway exchanges API tokens through the auth role and passes parts to
// the ingest role over gRPC.
func TestCDashReplaySeparateRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, _ := startRolesWithUser(t, proctest.Build(t), "ctestuser", "SPACKMON_LOG_LEVEL=warn", "SPACKMON_CDASH_OPEN_PROJECTS=Demo,Spack")
	replayAllCDash(t, srv)
}

// Internal tools reach the CDash and JUnit methods over gRPC with the same rules: a closed
// project needs a realm token, an open one takes a part without, and the reads are there.
func TestCDashOverGRPC(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(cfg *serveConfig) { cfg.OpenProjects = []string{"Open"} })
	conn, err := server.Dial(srv.GRPCAddr, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := ingestv1.NewIngestServiceClient(conn)
	part := loadCDashCapture(t, "ctest-success.jsonl")[2] // Test.xml
	raw, _ := base64.StdEncoding.DecodeString(part.RawB64)
	_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	req := &ingestv1.SubmitCDashPartRequest{Project: "Closed", BuildName: "Linux-cc", Site: "vm", Stamp: "20261205-0723-Experimental", Part: body}
	if _, err := client.SubmitCDashPart(context.Background(), req); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("closed project without a token: %v", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+srv.bearer)
	res, err := client.SubmitCDashPart(ctx, req)
	if err != nil || res.GetKind() != "Test" || res.GetBuildId() == 0 || !res.GetBuildCreated() {
		t.Fatalf("with a realm token: %v %v", res, err)
	}
	req.Project = "Open"
	open, err := client.SubmitCDashPart(context.Background(), req)
	if err != nil || open.GetBuildId() == res.GetBuildId() {
		t.Fatalf("open project: %v %v", open, err)
	}
	tests, err := client.ListBuildTests(context.Background(), &ingestv1.ListBuildTestsRequest{BuildId: res.GetBuildId(), Status: "failed"})
	if err != nil || len(tests.GetTests()) != 1 || tests.GetTests()[0].GetExitValue() != "3" || tests.GetTests()[0].GetOutputTruncated() {
		t.Fatalf("tests %v %v", tests, err)
	}
	b, err := client.GetBuild(context.Background(), &ingestv1.GetBuildRequest{Id: open.GetBuildId()})
	if err != nil || b.GetOwner() != "anonymous" || b.GetSource() != "cdash" || b.GetCdash().GetProject() != "Open" || b.GetTestsFailed() != 1 {
		t.Fatalf("open build %v %v", b, err)
	}
	if _, err := client.ListBuildTests(context.Background(), &ingestv1.ListBuildTestsRequest{BuildId: res.GetBuildId(), Status: "bogus"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad status filter: %v", err)
	}
	// ctest's RepeatCount is kept with the event.
	build := `<Site BuildName="Linux-cc" BuildStamp="20261205-0723-Experimental" Name="vm" Generator="ctest-3.25.1"><Build>` +
		`<Warning><BuildLogLine>4</BuildLogLine><Text>a.c:1:1: warning: x</Text><SourceFile>a.c</SourceFile><SourceLineNumber>1</SourceLineNumber>` +
		`<PreContext>p1` + "\n" + `p2</PreContext><PostContext></PostContext><RepeatCount>3</RepeatCount></Warning></Build></Site>`
	if _, err := client.SubmitCDashPart(ctx, &ingestv1.SubmitCDashPartRequest{Project: "Closed", BuildName: "Linux-cc", Site: "vm",
		Stamp: "20261205-0723-Experimental", Part: []byte(build)}); err != nil {
		t.Fatal(err)
	}
	events, err := client.ListBuildEvents(context.Background(), &ingestv1.ListBuildEventsRequest{BuildId: res.GetBuildId()})
	if err != nil || len(events.GetEvents()) != 1 {
		t.Fatalf("events %v %v", events, err)
	}
	if e := events.GetEvents()[0]; e.GetRepeatCount() != 3 || e.GetLineNo() != 4 || e.GetSourceFile() != "a.c" || e.GetPreContext() != "p1\np2" || e.GetStart() != 2 {
		t.Errorf("event %v", e)
	}
	if _, err := client.SubmitJUnit(context.Background(), &ingestv1.SubmitJUnitRequest{Report: []byte(`<testsuite name="x"><testcase name="a"/></testsuite>`)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("JUnit without a token: %v", err)
	}
}

// With a body limit lower than the largest CDash part, a part or JUnit report past it gets
// 413, as any body past it does; the services take no larger message (it was a 500).
func TestCDashPartsFollowTheBodyLimit(t *testing.T) {
	srv := startServe(t, backends[0].database(t), func(c *serveConfig) {
		c.MaxBodyBytes = 100_000
		c.OpenProjects = []string{"Demo"}
	})
	note := `<Site BuildName="b" BuildStamp="20261205-0723-Experimental" Name="s"><Notes><Note Name="n"><Text>` +
		strings.Repeat("a line of notes\n", 200_000/16) + `</Text></Note></Notes></Site>`
	a := srv.do(t, http.MethodPut, "/submit.php?project=Demo&build=b&site=s&stamp=20261205-0723-Experimental", []byte(note), nil)
	if a.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(a.Body), "larger than 100000 bytes") {
		t.Errorf("part: %d %.300s", a.Status, a.Body)
	}
	report := `<testsuite name="s">` + strings.Repeat(`<testcase name="t" classname="c"/>`, 200_000/35) + `</testsuite>`
	a = srv.do(t, http.MethodPost, "/api/v1/junit?package=zlib", []byte(report), nil)
	if a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("JUnit report: %d %.300s", a.Status, a.Body)
	}
}
