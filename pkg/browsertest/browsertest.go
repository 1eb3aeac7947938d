// Package browsertest drives a real headless Chromium from tests, so that pages are checked
// the way a person's browser runs them: their scripts, their Content-Security-Policy and
// their escaping.
//
// A test calls New, then Run with chromedp actions. When the browser is not installed the
// test is skipped with one loud line, unless CI=true, where a missing browser is a failure.
// When an action fails, or the test has failed by the time it ends, a screenshot of the page
// is saved in the test's artifact directory (kept with go test -artifacts) and its path
// logged.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// candidates are where Debian and other distributions install Chromium or Chrome.
var candidates = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

// Find returns the path of the browser: $SPACKMON_CHROMIUM when set, else the first of the
// usual places that exists.
func Find() (string, bool) {
	if p := os.Getenv("SPACKMON_CHROMIUM"); p != "" {
		_, err := os.Stat(p)
		return p, err == nil
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, true
	}
	return "", false
}

var announceMissing sync.Once

// Browser is one headless browser with one tab, closed when its test ends.
type Browser struct {
	t   testing.TB
	ctx context.Context
	// shots counts the screenshots taken, to name them apart.
	shots atomic.Int32
}

// actionTimeout bounds one Run: a page that never finishes loading fails the test rather than
// hanging it. It is a safety net, not an assertion about speed.
const actionTimeout = 20 * time.Second

// New starts a browser for t, or skips t (fails it under CI=true) when there is none.
func New(t testing.TB) *Browser {
	t.Helper()
	path, ok := Find()
	if !ok {
		msg := "BROWSER TESTS NOT RUN: no Chromium found (install the chromium package or set SPACKMON_CHROMIUM)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		// One loud line for the whole run, not one per test.
		announceMissing.Do(func() { fmt.Fprintln(os.Stderr, msg) })
		t.Skip("no Chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, ctx: ctx}
	// Starting the browser happens on the first action; do it now so that a broken install
	// fails here with a clear message.
	if _, err := chromedp.Run(ctx, chromedp.Title()); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting %s: %v", path, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot("at-failure")
		}
		cancelTab()
		cancelAlloc()
	})
	return b
}

// DarkMode makes the page's prefers-color-scheme dark (true) or light.
func DarkMode(dark bool) chromedp.Action[chromedp.Void] {
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return chromedp.Void{}, err
	}
}

// Context is the tab's context, for chromedp calls the helpers here do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Run runs the steps in the tab, in order, failing the test with a screenshot when one
// fails; what says what they do, for the failure message.
func (b *Browser) Run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	Get(b, what, chromedp.Steps(steps...))
}

// Get runs one action that returns a value, failing the test with a screenshot when it
// fails.
func Get[T any](b *Browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.screenshot(what)
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Text returns the text of the first element matching the CSS selector sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Get(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Eval evaluates a JavaScript expression in the page and returns its result decoded into a
// value of type T.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	return Get(b, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// Screenshot saves a screenshot of the whole page as dir/name.png, for pages shown in
// documentation.
func (b *Browser) Screenshot(dir, name string) string {
	b.t.Helper()
	png := Get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot saves what the tab shows in the test's artifact directory and logs where. It
// never fails the test: it runs when the test is failing already.
func (b *Browser) screenshot(what string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("no screenshot of %q: %v", what, err)
		return
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	name := fmt.Sprintf("%02d-%s.png", b.shots.Add(1), strings.Trim(unsafeName.ReplaceAllString(what, "-"), "-"))
	if len(name) > 100 {
		name = name[:96] + ".png"
	}
	path := filepath.Join(b.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("no screenshot of %q: %v", what, err)
		return
	}
	b.t.Logf("screenshot of %s at %q: %s (kept when go test runs with -artifacts)", url, what, path)
}
