package main

import (
	"fmt"
	"html"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
)

// populate replays captured Spack sessions against srv, as the real client made them.
func populate(t *testing.T, srv *testServer, captures ...string) {
	t.Helper()
	bearer := srv.bearer
	defer func() { srv.bearer = bearer }()
	for _, name := range captures {
		capture := loadCapture(t, name)
		if !slices.ContainsFunc(capture, func(ex exchange) bool { return strings.HasPrefix(ex.Path, "/auth/token") }) {
			t.Fatalf("%s was captured against an open server; populate replays with a token", name)
		}
		r := newReplay(t, srv)
		for i, ex := range capture {
			r.send(i, ex)
		}
	}
}

// screenshotDir is where the browser tests save the pages shown in the README, when the
// SPACKMON_SCREENSHOTS variable names a directory.
func screenshotDir() string { return os.Getenv("SPACKMON_SCREENSHOTS") }

// wantPageHeaders checks the security headers every page carries.
func wantPageHeaders(t *testing.T, a answer) {
	t.Helper()
	csp := a.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline code", csp)
	}
	if a.Header.Get("X-Content-Type-Options") != "nosniff" || a.Header.Get("Referrer-Policy") == "" {
		t.Errorf("headers %v: want nosniff and a Referrer-Policy", a.Header)
	}
	if ct := a.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q, want HTML", ct)
	}
}

func TestPagesOverHTTP(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	populate(t, srv, "v0.17.2-install-failure.jsonl")
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/", http.StatusOK, "mon-top@"},
		{"/?status=FAILED", http.StatusOK, "mon-fail@"},
		{"/?status=NOPE", http.StatusBadRequest, "status"},
		{"/?sort=owner", http.StatusBadRequest, "sorted by"},
		{"/?sort=status&page=bm9wZQ", http.StatusBadRequest, "page_token"},
		{"/no/such/page", http.StatusNotFound, "There is no page at /no/such/page."},
	} {
		a := srv.get(t, c.path)
		if a.Status != c.status || !strings.Contains(string(a.Body), c.want) {
			t.Errorf("GET %s: %d, want %d with %q:\n%s", c.path, a.Status, c.status, c.want, a.Body)
		}
		wantPageHeaders(t, a)
	}
	// The JSON routes stay JSON.
	if a := srv.get(t, "/api/v1/nope"); a.Status != http.StatusNotFound || a.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /api/v1/nope: %d %s", a.Status, a.Header.Get("Content-Type"))
	}
}

func TestDashboardInBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	populate(t, srv, "v0.17.2-install-failure.jsonl", "v0.18-install.jsonl")

	b.Run("open the dashboard", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.builds")))
	rows := browsertest.Eval[int](b, `document.querySelectorAll("table.builds tbody tr[data-build]").length`)
	if rows < 2 {
		t.Fatalf("%d build rows on the dashboard, want every build replayed", rows)
	}
	// Filtering by status through its chip keeps only failed builds, and says so in the URL.
	b.Run("filter failed builds", chromedp.Click(chromedp.CSS(`a.chip[href*="status=FAILED"]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.chip.on[data-filter="status"]`)))
	url := browsertest.Get(b, "location", chromedp.Location())
	if !strings.Contains(url, "status=FAILED") {
		t.Errorf("URL after the FAILED chip: %s", url)
	}
	statuses := browsertest.Eval[[]string](b, `[...document.querySelectorAll("table.builds tbody tr[data-build] .st")].map(e => e.textContent.trim())`)
	if len(statuses) == 0 || slices.ContainsFunc(statuses, func(s string) bool { return s != "FAILED" }) {
		t.Errorf("statuses under the FAILED filter: %q", statuses)
	}
	// Searching by name from the keyboard: "/" focuses the box.
	b.Run("focus the search", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#q")), chromedp.KeyEvent("/"))
	if id := browsertest.Eval[string](b, `document.activeElement.id`); id != "q" {
		t.Errorf("after /, the focus is on %q, want the search box", id)
	}
	browsertest.Eval[string](b, `document.getElementById("q").value = ""`)
	b.Run("search by keyboard", chromedp.KeyEvent("mon-top\r"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=q][value="mon-top"]`)))
	names := browsertest.Eval[[]string](b, `[...document.querySelectorAll("a.build-link")].map(e => e.textContent)`)
	if len(names) == 0 || slices.ContainsFunc(names, func(s string) bool { return !strings.HasPrefix(s, "mon-top@") }) {
		t.Errorf("builds found by searching mon-top: %q", names)
	}
	// Sorting by spec name from the column header, across pages of the JSON API too.
	b.Run("sort by name", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.builds")),
		chromedp.Click(chromedp.CSS(`th a[href*="sort=name"]`)), chromedp.WaitVisible(chromedp.CSS(`th[aria-sort] a[href*="sort=name"]`)))
	names = browsertest.Eval[[]string](b, `[...document.querySelectorAll("a.build-link")].map(e => e.textContent)`)
	if !slices.IsSorted(names) || len(names) < 2 {
		t.Errorf("builds sorted by name: %q", names)
	}
	if dir := screenshotDir(); dir != "" {
		b.Run("dashboard for the README", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.builds")))
		b.Screenshot(dir, "dashboard")
	}
}

// failedBuild stores a build whose build phase logged lines lines with one compiler error at
// errorLine, and marks it FAILED.
func failedBuild(t testing.TB, srv *testServer, lines, errorLine int) int64 {
	t.Helper()
	id := newBuild(t, srv)
	var log strings.Builder
	for i := 1; i <= lines; i++ {
		if i == errorLine {
			fmt.Fprintf(&log, "src/main.c:12:5: error: 'undeclared' undeclared (first use in this function)\n")
			continue
		}
		fmt.Fprintf(&log, "compiling unit %d of the build\n", i)
	}
	for _, ph := range []map[string]any{
		{"build_id": id, "phase_name": "configure", "status": "SUCCESS", "output": "checking for gcc... gcc\n"},
		{"build_id": id, "phase_name": "build", "status": "ERROR", "output": log.String()},
	} {
		if a := srv.post(t, "/ms1/builds/phases/update/", ph); a.Status != http.StatusOK {
			t.Fatalf("phase: %d %s", a.Status, a.Body)
		}
	}
	if a := srv.post(t, "/ms1/builds/update/", map[string]any{"build_id": id, "status": "FAILED"}); a.Status != http.StatusOK {
		t.Fatalf("status: %d %s", a.Status, a.Body)
	}
	return id
}

func TestBuildPageInBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	id := failedBuild(t, srv, 1000, 600)
	buildURL := fmt.Sprintf("%s/builds/%d", srv.URL, id)

	b.Run("open the failed build", chromedp.Navigate(buildURL), chromedp.WaitVisible(chromedp.CSS(".panel.errors")))
	// The first error is pinned above everything else on the page but the delta line.
	if first := browsertest.Eval[string](b, `document.querySelector("main > *:not(.headline):not(.delta)").className`); first != "panel errors" {
		t.Errorf("first block after the heading is %q, want the pinned errors", first)
	}
	if txt := b.Text(".pinned-error pre"); !strings.Contains(txt, "'undeclared' undeclared") {
		t.Errorf("pinned error %q", txt)
	}
	if dir := screenshotDir(); dir != "" {
		b.Screenshot(dir, "failed-build")
	}
	b.Run("follow the error to its log line", chromedp.Click(chromedp.CSS(".pinned-error a")),
		chromedp.WaitVisible(chromedp.CSS("#L600")))
	if cls := browsertest.Eval[string](b, `document.querySelector("#L600").className`); cls != "error" {
		t.Errorf("line 600 has class %q, want error", cls)
	}
	if target := browsertest.Eval[string](b, `document.querySelector(":target") && document.querySelector(":target").id`); target != "L600" {
		t.Errorf("the page targets %q, want L600", target)
	}
	span := func() [2]int {
		return browsertest.Eval[[2]int](b, `(() => { const l = document.querySelectorAll("#lines li"); return [Number(l[0].id.slice(1)), Number(l[l.length-1].id.slice(1))]; })()`)
	}
	if got := span(); got != [2]int{560, 759} {
		t.Errorf("first window shows lines %v, want 560 to 759", got)
	}
	b.Run("load earlier lines", chromedp.Click(chromedp.CSS("#load-before")), chromedp.WaitVisible(chromedp.CSS("#L360")))
	b.Run("load later lines", chromedp.Click(chromedp.CSS("#load-after")), chromedp.WaitVisible(chromedp.CSS("#L959")))
	if got := span(); got != [2]int{360, 959} {
		t.Errorf("after loading both ways the log shows lines %v, want 360 to 959", got)
	}
	if txt := b.Text("#L360 span"); txt != "compiling unit 360 of the build" {
		t.Errorf("line 360 reads %q", txt)
	}
	// Loading up to the first line removes the link.
	b.Run("load to the top", chromedp.Click(chromedp.CSS("#load-before")), chromedp.WaitVisible(chromedp.CSS("#L160")),
		chromedp.Click(chromedp.CSS("#load-before")), chromedp.WaitVisible(chromedp.CSS("#L1")), chromedp.WaitNotPresent(chromedp.CSS("#load-before")))
}

// At phone width nothing makes the page wider than the screen (tables scroll in their own
// box), and with the system in dark mode the pages are dark.
func TestPagesAtPhoneWidthAndInDarkMode(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	id := failedBuild(t, srv, 300, 200)
	for _, p := range []string{"/", fmt.Sprintf("/builds/%d", id), fmt.Sprintf("/builds/%d/phases/build", id), "/specs/" + singularityHash} {
		b.Run("phone "+p, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer")))
		if w := browsertest.Eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide on a 390 px screen", p, w)
		}
	}
	background := func() string {
		return browsertest.Eval[string](b, `getComputedStyle(document.body).backgroundColor`)
	}
	b.Run("light", chromedp.ResetViewport(), browsertest.DarkMode(false), chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("footer")))
	if bg := background(); bg != "rgb(255, 255, 255)" {
		t.Errorf("light background %s", bg)
	}
	b.Run("dark", browsertest.DarkMode(true), chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("footer")))
	if bg := background(); bg != "rgb(13, 17, 23)" {
		t.Errorf("dark background %s", bg)
	}
}

// A phase may be named with characters that mean something in a URL; every link to it on
// the build page must still reach it, and the names a URL cannot hold are refused.
func TestPhaseNamesInLinks(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	const name, log = "q?x=1#f %25é", "checking\nmain.c:3:1: error: odd name\n"
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
		"build_id": id, "phase_name": name, "status": "ERROR", "output": log}), http.StatusOK, "")
	for _, bad := range []string{".", ".."} {
		m := wantError(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
			"build_id": id, "phase_name": bad, "status": "SUCCESS", "output": ""}), http.StatusBadRequest)
		if m["message"] != "phase_name must not be '.' or '..'." {
			t.Errorf("phase %q: %v", bad, m["message"])
		}
	}
	phaseLinks := func(page string) []string {
		var links []string
		for _, m := range regexp.MustCompile(`(?:href|action)="([^"]*/phases/[^"]*)"`).FindAllStringSubmatch(string(srv.get(t, page).Body), -1) {
			links = append(links, html.UnescapeString(m[1]))
		}
		return links
	}
	links := phaseLinks(fmt.Sprintf("/builds/%d", id))
	if len(links) < 3 {
		t.Fatalf("%d links to the phase on the build page: %q", len(links), links)
	}
	links = append(links, phaseLinks(links[0])...)
	for _, link := range links {
		if strings.HasSuffix(link, "/grep") { // the search form's action
			link += "?q=odd"
		}
		a := srv.get(t, link)
		switch {
		case a.Status != http.StatusOK:
			t.Errorf("GET %s: %d %s", link, a.Status, a.Body)
		case strings.HasSuffix(strings.SplitN(link, "?", 2)[0], "/output"):
			if string(a.Body) != log {
				t.Errorf("GET %s: %q, want the log", link, a.Body)
			}
		case !strings.Contains(string(a.Body), "error: odd name"):
			t.Errorf("GET %s: the page does not show the log:\n%s", link, a.Body)
		}
	}
	// The dashboard's times are machine-readable.
	stamps := regexp.MustCompile(`datetime="([^"]*)"`).FindAllStringSubmatch(string(srv.get(t, "/").Body), -1)
	if len(stamps) == 0 {
		t.Error("no datetime on the dashboard")
	}
	for _, m := range stamps {
		if _, err := time.Parse(time.RFC3339, m[1]); err != nil {
			t.Errorf("datetime %q: %v", m[1], err)
		}
	}
}

// A log line of many MiB (a dumped binary, minified output) is shown cut on the phase page,
// which stays small, while the raw log keeps it whole; the API cuts lines when asked.
func TestLongLinesCutOnPage(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	long := strings.Repeat("é<b>", 1<<20) // 5 MiB, escaped on the page
	log := "configure\n" + long + "\nmain.c:3:1: error: after the long line\n"
	wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
		"build_id": id, "phase_name": "build", "status": "ERROR", "output": log}), http.StatusOK, "")

	page := srv.get(t, fmt.Sprintf("/builds/%d/phases/build", id))
	body := string(page.Body)
	if page.Status != http.StatusOK || len(body) > 256<<10 {
		t.Fatalf("page: %d, %d bytes", page.Status, len(body))
	}
	for _, want := range []string{"line cut at 4.0 KiB", "error: after the long line", "é&lt;b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>") {
		t.Error("the long line's markup reached the page unescaped")
	}
	if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output", id)); string(a.Body) != log {
		t.Errorf("the raw log: %d bytes, want %d", len(a.Body), len(log))
	}
	a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output?unit=lines&offset=1&limit=2&max_line_bytes=6", id))
	if want := long[:6] + "\nmain.c\n"; string(a.Body) != want {
		t.Errorf("cut lines: %q, want %q", a.Body, want)
	}
	// Cut from the start to the end: its length is not the log's.
	if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output?unit=lines&max_line_bytes=6", id)); string(a.Body) != "config\n"+long[:6]+"\nmain.c\n" {
		t.Errorf("the whole log cut: %d %q", a.Status, a.Body)
	}
	if a := srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/build/output?max_line_bytes=6", id)); a.Status != http.StatusBadRequest {
		t.Errorf("max_line_bytes without unit=lines: %d %s", a.Status, a.Body)
	}
}

// A build's page links to its own spec even when another Spack version sent a spec of the
// same full hash later: by the hash alone, the spec page shows the newest of the two.
func TestBuildPageLinksToItsOwnSpackVersion(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", map[string]any{"spack_version": "1.0.0.dev0", "spec": map[string]any{
		"nodes": []any{map[string]any{"name": "impostor", "version": "0.0.1", "full_hash": singularityHash}}}}), http.StatusCreated, "")

	page := string(srv.get(t, fmt.Sprintf("/builds/%d", id)).Body)
	want := `href="/specs/` + singularityHash + `?spack_version=1.0.0"`
	if n := strings.Count(page, want); n != 2 {
		t.Fatalf("the build page has %d links %s, want 2", n, want)
	}
	spec := string(srv.get(t, "/specs/"+singularityHash+"?spack_version=1.0.0").Body)
	if !strings.Contains(spec, "singularity@3.8.0") || strings.Contains(spec, "impostor") {
		t.Errorf("the linked spec page is not the build's spec")
	}
	if !strings.Contains(string(srv.get(t, "/").Body), `href="/specs/`+singularityHash+`?spack_version=1.0.0"`) {
		t.Errorf("the dashboard does not link to the build's spec with its Spack version")
	}
}

// A link past the end of a log, or to an empty one, says so and leads back to the start
// instead of showing an empty window whose "earlier lines" are empty too.
func TestPhasePagePastTheEndOfItsLog(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	id := num(t, path(srv.post(t, "/ms1/builds/new/", buildEnv).JSON(t), "data", "build", "build_id"))
	for name, log := range map[string]string{"build": "one\ntwo\nthree\n", "install": ""} {
		wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
			"build_id": id, "phase_name": name, "status": "SUCCESS", "output": log}), http.StatusOK, "")
	}
	for page, want := range map[string]string{
		"build?line=20000":   `The log ends before line 19960. <a href="?from=1">`,
		"build?from=4":       `The log ends before line 4.`,
		"install":            `This log is empty.`,
		"install?line=99999": `The log ends before line`,
	} {
		a := srv.get(t, fmt.Sprintf("/builds/%d/phases/%s", id, page))
		body := string(a.Body)
		if a.Status != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, "Load earlier lines") {
			t.Errorf("%s: %d, want %q and no earlier lines", page, a.Status, want)
		}
	}
	if body := string(srv.get(t, fmt.Sprintf("/builds/%d/phases/build?from=2", id)).Body); strings.Contains(body, "ends before") ||
		!strings.Contains(body, "Load earlier lines") || !strings.Contains(body, `id="L3"`) {
		t.Errorf("a window inside the log is shown as past its end")
	}
}

// Every "seen in N other builds" link of a build page opens a failures page holding that
// failure, though the list shows only the top 50: two builds share 60 warnings here.
func TestBuildPageFailureLinksLand(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	wantEnvelope(t, srv.post(t, "/ms1/specs/new/", singularitySpec(t)), http.StatusCreated, "")
	var log strings.Builder
	for i := range 60 {
		name := string(rune('a'+i/26)) + string(rune('a'+i%26))
		fmt.Fprintf(&log, "cc -c src/%s.c\nsrc/%s.c:3:7: warning: unused variable 'var_%s' [-Wunused-variable]\n", name, name, name)
	}
	var id int64
	for _, host := range []string{"one", "two"} {
		env := maps.Clone(buildEnv)
		env["hostname"] = host
		id = num(t, path(srv.post(t, "/ms1/builds/new/", env).JSON(t), "data", "build", "build_id"))
		wantEnvelope(t, srv.post(t, "/ms1/builds/phases/update/", map[string]any{
			"build_id": id, "phase_name": "build", "status": "SUCCESS", "output": log.String()}), http.StatusOK, "")
	}
	links := regexp.MustCompile(`href="(/failures\?[^"]*)#([0-9a-f]+)"`).FindAllStringSubmatch(string(srv.get(t, fmt.Sprintf("/builds/%d", id)).Body), -1)
	if len(links) != 60 {
		t.Fatalf("the build page links %d failures, want 60", len(links))
	}
	for _, l := range links {
		if page := string(srv.get(t, html.UnescapeString(l[1])).Body); !strings.Contains(page, `id="`+l[2]+`"`) {
			t.Errorf("%s does not hold failure %s", l[1], l[2])
		}
	}
	if a := srv.get(t, "/api/v1/failures?fingerprint=nothex"); a.Status != http.StatusBadRequest {
		t.Errorf("a malformed fingerprint answered %d %s", a.Status, a.Body)
	}
}
