package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// credentials is the environment the import and upload commands read, for srv's user.
func credentials(srv *testServer) func(string) string {
	return func(k string) string {
		switch k {
		case "SPACKMON_USER":
			return srv.user
		case "SPACKMON_TOKEN":
			return srv.apiToken
		}
		return ""
	}
}

func TestImportCommand(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		dir := t.TempDir()
		wrapped := testdata(t, "specs", "singularity-3.8.0.json")
		var doc struct {
			Spec json.RawMessage `json:"spec"`
		}
		if err := json.Unmarshal(readTestdata(t, "specs", "singularity-3.8.0.json"), &doc); err != nil {
			t.Fatal(err)
		}
		bare := filepath.Join(dir, "bare.json")
		broken := filepath.Join(dir, "broken.json")
		noNodes := filepath.Join(dir, "no-nodes.json")
		for name, data := range map[string]string{bare: string(doc.Spec), broken: `{"spec": {"nodes": [`, noNodes: `{"_meta": {"version": 2}}`} {
			if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		list := testdata(t, "specs", "singularity-3.6.4.json")
		missing := filepath.Join(dir, "missing.json")

		var out, errOut bytes.Buffer
		err := importCommand(context.Background(), &out, &errOut, credentials(srv),
			[]string{wrapped, "--url", srv.URL, bare, broken, list, missing, noNodes, "--spack-version", "0.17.2"})
		if err == nil || err.Error() != "3 of 6 files failed" {
			t.Errorf("error %v, want 3 of 6 files failed", err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		want := []string{
			wrapped + "  0.17.2  created  singularity v3.8.0 " + clientSingularityHash,
			bare + "  0.17.2  exists  singularity v3.8.0 " + clientSingularityHash,
		}
		if len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] ||
			!strings.HasPrefix(lines[2], list+"  0.17.2  created  singularity v3.6.4 ") {
			t.Fatalf("output:\n%s\nwant\n%s\n%s\n%s  0.17.2  created  singularity v3.6.4 <hash>", out.String(), want[0], want[1], list)
		}
		for _, f := range []string{broken + ": not a JSON document", missing + ": open ", noNodes + ": POST "} {
			if !strings.Contains(errOut.String(), f) {
				t.Errorf("errors do not report %q:\n%s", f, errOut.String())
			}
		}
		if !strings.Contains(errOut.String(), ": 400: ") {
			t.Errorf("the server's refusal carries no status:\n%s", errOut.String())
		}

		// What the output names is what the server stored.
		listHash := strings.Fields(lines[2])[5]
		for hash, version := range map[string]string{clientSingularityHash: "3.8.0", listHash: "3.6.4"} {
			a := srv.get(t, fmt.Sprintf("/api/v1/specs/%s?spack_version=0.17.2", hash))
			if a.Status != http.StatusOK || a.JSON(t)["version"] != version {
				t.Errorf("spec %s: %d %s", hash, a.Status, a.Body)
			}
		}

		out.Reset()
		if err := importCommand(context.Background(), &out, &errOut, credentials(srv),
			[]string{"--url", srv.URL, "--spack-version", "0.17.2", list}); err != nil || !strings.Contains(out.String(), "  exists  singularity v3.6.4 "+listHash) {
			t.Errorf("second import: %v\n%s", err, out.String())
		}
	})
}

// A command line that is not complete says what is missing, and the usage.
func TestImportCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args      []string
		want      string
		withUsage bool
	}{
		{nil, "no spec files given", true},
		{[]string{"a.json"}, "--spack-version is missing", true},
		{[]string{"--spack-version", "1"}, "no spec files given", true},
		{[]string{"a.json", "--spack-versoin", "1"}, "flag provided but not defined: -spack-versoin; 'spackmon import -h' lists the flags", false},
	} {
		var out, errOut bytes.Buffer
		err := importCommand(context.Background(), &out, &errOut, func(string) string { return "" }, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, errImportUsage) != c.withUsage {
			t.Errorf("%q: %v, want %q (and the usage: %t)", c.args, err, c.want, c.withUsage)
		}
		if errOut.Len() != 0 {
			t.Errorf("%q: the error was also printed: %s", c.args, errOut.String())
		}
	}
}

func TestImportCommandWithoutCredentials(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	var out, errOut bytes.Buffer
	err := importCommand(context.Background(), &out, &errOut, func(string) string { return "" },
		[]string{"--url", srv.URL, "--spack-version", "1", testdata(t, "specs", "singularity-3.8.0.json")})
	if err == nil || !strings.Contains(errOut.String(), "SPACKMON_USER, SPACKMON_TOKEN") {
		t.Errorf("error %v, stderr %s", err, errOut.String())
	}
}
