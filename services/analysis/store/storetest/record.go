package storetest

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/services/analysis/manifest"
	"github.com/spackmon/spackmon/services/analysis/store"
)

var recordTests = []namedTest{
	{Name: "DummyTarReadBack", Fn: testDummyTarReadBack},
	{Name: "ClientSessions", Fn: testClientSessions},
	{Name: "InstallFilesUpsertByPath", Fn: testInstallFilesUpsert},
	{Name: "EnvironmentReplacedPerBuild", Fn: testEnvironmentReplaced},
	{Name: "ConfigArgsReplaced", Fn: testConfigArgsReplaced},
	{Name: "EmptyAnalysisChangesNothing", Fn: testEmptyAnalysis},
}

// The original server's test: the dummy-tar metadata, then its 155 install files with
// their modes and hashes, its 22 environment variables and its configure arguments read
// back.
func testDummyTarReadBack(t *testing.T, st store.Store) {
	d := loadDummyTar(t)
	if len(d.manifest) != 155 || len(d.env) != 22 {
		t.Fatalf("fixture: %d manifest entries, %d variables; want 155, 22", len(d.manifest), len(d.env))
	}
	sum := record(t, st, 1, d.analysis())
	if want := (store.Summary{ConfigArgs: true, EnvironmentVariables: 22, InstallFiles: 155}); sum != want {
		t.Errorf("Summary = %+v, want %+v", sum, want)
	}

	// The manifest lists the prefix itself too: it is ".".
	const prefix = "/home/vanessa/Desktop/Code/spack/opt/spack/linux-ubuntu20.04-skylake/gcc-9.3.0/tar-1.32-v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5"
	files := allFiles(t, st, store.InstallFileQuery{BuildID: 1})
	if len(files) != 155 {
		t.Fatalf("read back %d install files, want 155", len(files))
	}
	seen := map[string]bool{}
	for i, f := range files {
		if i > 0 && files[i-1].Path >= f.Path {
			t.Errorf("install files not in path order: %q before %q", files[i-1].Path, f.Path)
		}
		seen[f.Path] = true
		abs := prefix + "/" + f.Path
		if f.Path == "." {
			abs = prefix
		}
		e, ok := d.manifest[abs]
		if !ok {
			t.Errorf("install file %q is not the manifest's %q without the prefix", f.Path, abs)
			continue
		}
		if f.Type != e.Type || *f.Mode != *e.Mode || *f.Owner != *e.Owner || *f.Group != *e.Group || f.Hash != e.Hash ||
			(f.Size == nil) != (e.Size == nil) || (f.Size != nil && *f.Size != *e.Size) {
			t.Errorf("install file %q = %s, manifest says %+v", f.Path, show(f), e)
		}
	}
	if len(seen) != 155 {
		t.Errorf("%d distinct paths, want 155", len(seen))
	}
	tar := allFiles(t, st, store.InstallFileQuery{BuildID: 1, PathPrefix: "bin/tar"})
	if len(tar) != 1 || tar[0].Path != "bin/tar" || *tar[0].Mode != 33261 || tar[0].Hash != "F7VQSJFAPKADSUN5RTFJZBLUMXUNYF6X" ||
		*tar[0].Size != 2732416 || tar[0].Type != "file" || *tar[0].Owner != 1000 || *tar[0].Group != 1000 {
		t.Errorf("bin/tar = %v", tar)
	}
	dirs := allFiles(t, st, store.InstallFileQuery{BuildID: 1, Type: "dir"})
	if len(dirs) != 93 || dirs[0].Path != "." || dirs[1].Path != ".spack" || dirs[1].Hash != "" || dirs[1].Size != nil || *dirs[1].Mode != 17901 {
		t.Errorf("dirs: %d, first %s; want 93 starting with . and .spack without hash or size", len(dirs), show2(dirs[:2]))
	}

	if got := environment(t, st, 1); !maps.Equal(got, d.env) {
		t.Errorf("environment = %v, want %v", got, d.env)
	}
	if got := environment(t, st, 1)["SPACK_CC"]; got != "/usr/bin/gcc" {
		t.Errorf("SPACK_CC = %q", got)
	}
	args, ok, err := st.GetConfigArgs(ctx(t), 1)
	if err != nil || !ok || args != d.configArgs {
		t.Errorf("GetConfigArgs = %q, %v, %v; want %q", args, ok, err, d.configArgs)
	}
	if n := len(allFiles(t, st, store.InstallFileQuery{BuildID: 2})); n != 0 {
		t.Errorf("build 2 has %d install files", n)
	}
}

func show(f store.InstallFile) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// The analyze requests of recorded Spack v0.17.2 and v0.18 clients, stored one after the
// other for one build as the service will: each adds its part and leaves the others.
func testClientSessions(t *testing.T, st store.Store) {
	for i, session := range []string{"v0.17.2-analyze.jsonl", "v0.18-analyze.jsonl"} {
		build := int64(i + 1)
		var want store.Analysis
		for _, md := range analyzeRequests(t, session) {
			var a store.Analysis
			for key, raw := range md {
				var err error
				switch key {
				case "config_args":
					err = json.Unmarshal(raw, &a.ConfigArgs)
					want.ConfigArgs = a.ConfigArgs
				case "environment_variables":
					err = json.Unmarshal(raw, &a.Environment)
					want.Environment = a.Environment
				case "install_files":
					var m map[string]manifest.Entry
					err = json.Unmarshal(raw, &m)
					a.InstallFiles = manifest.Files(m)
					want.InstallFiles = append(want.InstallFiles, a.InstallFiles...)
				default:
					t.Fatalf("%s: unexpected analyzer %s", session, key)
				}
				if err != nil {
					t.Fatalf("%s: %s: %v", session, key, err)
				}
			}
			record(t, st, build, a)
		}
		files := allFiles(t, st, store.InstallFileQuery{BuildID: build, Limit: 7})
		if len(files) != len(want.InstallFiles) {
			t.Errorf("%s: %d install files, want %d", session, len(files), len(want.InstallFiles))
		}
		for j, f := range files {
			if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "mon-root-2.1-") {
				t.Errorf("%s: path %q still holds the prefix", session, f.Path)
			}
			if j < len(want.InstallFiles) && show(f) != show(want.InstallFiles[j]) {
				t.Errorf("%s: file %d = %s, want %s", session, j, show(f), show(want.InstallFiles[j]))
			}
		}
		if got := environment(t, st, build); !maps.Equal(got, want.Environment) {
			t.Errorf("%s: environment = %v, want %v", session, got, want.Environment)
		}
		args, ok, err := st.GetConfigArgs(ctx(t), build)
		if want.ConfigArgs == nil || err != nil || !ok || args != *want.ConfigArgs {
			t.Errorf("%s: config args = %q, %v, %v; want %v", session, args, ok, err, want.ConfigArgs)
		}
	}
}

// A manifest upserts by path: a changed file is rewritten, files it does not name stay.
func testInstallFilesUpsert(t *testing.T, st store.Store) {
	record(t, st, 1, store.Analysis{InstallFiles: []store.InstallFile{
		{Path: "bin/a", Type: "file", Mode: ptr[int64](33261), Owner: ptr[int64](0), Group: ptr[int64](0), Hash: "H1", Size: ptr[int64](10)},
		{Path: "bin", Type: "dir", Mode: ptr[int64](17901), Owner: ptr[int64](0), Group: ptr[int64](0)},
	}})
	sum := record(t, st, 1, store.Analysis{InstallFiles: []store.InstallFile{
		{Path: "bin/a", Type: "file", Mode: ptr[int64](33188), Owner: ptr[int64](1), Group: ptr[int64](2), Hash: "H2", Size: ptr[int64](20)},
		{Path: "lib/b", Type: "link", Mode: ptr[int64](41471)},
		{Path: "lib/b", Type: "file", Mode: ptr[int64](33188)}, // the last one wins
	}})
	if sum.InstallFiles != 2 {
		t.Errorf("Summary.InstallFiles = %d, want 2 (duplicates dropped)", sum.InstallFiles)
	}
	got := allFiles(t, st, store.InstallFileQuery{BuildID: 1})
	want := []store.InstallFile{
		{Path: "bin", Type: "dir", Mode: ptr[int64](17901), Owner: ptr[int64](0), Group: ptr[int64](0)},
		{Path: "bin/a", Type: "file", Mode: ptr[int64](33188), Owner: ptr[int64](1), Group: ptr[int64](2), Hash: "H2", Size: ptr[int64](20)},
		{Path: "lib/b", Type: "file", Mode: ptr[int64](33188)},
	}
	if show2(got) != show2(want) {
		t.Errorf("install files = %s, want %s", show2(got), show2(want))
	}
	// The same path in another build is another file.
	record(t, st, 2, store.Analysis{InstallFiles: []store.InstallFile{{Path: "bin/a", Type: "file"}}})
	if got := allFiles(t, st, store.InstallFileQuery{BuildID: 1, PathPrefix: "bin/a"}); len(got) != 1 || got[0].Hash != "H2" {
		t.Errorf("build 1's bin/a after build 2's: %s", show2(got))
	}
}

func show2(fs []store.InstallFile) string {
	b, _ := json.Marshal(fs)
	return string(b)
}

// Environment variables are replaced as a set, per build: the other build keeps its own,
// including the variables the two builds share.
func testEnvironmentReplaced(t *testing.T, st store.Store) {
	shared := map[string]string{"SPACK_CC": "/usr/bin/gcc", "SPACK_SHORT_SPEC": "tar@1.32"}
	record(t, st, 1, store.Analysis{Environment: maps.Clone(shared)})
	record(t, st, 2, store.Analysis{Environment: maps.Clone(shared)})
	replaced := map[string]string{"SPACK_CC": "/usr/bin/clang", "SPACK_NEW": "x=y;z", "SPACK_EMPTY": ""}
	if sum := record(t, st, 1, store.Analysis{Environment: replaced}); sum.EnvironmentVariables != 3 {
		t.Errorf("Summary.EnvironmentVariables = %d, want 3", sum.EnvironmentVariables)
	}
	if got := environment(t, st, 1); !maps.Equal(got, replaced) {
		t.Errorf("build 1 = %v, want %v", got, replaced)
	}
	if got := environment(t, st, 2); !maps.Equal(got, shared) {
		t.Errorf("build 2 = %v, want it untouched: %v", got, shared)
	}
	// nil leaves the set alone; an empty map clears it.
	record(t, st, 1, store.Analysis{ConfigArgs: ptr("--x")})
	if got := environment(t, st, 1); !maps.Equal(got, replaced) {
		t.Errorf("build 1 after a Record without environment = %v", got)
	}
	record(t, st, 1, store.Analysis{Environment: map[string]string{}})
	if got := environment(t, st, 1); len(got) != 0 {
		t.Errorf("build 1 after an empty environment = %v", got)
	}
	if got := environment(t, st, 2); !maps.Equal(got, shared) {
		t.Errorf("build 2 = %v after build 1 was cleared", got)
	}
	if got := environment(t, st, 3); len(got) != 0 {
		t.Errorf("unknown build's environment = %v", got)
	}
}

func testConfigArgsReplaced(t *testing.T, st store.Store) {
	if args, ok, err := st.GetConfigArgs(ctx(t), 1); err != nil || ok || args != "" {
		t.Errorf("GetConfigArgs before any = %q, %v, %v", args, ok, err)
	}
	record(t, st, 1, store.Analysis{ConfigArgs: ptr("--prefix=/a")})
	record(t, st, 2, store.Analysis{ConfigArgs: ptr("--prefix=/b")})
	record(t, st, 1, store.Analysis{ConfigArgs: ptr("")})
	if args, ok, err := st.GetConfigArgs(ctx(t), 1); err != nil || !ok || args != "" {
		t.Errorf("GetConfigArgs(1) = %q, %v, %v; want recorded and empty", args, ok, err)
	}
	if args, ok, err := st.GetConfigArgs(ctx(t), 2); err != nil || !ok || args != "--prefix=/b" {
		t.Errorf("GetConfigArgs(2) = %q, %v, %v", args, ok, err)
	}
}

func testEmptyAnalysis(t *testing.T, st store.Store) {
	record(t, st, 1, store.Analysis{Environment: map[string]string{"SPACK_A": "1"}, ConfigArgs: ptr("x")})
	if sum := record(t, st, 1, store.Analysis{}); sum != (store.Summary{}) {
		t.Errorf("Summary of an empty analysis = %+v", sum)
	}
	if got := environment(t, st, 1); got["SPACK_A"] != "1" {
		t.Errorf("environment = %v", got)
	}
}
