package cdash

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

// captured is one request of a capture file.
type captured struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Query  [][]string `json:"query"`
	Body   string     `json:"body"`
}

func (c captured) param(name string) string {
	for _, kv := range c.Query {
		if len(kv) == 2 && kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// xmlPart reports whether the request carries an XML part (not a step of the upload API).
func (c captured) xmlPart() bool {
	return c.Method == "PUT" && c.param("type") == "" && strings.HasPrefix(c.Body, "<?xml")
}

func readCapture(t testing.TB, name string) []captured {
	t.Helper()
	f, err := os.Open(fixtures.Path(t, "cdash-client", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []captured
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var c captured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parts parses every XML part of a capture.
func parts(t *testing.T, name string) []*Part {
	t.Helper()
	var out []*Part
	for _, c := range readCapture(t, name) {
		if !c.xmlPart() {
			continue
		}
		p, err := Parse([]byte(c.Body))
		if err != nil {
			t.Fatalf("%s %s: %v", name, c.Path, err)
		}
		out = append(out, p)
	}
	return out
}

func TestParseEveryCapture(t *testing.T) {
	files, err := filepath.Glob(fixtures.Path(t, "cdash-client", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	negative, _ := filepath.Glob(fixtures.Path(t, "cdash-client", "negative", "*.jsonl"))
	files = append(files, negative...)
	if len(files) < 25 {
		t.Fatalf("found %d capture files, want every one of the test data", len(files))
	}
	kinds := map[Kind]int{}
	for _, f := range files {
		rel, _ := filepath.Rel(fixtures.Path(t, "cdash-client"), f)
		for _, p := range parts(t, rel) {
			kinds[p.Kind]++
			if p.Kind != Done && p.Site.BuildStamp == "" {
				t.Errorf("%s: a %s part without a build stamp", rel, p.Kind)
			}
		}
	}
	for _, k := range []Kind{Update, Configure, Build, Test, Notes, Upload, Done} {
		if kinds[k] == 0 {
			t.Errorf("no %s part parsed from the captures", k)
		}
	}
}

func TestCTestSuccess(t *testing.T) {
	ps := parts(t, "ctest-success.jsonl")
	if len(ps) != 4 || ps[0].Kind != Configure || ps[1].Kind != Build || ps[2].Kind != Test || ps[3].Kind != Done {
		t.Fatalf("parts %v, want Configure, Build, Test, Done", kindsOf(ps))
	}
	site := ps[0].Site
	if site.BuildName != "Linux-cc" || site.Name != "vm" || site.BuildStamp != "20261205-0723-Experimental" ||
		site.Generator != "ctest-3.25.1" || site.OSName != "Linux" || site.OSPlatform != "x86_64" || ps[0].FromSpack {
		t.Errorf("site %+v", site)
	}
	if c := ps[0].Configure; c.Status != 0 || !strings.Contains(c.Log, "-- Configuring done") || !strings.Contains(c.Command, "/usr/bin/cmake") {
		t.Errorf("configure %+v", c)
	}
	b := ps[1].Build
	if len(b.Events) != 1 {
		t.Fatalf("build events %+v, want the one warning", b.Events)
	}
	w := b.Events[0]
	if w.Kind != "warning" || w.SourceFile != "demo.c" || w.SourceLine != 9 || w.LogLine != 3 ||
		!strings.Contains(w.Text, "unused variable") || !strings.Contains(w.PostContext, "Built target demo") {
		t.Errorf("warning %+v", w)
	}
	tests := ps[2].Test.Tests
	if len(tests) != 2 {
		t.Fatalf("tests %+v", tests)
	}
	if tests[0].Name != "demo_passes" || tests[0].Status != "passed" || tests[0].Output != "demo: asked to exit with 0\n" || tests[0].Duration <= 0 {
		t.Errorf("demo_passes %+v", tests[0])
	}
	f := tests[1]
	if f.Name != "demo_fails" || f.Status != "failed" || f.ExitValue != "3" || f.ExitCode != "Failed" || f.CompletionStatus != "Completed" {
		t.Errorf("demo_fails %+v", f)
	}
	// The 40-line output was sent zlib-compressed and base64-encoded.
	if !strings.Contains(f.Output, "demo: diagnostic line 40 of 40") || !strings.Contains(f.Output, "demo: failing on purpose (status 3)") {
		t.Errorf("demo_fails output not decoded: %q", f.Output)
	}
	if ps[3].DoneBuildID != "1" {
		t.Errorf("done build id %q", ps[3].DoneBuildID)
	}
}

func TestCTestScriptFull(t *testing.T) {
	ps := parts(t, "ctest-script-full.jsonl")
	if got := kindsOf(ps); strings.Join(got, ",") != "Update,Configure,Build,Test,Notes,Upload,Done" {
		t.Fatalf("parts %v", got)
	}
	u := ps[0]
	if u.Update.Revision != "59e015033da64988db5bd3d0b5b92263206cceef" || u.Update.Type != "GIT" || u.Update.Files != 1 ||
		u.Site.Name != "capture-site" || u.Site.BuildName != "script-build" {
		t.Errorf("update %+v %+v", u.Site, u.Update)
	}
	n := ps[4].Notes
	if len(n) != 1 || !strings.HasSuffix(n[0].Name, "notes.txt") || !strings.Contains(n[0].Text, `<tag> & "quotes"`) {
		t.Errorf("notes %+v", n)
	}
	f := ps[5].Files
	if len(f) != 1 || !strings.HasSuffix(f[0].Name, "demo.c") || !bytes.Contains(f[0].Content, []byte("int main(int argc")) {
		t.Errorf("files %+v", f)
	}
}

func TestLaunchersFailure(t *testing.T) {
	var build *Part
	for _, p := range parts(t, "ctest-launchers-build-failure.jsonl") {
		if p.Kind == Build {
			build = p
		}
	}
	if build == nil || len(build.Build.Events) != 2 {
		t.Fatalf("build %+v", build)
	}
	e := build.Build.Events[0]
	if e.Kind != "error" || e.SourceFile != "broken.c" || !strings.Contains(e.Text, "error: ‘undeclared_value’ undeclared") ||
		strings.Contains(e.PostContext, "[CTest: warning matched]") || !strings.Contains(e.PreContext, "/usr/bin/cc") {
		t.Errorf("first failure %+v", e)
	}
	if e := build.Build.Events[1]; !strings.Contains(e.Text, "ld returned 1 exit status") || !strings.Contains(e.PreContext, "cannot find") {
		t.Errorf("link failure %+v", e)
	}
}

func TestSpackParts(t *testing.T) {
	for _, v := range []string{"v0.17.2", "v0.18"} {
		ps := parts(t, "spack-"+v+"-cdash-success.jsonl")
		if got := kindsOf(ps); strings.Join(got, ",") != "Build,Update,Build,Update,Configure" {
			t.Fatalf("%s parts %v", v, got)
		}
		if ps[0].Site.BuildName != "mon-root - mon-dep" || !ps[0].FromSpack || ps[0].Site.OSName != "Linux" {
			t.Errorf("%s first part %+v", v, ps[0].Site)
		}
		if ps[1].Site.BuildName != "mon-root - mon-dep" || ps[1].Update.Revision == "" || ps[1].Site.Name != "vm" {
			t.Errorf("%s update %+v %+v", v, ps[1].Site, ps[1].Update)
		}

		cc := parts(t, "spack-"+v+"-cdash-cc-error.jsonl")
		events := cc[0].Build.Events
		if len(events) != 2 || events[0].Kind != "warning" || events[1].Kind != "error" {
			t.Fatalf("%s cc-error events %+v", v, events)
		}
		// Double escaping undone: the log line read "==> [...]".
		if !strings.Contains(events[0].PreContext, "\n==> [") || events[1].SourceFile != "broken.c" || events[1].SourceLine != 7 {
			t.Errorf("%s events %+v", v, events)
		}

		cf := parts(t, "spack-"+v+"-cdash-concretization-failure.jsonl")
		if len(cf) != 1 || cf[0].Update.Status != "Package mon-root does not depend on mon-fail" || cf[0].Site.BuildName != "mon-root ^mon-fail" {
			t.Errorf("%s concretization failure %+v", v, cf)
		}

		tr := parts(t, "spack-"+v+"-cdash-test-run.jsonl")
		if tr[0].Kind != Test || tr[0].Test.Command != "mon-root" || len(tr[0].Test.Tests) != 0 {
			t.Errorf("%s test run %+v", v, tr[0])
		}
	}
}

func TestHostileParts(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	cases := map[string]string{
		"billion laughs":    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Done><buildId>&lol2;</buildId></Done>`,
		"external entity":   `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Done><buildId>&xxe;</buildId></Done>`,
		"undeclared entity": `<Done><buildId>&xxe;</buildId></Done>`,
		"100 levels":        `<Site Name="s"><Notes>` + deep + `</Notes></Site>`,
		"invalid UTF-8":     "<Done><buildId>\xff\xfe</buildId></Done>",
		"latin-1":           `<?xml version="1.0" encoding="ISO-8859-1"?><Done><buildId>1</buildId></Done>`,
		"truncated":         `<Site Name="s"><Build>`,
		"two roots":         `<Done/><Done/>`,
		"empty":             ``,
		"unknown root":      `<Project/>`,
		"unknown part":      `<Site><Coverage/></Site>`,
		"bad zlib":          `<Site><Testing><Test Status="passed"><Name>x</Name><Results><Measurement><Value encoding="base64" compression="gzip">aGVsbG8=</Value></Measurement></Results></Test></Testing></Site>`,
		"bad line number":   `<Site><Build><Error><BuildLogLine>x</BuildLogLine></Error></Build></Site>`,
	}
	for name, body := range cases {
		if _, err := Parse([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", name, err)
		}
	}
}

// A zlib bomb: a few kilobytes that inflate to far more than a test's output may be.
func TestCompressedOutputIsBounded(t *testing.T) {
	var z bytes.Buffer
	w := newZlib(&z)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 2 * MaxDecodedOutput >> 20 {
		_, _ = w.Write(chunk)
	}
	_ = w.Close()
	body := `<Site><Testing><Test Status="passed"><Name>x</Name><Results><Measurement><Value encoding="base64" compression="gzip">` +
		b64(z.Bytes()) + `</Value></Measurement></Results></Test></Testing></Site>`
	if _, err := Parse([]byte(body)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "inflates beyond") {
		t.Fatalf("error %v", err)
	}
}

func kindsOf(ps []*Part) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.Kind)
	}
	return out
}
