package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spackmon/spackmon/pkg/browsertest"
)

// The payloads try both ways out of escaping: a new element with an event handler, and
// leaving an attribute to open a script. Each sets window.pwned if it ever runs.
const (
	xssImg    = `<img src=x onerror="window.pwned='img'">`
	xssScript = `"><script>window.pwned='script'</script>`
	xssBoth   = xssImg + xssScript
	// xssName fits where a slash may not go (phase names).
	xssName = `"><img src=x onerror="window.pwned='name'">`
)

// xssSpec is a spec whose every text field is a payload, with one dependency.
func xssSpec() map[string]any {
	node := func(name, version, hash string, deps ...any) map[string]any {
		n := map[string]any{
			"name": name, "version": version, "namespace": xssImg,
			"arch":       map[string]any{"platform": "linux", "platform_os": xssScript, "target": "x86_64"},
			"compiler":   map[string]any{"name": "gcc", "version": xssImg},
			"parameters": map[string]any{xssImg: xssScript, "cflags": []string{xssScript}},
			"hash":       hash, "full_hash": hash, "package_hash": xssImg,
		}
		if len(deps) > 0 {
			n["dependencies"] = deps
		}
		return n
	}
	return map[string]any{"spack_version": "0.17.2", "spec": map[string]any{"_meta": map[string]any{"version": 3}, "nodes": []any{
		node("xss"+xssImg, "1.0"+xssScript, "xssroothash", map[string]any{"name": "dep" + xssScript, "full_hash": "xssdephash", "type": []string{"build" + xssImg}}),
		node("dep"+xssScript, "2.0"+xssImg, "xssdephash"),
	}}}
}

// postXSS stores, through the protocol, a failed build in which everything a client sends is
// a payload, with analysis results, and returns its id.
func postXSS(t *testing.T, srv *testServer) int64 {
	t.Helper()
	if a := srv.post(t, "/ms1/specs/new/", xssSpec()); a.Status != http.StatusCreated {
		t.Fatalf("spec: %d %s", a.Status, a.Body)
	}
	a := srv.post(t, "/ms1/builds/new/", map[string]any{
		"full_hash": "xssroothash", "spack_version": "0.17.2", "hostname": "host" + xssBoth,
		"kernel_version": xssImg, "host_os": xssScript, "host_target": xssImg, "platform": xssScript,
		"tags": "tag" + strings.ReplaceAll(xssBoth, ",", ""),
	})
	if a.Status != http.StatusCreated {
		t.Fatalf("build: %d %s", a.Status, a.Body)
	}
	id := num(t, path(a.JSON(t), "data", "build", "build_id"))
	log := "line one " + xssBoth + "\nsrc/" + xssImg + ".c:1:1: error: " + xssBoth + "\nlast " + xssScript + "\n"
	for _, ph := range []map[string]any{
		{"build_id": id, "phase_name": "build" + xssName, "status": "ERROR", "output": log},
	} {
		if a := srv.post(t, "/ms1/builds/phases/update/", ph); a.Status != http.StatusOK {
			t.Fatalf("phase: %d %s", a.Status, a.Body)
		}
	}
	if a := srv.post(t, "/ms1/builds/update/", map[string]any{"build_id": id, "status": "FAILED"}); a.Status != http.StatusOK {
		t.Fatalf("status: %d %s", a.Status, a.Body)
	}
	manifest := map[string]any{
		"/opt/spack/xss/bin/" + xssImg:    map[string]any{"mode": 33261, "owner": 1000, "group": 1000, "type": "file", "hash": xssScript, "size": 10, "time": 1.5},
		"/opt/spack/xss/" + xssScript:     map[string]any{"mode": 16877, "owner": 1000, "group": 1000, "type": "dir"},
		"/opt/spack/xss/share/" + xssBoth: map[string]any{"mode": 33188, "owner": 1000, "group": 1000, "type": "file", "hash": "h", "size": 1, "time": 1.5},
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if a := analyze(t, srv, id, map[string]any{
		"install_files":         json.RawMessage(raw),
		"environment_variables": map[string]string{"SPACK_" + strings.Trim(xssImg, "<>"): xssBoth},
		"config_args":           "--prefix=" + xssBoth,
		"xss" + xssImg:          []any{map[string]any{"install_file": "bin/" + xssImg, "name": "attr" + xssScript, "value": xssBoth}},
	}); a.Status != http.StatusOK {
		t.Fatalf("analyze: %d %s", a.Status, a.Body)
	}
	return id
}

// TestPagesEscapeEverything opens every page showing the payloads in the browser and proves
// that none ran and none made an element: each payload shows as text.
func TestPagesEscapeEverything(t *testing.T) {
	b := browsertest.New(t)
	srv := startServe(t, backends[0].database(t), nil)
	id := postXSS(t, srv)
	phase := url.PathEscape("build" + xssName)
	pages := []string{
		"/",
		"/?q=" + url.QueryEscape(xssImg),
		"/?tag=" + url.QueryEscape("tag"+xssBoth) + "&owner=" + url.QueryEscape(xssScript),
		fmt.Sprintf("/builds/%d", id),
		fmt.Sprintf("/builds/%d/phases/%s", id, phase),
		fmt.Sprintf("/builds/%d/phases/%s/grep?q=%s", id, phase, url.QueryEscape("error")),
		fmt.Sprintf("/builds/%d/phases/%s/grep?q=%s", id, phase, url.QueryEscape(xssScript)),
		"/specs/xssroothash",
		"/specs/xssdephash",
		"/specs/diff?a=xssroothash&b=xssdephash",
		"/specs/diff?a=xssroothash",
		"/matrix?package=" + url.QueryEscape("xss"+xssImg),
		"/matrix?package=" + url.QueryEscape(xssBoth),
		fmt.Sprintf("/analysis?build=%d", id),
		fmt.Sprintf("/analysis?build=%d&dir=%s", id, url.QueryEscape(xssScript)),
		"/no/such/" + url.PathEscape(xssBoth),
		"/builds/" + url.PathEscape(xssBoth),
		"/specs/" + url.PathEscape(xssBoth),
	}
	for _, p := range pages {
		b.Run("open "+p, chromedp.Navigate(srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer")))
		got := browsertest.Eval[map[string]any](b, `({
			pwned: window.pwned || "",
			imgs: document.querySelectorAll('img[src="x"]').length,
			scripts: [...document.scripts].filter(s => !s.src.includes("/static/app.js") && !s.src.includes("/static/live.js")).length,
			text: document.body.innerText.includes("onerror=") || document.body.innerText.includes("<script>"),
		})`)
		if got["pwned"] != "" || got["imgs"] != float64(0) || got["scripts"] != float64(0) {
			t.Errorf("%s: a payload ran or became an element: %v", p, got)
		}
		// The pages with posted data show the payloads as text: escaped, not dropped.
		if !strings.HasPrefix(p, "/no/") && !strings.HasPrefix(p, "/builds/%") && got["text"] != true && !strings.Contains(p, "grep") && !strings.Contains(p, "matrix?package=%3Cimg") {
			t.Errorf("%s: the payload text is not shown", p)
		}
	}
}
