package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
)

// tourFixture is what the tour posts: a failed build of singularity with a long log and
// analysis results, and a successful one on another host whose results differ.
type tourFixture struct{ failed, ok int64 }

func seedTour(t *testing.T, srv *testServer) tourFixture {
	t.Helper()
	f := tourFixture{failed: failedBuild(t, srv, 1000, 600)}
	other := maps.Clone(buildEnv)
	other["hostname"] = "builder2"
	other["tags"] = "nightly"
	a := srv.post(t, "/ms1/builds/new/", other)
	if a.Status != http.StatusCreated {
		t.Fatalf("second build: %d %s", a.Status, a.Body)
	}
	f.ok = num(t, path(a.JSON(t), "data", "build", "build_id"))
	if a := srv.post(t, "/ms1/builds/update/", map[string]any{"build_id": f.ok, "status": "SUCCESS"}); a.Status != http.StatusOK {
		t.Fatalf("status: %d %s", a.Status, a.Body)
	}
	manifest := readTestdata(t, "dummy-tar-spack", "install_manifest.json")
	env := spackBuildEnv(t)
	configArgs := string(readTestdata(t, "dummy-tar-spack", "spack-configure-args.txt"))
	if a := analyze(t, srv, f.failed, map[string]any{"install_files": json.RawMessage(manifest), "environment_variables": env, "config_args": configArgs,
		"libabigail": []any{map[string]any{"install_file": "bin/tar", "name": "abidw-xml", "value": "<abi-corpus path='bin/tar'/>"}}}); a.Status != http.StatusOK {
		t.Fatalf("analyze: %d %s", a.Status, a.Body)
	}
	env["SPACK_CC"] = "/usr/bin/clang"
	var files map[string]map[string]any
	dec := json.NewDecoder(bytes.NewReader(manifest))
	dec.UseNumber()
	if err := dec.Decode(&files); err != nil {
		t.Fatal(err)
	}
	for p, attrs := range files {
		if attrs["type"] == "file" {
			attrs["hash"] = "changed"
			files[p] = attrs
			break
		}
	}
	changed, err := json.Marshal(files)
	if err != nil {
		t.Fatal(err)
	}
	if a := analyze(t, srv, f.ok, map[string]any{"install_files": json.RawMessage(changed), "environment_variables": env, "config_args": configArgs + " --enable-shared"}); a.Status != http.StatusOK {
		t.Fatalf("analyze: %d %s", a.Status, a.Body)
	}
	return f
}

// TestOverviewJSON reads what the pages show as JSON, from /api/v1.
func TestOverviewJSON(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	f := seedTour(t, srv)
	get := func(p string) map[string]any {
		t.Helper()
		a := srv.get(t, p)
		if a.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, a.Status, a.Body)
		}
		return a.JSON(t)
	}
	days, _ := get("/api/v1/build-counts?days=7")["days"].([]any)
	if len(days) != 7 {
		t.Fatalf("%d days, want 7", len(days))
	}
	today, _ := days[6].(map[string]any)
	if today["success"] != json.Number("1") || today["failed"] != json.Number("1") {
		t.Errorf("today's counts %v, want one success and one failure", today)
	}
	specs, _ := get("/api/v1/spec-builds?full_hashes=" + singularityHash + "&full_hashes=nope")["specs"].([]any)
	if len(specs) != 1 || len(path(specs[0], "builds").([]any)) != 2 {
		t.Errorf("spec builds %v, want the two builds of singularity", specs)
	}
	m := get("/api/v1/matrix?package=singularity")
	cells, _ := m["cells"].([]any)
	if fmt.Sprint(m["versions"]) != "[3.8.0]" || fmt.Sprint(m["compilers"]) != "[gcc@9.3.0]" || len(cells) != 1 ||
		path(cells[0], "success") != json.Number("1") || path(cells[0], "failed") != json.Number("1") {
		t.Errorf("matrix %v", m)
	}
	lines, _ := get(fmt.Sprintf("/api/v1/builds/%d/phases/build/grep?text=UNDECLARED", f.failed))["lines"].([]any)
	if len(lines) != 1 || path(lines[0], "line_no") != json.Number("600") {
		t.Errorf("grep: %v", lines)
	}
	g := get(fmt.Sprintf("/api/v1/builds/%d/phases/build/grep?text=unit&page_size=10", f.failed))
	if l, _ := g["lines"].([]any); len(l) != 10 || g["next_page_token"] == "" {
		t.Errorf("a page of grep: %v", g)
	}
	if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/grep?text=", f.failed)); a.Status != http.StatusBadRequest {
		t.Errorf("grep for nothing: %d %s", a.Status, a.Body)
	}
	d := get("/api/v1/spec-diff?a=" + singularityHash + "&b=hw3pppjcp6yspickopaqh6nq7zpivs6x")
	if fields, _ := d["fields"].([]any); len(fields) == 0 || path(fields[0], "name") != "name" {
		t.Errorf("spec diff fields %v", d["fields"])
	}
	ad := get(fmt.Sprintf("/api/v1/analysis-diff?a=%d&b=%d", f.failed, f.ok))
	env, _ := ad["environment"].([]any)
	files, _ := ad["install_files"].([]any)
	if len(env) != 1 || path(env[0], "name") != "SPACK_CC" || len(files) != 1 || path(files[0], "change") != "changed" ||
		fmt.Sprint(ad["config_args_added"]) != "[--enable-shared]" {
		t.Errorf("analysis diff %v", ad)
	}
}

// TestTourInBrowser walks the pages the way a user looking for a failure does.
func TestTourInBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	f := seedTour(t, srv)
	count := func(sel string) int {
		return browsertest.Eval[int](b, `document.querySelectorAll(`+jsString(sel)+`).length`)
	}

	// The dashboard's chart shows today's two builds.
	b.Run("dashboard", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".chart svg")))
	if n := count(".chart rect"); n != 2 {
		t.Errorf("%d bars in the chart, want today's success and failure", n)
	}
	// Filter by tag through the tag's link.
	b.Run("filter by tag", chromedp.Click(chromedp.CSS(`a.tag[href*="tag=nightly"]`)), chromedp.WaitVisible(chromedp.CSS(`li.chip.on[data-filter="tag"]`)))
	if n := count("tr[data-build]"); n != 1 {
		t.Errorf("%d builds tagged nightly, want 1", n)
	}

	// From the failed build to a dependency's spec page, which lists singularity as needing it.
	b.Run("build page", chromedp.Navigate(fmt.Sprintf("%s/builds/%d", srv.URL, f.failed)), chromedp.WaitVisible(chromedp.CSS("table.linked")),
		chromedp.Click(chromedp.CSS(`table.linked a[href^="/specs/hw3ppp"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := b.Text("h1"); !strings.HasPrefix(h, "cryptsetup@2.3.5") {
		t.Errorf("dependency page heading %q", h)
	}
	badges := browsertest.Eval[[]string](b, `[...document.querySelectorAll("table.linked")[1].querySelectorAll("a.st")].map(a => a.textContent)`)
	if strings.Join(badges, ",") != "SUCCESS,FAILED" {
		t.Errorf("needed-by badges %q, want singularity's two builds, newest first", badges)
	}
	b.Run("spec document", chromedp.Click(chromedp.CSS("details.spec-document summary")), chromedp.WaitVisible(chromedp.CSS("pre.doc")))

	// The spec diff, chosen by its search boxes.
	b.Run("spec diff", chromedp.Navigate(srv.URL+"/specs/diff"), chromedp.WaitVisible(chromedp.CSS("#spec-a")),
		chromedp.SendKeys(chromedp.CSS("#spec-a"), singularityHash), chromedp.SendKeys(chromedp.CSS("#spec-b"), "hw3pppjcp6yspickopaqh6nq7zpivs6x"),
		chromedp.Submit(chromedp.CSS("#spec-b")), chromedp.WaitVisible(chromedp.CSS("table.deps-diff")))
	if n := count("table.deps-diff tr.added"); n == 0 {
		t.Error("no dependency only cryptsetup has")
	}
	// With only A given, the page offers the other specs of its package as B: here the same
	// package under another spack version.
	if a := srv.post(t, "/ms1/specs/new/", map[string]any{"spec": json.RawMessage(readTestdata(t, "specs", "singularity-3.8.0.json")), "spack_version": "2.0.0"}); a.Status != http.StatusCreated {
		t.Fatalf("spec under another spack version: %d %s", a.Status, a.Body)
	}
	b.Run("spec diff choices", chromedp.Navigate(srv.URL+"/specs/diff?a="+singularityHash), chromedp.WaitVisible(chromedp.CSS("ul.diff-choices")))
	if n := count("ul.diff-choices li"); n != 1 {
		t.Errorf("%d specs offered as B, want the other singularity", n)
	}

	// The matrix: one version, one compiler, one success and one failure.
	b.Run("matrix", chromedp.Navigate(srv.URL+"/matrix?package=singularity"), chromedp.WaitVisible(chromedp.CSS("table.matrix")))
	if cell := b.Text("table.matrix td a.cell"); !strings.Contains(cell, "1✓") || !strings.Contains(cell, "1✗") {
		t.Errorf("matrix cell %q", cell)
	}
	b.Run("matrix cell to its builds", chromedp.Click(chromedp.CSS("table.matrix td a.cell")), chromedp.WaitVisible(chromedp.CSS(`li.chip.on[data-filter="compiler"]`)))
	if n := count("tr[data-build]"); n != 2 {
		t.Errorf("the cell's link lists %d builds, want its 2", n)
	}

	// Grep the log, then follow the hit to its line.
	b.Run("grep", chromedp.Navigate(fmt.Sprintf("%s/builds/%d/phases/build", srv.URL, f.failed)), chromedp.WaitVisible(chromedp.CSS("#grep")),
		chromedp.SendKeys(chromedp.CSS("#grep"), "undeclared\r"), chromedp.WaitVisible(chromedp.CSS("ol.grep-hits")))
	if n := count("ol.grep-hits li"); n != 1 {
		t.Errorf("%d grep hits, want 1", n)
	}
	b.Run("follow the hit", chromedp.Click(chromedp.CSS("ol.grep-hits a")), chromedp.WaitVisible(chromedp.CSS("#L600.error")))

	// Analysis results and the difference between the two builds'.
	b.Run("analysis", chromedp.Navigate(fmt.Sprintf("%s/analysis?build=%d", srv.URL, f.failed)), chromedp.WaitVisible(chromedp.CSS("table.env")))
	if n := count("table.env tbody tr"); n != 22 {
		t.Errorf("%d environment variables, want 22", n)
	}
	if n := count("table.files tbody tr"); n != 155 {
		t.Errorf("%d install files, want 155", n)
	}
	if v := b.Text("table.attrs code.preview"); v != "<abi-corpus path='bin/tar'/>" {
		t.Errorf("attribute value shown as %q", v)
	}
	b.Run("analysis diff", chromedp.Navigate(fmt.Sprintf("%s/analysis/diff?a=%d&b=%d", srv.URL, f.failed, f.ok)), chromedp.WaitVisible(chromedp.CSS("table.env-diff")))
	if txt := b.Text("table.env-diff tbody"); !strings.Contains(txt, "SPACK_CC") || !strings.Contains(txt, "/usr/bin/clang") {
		t.Errorf("environment diff %q", txt)
	}
	if txt := b.Text("ul.args-diff"); !strings.Contains(txt, "--enable-shared") {
		t.Errorf("configure arguments diff %q", txt)
	}
	if n := count("table.files-diff tbody tr"); n != 1 {
		t.Errorf("%d install files differ, want 1", n)
	}

	// Error pages are pages.
	b.Run("404", chromedp.Navigate(srv.URL+"/builds/999999"), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	if s := b.Text(".error-page h1"); !strings.HasPrefix(s, "404") {
		t.Errorf("unknown build: %q", s)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
