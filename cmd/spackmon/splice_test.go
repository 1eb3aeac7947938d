package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// compile runs cc with args in dir.
func compile(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("cc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cc %v: %v\n%s", args, err, out)
	}
}

// symbolatorJSON reads a binary's dynamic symbols with debug/elf into the symbolator-json
// shape PredictSplice reads: each symbol's name and whether the file defines it.
func symbolatorJSON(t *testing.T, file string) map[string]any {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	for _, s := range syms {
		if elf.ST_BIND(s.Info) == elf.STB_LOCAL || s.Name == "" {
			continue
		}
		list = append(list, map[string]any{"name": s.Name, "defined": s.Section != elf.SHN_UNDEF})
	}
	return map[string]any{"library": filepath.Base(file), "symbols": list}
}

// TestPredictSplice builds a program against version 1 of a shared library, then a version
// 2 that dropped a function, posts their symbol tables as spack analyze would, and asks
// /api/v1/splice which symbols the program would lose.
func TestPredictSplice(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	for name, text := range map[string]string{
		"v1.c":  "int demo_add(int a, int b) { return a + b; }\nint demo_scale(int a) { return 3 * a; }\n",
		"v2.c":  "int demo_add(int a, int b) { return a + b; }\n",
		"app.c": "int demo_add(int, int);\nint demo_scale(int);\nint main(void) { return demo_add(1, demo_scale(2)) - 7; }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
		compile(t, dir, "-shared", "-fPIC", "-o", v+"/libdemo.so", v+".c")
	}
	compile(t, dir, "-o", "app", "app.c", "-Lv1", "-ldemo")
	app, v1, v2 := symbolatorJSON(t, filepath.Join(dir, "app")), symbolatorJSON(t, filepath.Join(dir, "v1", "libdemo.so")), symbolatorJSON(t, filepath.Join(dir, "v2", "libdemo.so"))

	forEachBackend(t, func(t *testing.T, srv *testServer) {
		a := newBuild(t, srv)
		env := maps.Clone(buildEnv)
		env["hostname"] = "builder2"
		b := num(t, path(wantEnvelope(t, srv.post(t, "/ms1/builds/new/", env), http.StatusCreated, ""), "data", "build", "build_id"))
		symbols := func(files map[string]map[string]any) map[string]any {
			var results []any
			for _, f := range slices.Sorted(maps.Keys(files)) {
				results = append(results, map[string]any{"install_file": f, "name": "symbolator-json", "json_value": files[f]})
			}
			return map[string]any{"symbolator": results}
		}
		wantEnvelope(t, analyze(t, srv, a, symbols(map[string]map[string]any{"bin/app": app, "lib/libdemo.so": v1})), http.StatusOK, "Metadata updated")
		wantEnvelope(t, analyze(t, srv, b, symbols(map[string]map[string]any{"lib/libdemo.so": v2})), http.StatusOK, "Metadata updated")

		predict := func(a, b int64) (out struct {
			Compatible bool
			Missing    []struct {
				Symbol, Library string
				NeededBy        string `json:"needed_by"`
			}
			Libraries []string
		}) {
			t.Helper()
			ans := srv.get(t, fmt.Sprintf("/api/v1/splice?a=%d&b=%d", a, b))
			if ans.Status != http.StatusOK {
				t.Fatalf("splice: %d %s", ans.Status, ans.Body)
			}
			if err := json.Unmarshal(ans.Body, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		p := predict(a, b)
		if p.Compatible || len(p.Missing) != 1 || p.Missing[0].Symbol != "demo_scale" ||
			p.Missing[0].Library != "lib/libdemo.so" || p.Missing[0].NeededBy != "bin/app" || !slices.Equal(p.Libraries, []string{"libdemo.so"}) {
			t.Errorf("splicing v2 into the program's build: %+v, want demo_scale missing", p)
		}
		page := srv.get(t, fmt.Sprintf("/splice?a=%d&b=%d", a, b))
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "Not compatible: 1 symbols would go missing.") ||
			!strings.Contains(string(page.Body), `<td class="mono">demo_scale</td>`) {
			t.Errorf("splice page: %d %s", page.Status, page.Body)
		}
		// v1 defines everything v2 did: it can replace v2, and a build its own libraries.
		if p := predict(b, a); !p.Compatible || len(p.Missing) != 0 {
			t.Errorf("splicing v1 into v2's build: %+v", p)
		}
		if p := predict(a, a); !p.Compatible {
			t.Errorf("a build spliced with itself: %+v", p)
		}
		if ans := srv.get(t, fmt.Sprintf("/api/v1/splice?a=%d&b=999999", a)); ans.Status != http.StatusNotFound {
			t.Errorf("splice with an unknown build: %d", ans.Status)
		}
	})
}
