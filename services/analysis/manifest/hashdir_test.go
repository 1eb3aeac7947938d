package manifest

import (
	"encoding/json"
	"os"
	"path"
	"strings"
	"testing"
)

// hashDirByPath is hashDir as path.Dir and path.Base say it, the reference for the
// slicing one.
func hashDirByPath(p, h string) (string, bool) {
	for dir := p; dir != "/"; dir = path.Dir(dir) {
		if b := path.Base(dir); b == h || strings.HasSuffix(b, "-"+h) {
			return dir, true
		}
	}
	return "", false
}

func TestHashDirMatchesPathFunctions(t *testing.T) {
	paths := []string{"/", "/a", "/abc", "/x-abc", "/x-abc/y", "/p/x-abc/lib/libz.so", "/p/abc/y-abc",
		"/p/xabc/q", "/p/-abc", "/p/abc-", "/abcabc/-abc/z", "/p/q/r"}
	for _, p := range paths {
		for _, h := range []string{"abc", "c", "q", "p", "x-abc", "z", "-abc"} {
			gotDir, gotOK := hashDir(p, h)
			wantDir, wantOK := hashDirByPath(p, h)
			if gotDir != wantDir || gotOK != wantOK {
				t.Errorf("hashDir(%q, %q) = %q, %v; path functions say %q, %v", p, h, gotDir, gotOK, wantDir, wantOK)
			}
		}
	}
}

// BenchmarkFiles resolves the fixture manifest as RecordAnalysis does, with the hash that
// names the prefix and one no path holds.
func BenchmarkFiles(b *testing.B) {
	data, err := os.ReadFile("../../../testdata/dummy-tar-spack/install_manifest.json")
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]Entry
	if err := json.Unmarshal(data, &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, prefix := FilesAndPrefix(m, "notapathhash", "v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5"); !strings.HasSuffix(prefix, "v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5") {
			b.Fatalf("prefix %q", prefix)
		}
	}
}
