package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
	"github.com/spackmon/spackmon/pkg/proctest"
)

// The pages served by the gateway role of the real binary, reading from the ingest and
// analysis roles on PostgreSQL; with the ingest role gone, the page says so.
func TestPagesOnSeparateRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b := browsertest.New(t)
	srv, d := startRolesWithUser(t, proctest.Build(t), "spackuser", "SPACKMON_LOG_LEVEL=error")
	populate(t, srv, "v0.17.2-install-failure.jsonl")

	b.Run("dashboard", chromedp.Navigate(srv.URL+"/?status=FAILED"), chromedp.WaitVisible(chromedp.CSS("a.build-link")))
	if owners := browsertest.Eval[[]string](b, `[...document.querySelectorAll("tr[data-build] td:nth-child(7)")].map(e => e.textContent.trim())`); len(owners) == 0 || owners[0] != "spackuser" {
		t.Errorf("owners of the failed builds %q", owners)
	}
	b.Run("open the failed build", chromedp.Click(chromedp.CSS(`tr[data-build] a.build-link`)), chromedp.WaitVisible(chromedp.CSS("#build-status")))
	if s := b.Text("#build-status"); !strings.Contains(s, "FAILED") {
		t.Errorf("build status %q", s)
	}
	b.Run("its spec", chromedp.Click(chromedp.CSS(".facts a[href^='/specs/']")), chromedp.WaitVisible(chromedp.CSS("table.spec-builds")))

	d.Roles["ingest"].Kill()
	waitStatus(t, d.URL+"/ms1/", http.StatusServiceUnavailable, "ingest killed")
	b.Run("dashboard without ingest", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".error-page")))
	if s := b.Text(".error-page h1"); !strings.HasPrefix(s, "503") {
		t.Errorf("with ingest gone the dashboard says %q, want 503", s)
	}
}
