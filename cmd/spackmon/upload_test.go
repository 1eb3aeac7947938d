package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// savedBuild is what a save-local fixture holds about one build, to check it read back.
type savedBuild struct {
	folder, localID string
	name, hash      string
	tags            []any
	status          string             // "" when no status file was saved
	phases          map[string]*string // name -> output
	phaseStatus     map[string]string
}

// saveLocalFixture writes, under root, the directory spack install --monitor-save-local
// would have written for the runs that spack monitor upload sent in the capture
// v0.17.2-monitor-upload.jsonl: each specs/new after a build starts a new run folder, the
// second one nested a level deeper. It returns the builds, in capture order.
func saveLocalFixture(t *testing.T, root string) []*savedBuild {
	t.Helper()
	folders := []string{filepath.Join(root, "2026-11-22-11-16-42-1795346202"), filepath.Join(root, "later", "2026-11-22-11-16-45-1795346205")}
	folder := -1
	var builds []*savedBuild
	byStub := map[int64]*savedBuild{}
	names := map[string]string{} // full_hash -> package name
	inFolder := 0
	write := func(name string, body []byte) {
		t.Helper()
		if err := os.MkdirAll(folders[folder], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folders[folder], name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, ex := range loadCapture(t, "v0.17.2-monitor-upload.jsonl") {
		if ex.Method != "POST" || ex.StubCode == 401 {
			continue
		}
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(ex.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatal(err)
		}
		switch ex.Path {
		case "/ms1/specs/new/":
			if folder < 0 || inFolder > 0 {
				folder, inFolder = folder+1, 0
			}
			nodes, _ := path(body, "spec", "nodes").([]any)
			for _, n := range nodes {
				names[fmt.Sprint(path(n, "full_hash"))] = fmt.Sprint(path(n, "name"))
			}
			root := nodes[0]
			write(fmt.Sprintf("spec-%s-%s-config.json", path(root, "name"), path(root, "version")), []byte(ex.Body))
		case "/ms1/builds/new/":
			inFolder++
			// Spack's id is the MD5 of a Python repr; any stable hex name does here.
			sum := md5.Sum([]byte(ex.Body))
			b := &savedBuild{folder: folders[folder], localID: hex.EncodeToString(sum[:]), hash: fmt.Sprint(body["full_hash"]),
				phases: map[string]*string{}, phaseStatus: map[string]string{}}
			b.name = names[b.hash]
			if tags, ok := body["tags"].(string); ok {
				for _, tag := range strings.Split(tags, ",") {
					b.tags = append(b.tags, tag)
				}
			}
			builds = append(builds, b)
			byStub[num(t, path(ex.StubBody, "data", "build", "build_id"))] = b
			write("build-metadata-"+b.localID+".json", []byte(ex.Body))
		case "/ms1/builds/phases/update/", "/ms1/builds/update/":
			b := byStub[num(t, body["build_id"])]
			body["build_id"] = b.localID
			data, err := json.MarshalIndent(body, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if ex.Path == "/ms1/builds/update/" {
				b.status = fmt.Sprint(body["status"])
				write("build-"+b.localID+"-status.json", data)
				continue
			}
			phase := fmt.Sprint(body["phase_name"])
			out, _ := body["output"].(string)
			b.phases[phase], b.phaseStatus[phase] = &out, fmt.Sprint(body["status"])
			write("build-"+b.localID+"-phase-"+phase+".json", data)
		}
	}
	if folder != 1 || len(builds) != 4 {
		t.Fatalf("fixture: %d folders, %d builds; want 2 and 4", folder+1, len(builds))
	}
	return builds
}

func TestUploadCommand(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *testServer) {
		root := t.TempDir()
		builds := saveLocalFixture(t, root)
		// A file cut short mid-write: reported and skipped, and nothing else lost.
		corrupt := filepath.Join(builds[0].folder, "build-"+builds[0].localID+"-phase-zzz.json")
		if err := os.WriteFile(corrupt, []byte(`{"build_id": "`+builds[0].localID+`", "status": "SUCC`), 0o644); err != nil {
			t.Fatal(err)
		}
		// Not a result file at all: ignored, as Spack ignores it.
		if err := os.WriteFile(filepath.Join(root, "notes.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}

		first := runUpload1(t, srv, root, false)
		wantSummary(t, first, uploadSummary{Files: 16, Folders: 2, Specs: 2, SpecsCreated: 2, Builds: 4, BuildsCreated: 4, Phases: 6, Statuses: 3})
		if len(first.sum.Failures) != 1 || first.sum.Failures[0].File != corrupt || !strings.HasPrefix(first.sum.Failures[0].Reason, "cannot parse") {
			t.Fatalf("failures %+v, want the corrupt file only", first.sum.Failures)
		}
		if first.err == nil || first.err.Error() != "1 of 16 files failed" {
			t.Errorf("error %v, want 1 of 16 files failed", first.err)
		}
		// Off a terminal stderr holds the failure and nothing else.
		if first.stderr != corrupt+": "+first.sum.Failures[0].Reason+"\n" {
			t.Errorf("stderr off a terminal: %q", first.stderr)
		}
		for _, want := range []string{"16 files in 2 result folders", "specs:    2 sent (2 created, 0 already there)", "builds:   4 sent (4 created, 0 already there)",
			"phases:   6 sent", "statuses: 3 sent", "failures: 1", "  " + corrupt + ": cannot parse"} {
			if !strings.Contains(first.stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, first.stdout)
			}
		}

		for _, b := range builds {
			id, ok := first.sum.BuildIDs[filepath.Join(b.folder, b.localID)]
			if !ok {
				t.Fatalf("build %s (%s) was not mapped: %v", b.localID, b.name, first.sum.BuildIDs)
			}
			checkUploaded(t, srv, id, b)
		}
		if n := len(listBuilds(t, srv)); n != 4 {
			t.Errorf("%d builds stored, want 4", n)
		}

		second := runUpload1(t, srv, root, true)
		wantSummary(t, second, uploadSummary{Files: 16, Folders: 2, Specs: 2, SpecsCreated: 0, Builds: 4, BuildsCreated: 0, Phases: 6, Statuses: 3})
		if !reflect.DeepEqual(second.sum.BuildIDs, first.sum.BuildIDs) {
			t.Errorf("second run mapped %v, first %v", second.sum.BuildIDs, first.sum.BuildIDs)
		}
		if n := len(listBuilds(t, srv)); n != 4 {
			t.Errorf("%d builds stored after the second run, want 4", n)
		}
		for _, b := range builds {
			checkUploaded(t, srv, first.sum.BuildIDs[filepath.Join(b.folder, b.localID)], b)
		}
		// On a terminal the progress line is redrawn per file and cleared at the end.
		if !strings.Contains(second.stderr, "\r\033[K[1/16] 2026-11-22-11-16-42-1795346202/spec-mon-top-1.0-config.json") || !strings.Contains(second.stderr, "[16/16] later/") || !strings.HasSuffix(second.stderr, "\r\033[K") {
			t.Errorf("no progress on a terminal: %q", second.stderr)
		}
	})
}

type uploadRun struct {
	sum            *uploadSummary
	stdout, stderr string
	err            error
}

// runUpload1 runs the command the way main does.
func runUpload1(t *testing.T, srv *testServer, root string, terminal bool) uploadRun {
	t.Helper()
	var out, errOut bytes.Buffer
	sum, err := uploadCommand(context.Background(), &out, &errOut, terminal, credentials(srv), []string{root, "--url", srv.URL})
	if sum == nil {
		t.Fatalf("upload sent nothing: %v", err)
	}
	return uploadRun{sum: sum, stdout: out.String(), stderr: errOut.String(), err: err}
}

func wantSummary(t *testing.T, r uploadRun, want uploadSummary) {
	t.Helper()
	got := *r.sum
	got.BuildIDs, got.Failures = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary %+v, want %+v\n%s", got, want, r.stdout)
	}
}

func checkUploaded(t *testing.T, srv *testServer, id int64, b *savedBuild) {
	t.Helper()
	got := srv.get(t, fmt.Sprintf("/api/v1/builds/%d", id)).JSON(t)
	if path(got, "spec", "name") != b.name || path(got, "spec", "full_hash") != b.hash || path(got, "environment", "hostname") != "vm" {
		t.Errorf("build %d (%s): %v", id, b.name, got)
	}
	if tags, _ := got["tags"].([]any); !reflect.DeepEqual(tags, b.tags) && !(len(tags) == 0 && len(b.tags) == 0) {
		t.Errorf("build %d (%s): tags %v, want %v", id, b.name, got["tags"], b.tags)
	}
	switch {
	case b.status != "" && got["status"] != b.status:
		t.Errorf("build %d (%s): status %v, want %s", id, b.name, got["status"], b.status)
	case b.status == "" && got["status"] == "SUCCESS":
		t.Errorf("build %d (%s) has no saved status and was stored as SUCCESS", id, b.name)
	}
	phases, _ := got["phases"].([]any)
	if len(phases) != len(b.phases) {
		t.Errorf("build %d (%s): phases %v, want %d", id, b.name, phases, len(b.phases))
	}
	for _, p := range phases {
		name := fmt.Sprint(path(p, "name"))
		if path(p, "status") != b.phaseStatus[name] {
			t.Errorf("build %d (%s) phase %s: status %v, want %s", id, b.name, name, path(p, "status"), b.phaseStatus[name])
		}
		if out, ok := b.phases[name]; !ok || string(srv.get(t, fmt.Sprintf("/api/v1/builds/%d/phases/%s/output", id, name)).Body) != *out {
			t.Errorf("build %d (%s) phase %s: output differs from the saved one", id, b.name, name)
		}
	}
}

func listBuilds(t *testing.T, srv *testServer) []any {
	t.Helper()
	builds, _ := srv.get(t, "/api/v1/builds?page_size=1000").JSON(t)["builds"].([]any)
	return builds
}

func TestUploadCommandErrors(t *testing.T) {
	srv := startServe(t, backends[0].database(t), nil)
	var out, errOut bytes.Buffer
	if _, err := uploadCommand(context.Background(), &out, &errOut, false, credentials(srv), nil); !errors.Is(err, errUploadUsage) {
		t.Errorf("no directory: %v", err)
	}
	empty := t.TempDir()
	if _, err := uploadCommand(context.Background(), &out, &errOut, false, credentials(srv), []string{empty, "--url", srv.URL}); err == nil || !strings.Contains(err.Error(), "holds no spack install --monitor-save-local run") {
		t.Errorf("empty directory: %v", err)
	}

	// A wrong directory, full of files that Spack's globs would take (a source tree, a
	// home), is refused as a whole, saying what was expected, without a word per file; a
	// run buried deeper than any Spack writes is not looked for.
	wrong := t.TempDir()
	for _, name := range []string{"spec.yaml", "src/spec_parser.py", "build.log", "build/phase-1/status.txt", "build-status.json", "a/b/c/d/e/build-metadata-1.json"} {
		p := filepath.Join(wrong, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not json"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errOut.Reset()
	_, err := uploadCommand(context.Background(), &out, &errOut, false, credentials(srv), []string{wrong, "--url", srv.URL})
	if err == nil || !strings.Contains(err.Error(), "want folders (at most 4 levels down) holding spec-NAME-VERSION-config.json or build-metadata-ID.json") {
		t.Errorf("wrong directory: %v", err)
	}
	if errOut.Len() != 0 {
		t.Errorf("wrong directory: reported per file:\n%s", errOut.String())
	}
	if _, err := uploadCommand(context.Background(), &out, &errOut, false, credentials(srv), []string{filepath.Join(empty, "nope"), "--url", srv.URL}); err == nil {
		t.Error("a missing directory was uploaded")
	}

	// A phase whose build-metadata file is missing fails with that reason; the rest goes in.
	dir := t.TempDir()
	builds := saveLocalFixture(t, dir)
	if err := os.Remove(filepath.Join(builds[0].folder, "build-metadata-"+builds[0].localID+".json")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_, err = uploadCommand(context.Background(), &out, &errOut, false, credentials(srv), []string{dir, "--url", srv.URL})
	if err == nil || !strings.Contains(out.String(), "builds:   3 sent (3 created") || !strings.Contains(out.String(), "has no build-metadata-"+builds[0].localID+".json") {
		t.Errorf("orphan phases: %v\n%s", err, out.String())
	}
}
