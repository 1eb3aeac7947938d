package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
)

// The build page tells first, after the status, what changed since the build's reference,
// and lists its failures grouped by fingerprint with links to the other builds; the
// failures page lists them across builds; an admin adds a known cause with the form, and
// the build page then shows it. A user's token cannot.
func TestFailurePagesInBrowser(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	first, second := twoFailingBuilds(t, srv)

	b.Run("open the second build", chromedp.Navigate(fmt.Sprintf("%s/builds/%d", srv.URL, second)), chromedp.WaitVisible(chromedp.CSS("#build-delta")))
	if id := browsertest.Eval[string](b, `document.querySelector("main > *:not(.headline)").id`); id != "build-delta" {
		t.Errorf("first block after the heading is %q, want the delta", id)
	}
	want := fmt.Sprintf("1 new error since build #%d (FAILED), 1 fixed, 1 outstanding", first)
	if line := b.Text("#build-delta"); !strings.HasPrefix(line, want) {
		t.Errorf("delta line %q, want it to start with %q", line, want)
	}
	rows := browsertest.Eval[[]string](b, `[...document.querySelectorAll("#fingerprints tbody tr")].map(r => r.textContent.replace(/\s+/g, " ").trim())`)
	if len(rows) != 2 || !strings.Contains(rows[0], "undefined reference to `omp_get_thread_num'") || !strings.Contains(rows[0], "seen in 1 other build") ||
		!strings.Contains(rows[1], "only here") {
		t.Errorf("fingerprint rows %q", rows)
	}
	if dir := screenshotDir(); dir != "" {
		b.Screenshot(dir, "build-delta")
	}

	rowsShown := func() []string {
		return browsertest.Eval[[]string](b, `[...document.querySelectorAll("#failures tbody tr")].map(r => r.cells[2].textContent.trim() + " " + r.cells[5].textContent.trim())`)
	}
	b.Run("follow the shared failure", chromedp.Click(chromedp.CSS("#fingerprints tbody tr a[href^='/failures']")), chromedp.WaitVisible(chromedp.CSS("#failures")))
	if failures := rowsShown(); len(failures) != 1 || failures[0] != "2 2" {
		t.Errorf("failure rows (builds, hosts) %q, want the one followed, with 2 builds on 2 hosts", failures)
	}
	hash := browsertest.Eval[string](b, `document.querySelector("#failures tbody tr").id`)
	b.Run("see all of them", chromedp.Click(chromedp.CSS("main p.muted a[href^='/failures']")), chromedp.WaitVisible(chromedp.CSS("#failures")))
	if failures := rowsShown(); len(failures) != 3 || failures[0] != "2 2" {
		t.Errorf("failure rows (builds, hosts) %q, want 3 with 2 builds on 2 hosts first", failures)
	}

	cause := func(token string) {
		b.Run("add a cause", chromedp.Navigate(srv.URL+"/failures/causes"), chromedp.WaitVisible(chromedp.CSS("#cause-form")),
			chromedp.SendKeys(chromedp.CSS("#cause-form [name=title]"), "OpenMP runtime missing <b>from the link</b>"),
			chromedp.SendKeys(chromedp.CSS("#cause-form [name=link]"), "https://example.org/omp"),
			chromedp.SendKeys(chromedp.CSS("#cause-form [name=fingerprint]"), hash),
			chromedp.SendKeys(chromedp.CSS("#cause-form [name=token]"), token),
			chromedp.Submit(chromedp.CSS("#cause-form")), chromedp.WaitVisible(chromedp.CSS("h2")))
	}
	cause(srv.apiToken)
	if msg := b.Text("#cause-message"); msg == "" {
		t.Error("a user's token was not refused")
	}
	_, adminKey := srv.addUser(t, "root", true)
	cause(adminKey)
	b.Run("see it listed", chromedp.WaitVisible(chromedp.CSS("#causes")))
	if title := b.Text("#causes tbody tr td a"); title != "OpenMP runtime missing <b>from the link</b>" {
		t.Errorf("cause listed as %q", title)
	}
	b.Run("see it on the build", chromedp.Navigate(fmt.Sprintf("%s/builds/%d", srv.URL, second)), chromedp.WaitVisible(chromedp.CSS("#fingerprints .cause")))
	if txt := b.Text("#fingerprints .cause"); txt != "Known cause: OpenMP runtime missing <b>from the link</b>" {
		t.Errorf("cause on the build page %q", txt)
	}
}
