// Package manifest turns a Spack install manifest (install_manifest.json, sent as the
// install_files analyzer result) into the install files the store keeps: paths relative
// to the build's install prefix, which the manifest itself does not name.
//
// The prefix is found, in order of trust, as:
//  1. the directory named <anything>-<hash> for one of the spec's hashes the caller knows
//     (Spack's default projection ends the prefix with {name}-{version}-{hash});
//  2. the parent of the shortest path whose last element is ".spack": Spack writes its
//     metadata directory into every prefix and the manifest lists it;
//  3. the deepest directory all absolute paths share.
//
// A candidate is used only when every absolute path lies in it, so the last one always
// applies. Upstream kept the text after "/spack/opt/spack/", which keeps the architecture
// and compiler directories and breaks for install trees elsewhere.
package manifest

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/spackmon/spackmon/services/analysis/store"
)

// Entry is one value of a manifest. Spack gives every entry type, mode, owner and group,
// and files also hash, size and time.
type Entry struct {
	Type  string `json:"type"`
	Mode  *int64 `json:"mode"`
	Owner *int64 `json:"owner"`
	Group *int64 `json:"group"`
	Hash  string `json:"hash"`
	Size  *int64 `json:"size"`
}

// Parse reads a manifest document.
func Parse(data []byte) (map[string]Entry, error) {
	var m map[string]Entry
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("install manifest: %w", err)
	}
	return m, nil
}

// Prefix returns the install prefix of the absolute paths among paths, using hashes (the
// spec's DAG or full hash, any may be "") when one names a directory; "" when no path is
// absolute.
func Prefix(paths []string, hashes ...string) string {
	var abs []string
	for _, p := range paths {
		if strings.HasPrefix(p, "/") {
			abs = append(abs, path.Clean(p))
		}
	}
	if len(abs) == 0 {
		return ""
	}
	var candidates []string
	for _, h := range hashes {
		if h == "" {
			continue
		}
		for _, p := range abs {
			if dir, ok := hashDir(p, h); ok {
				candidates = append(candidates, dir)
				break
			}
		}
	}
	shortest := ""
	for _, p := range abs {
		if path.Base(p) == ".spack" && (shortest == "" || len(p) < len(shortest)) {
			shortest = p
		}
	}
	if shortest != "" {
		candidates = append(candidates, path.Dir(shortest))
	}
	for _, c := range candidates {
		if !slices.ContainsFunc(abs, func(p string) bool { return !within(p, c) }) {
			return c
		}
	}
	return common(abs)
}

// hashDir returns the directory of p (cleaned, absolute) whose name is h or ends in "-"+h.
// It slices p at its slashes rather than calling path.Dir and path.Base, which clean
// every level again: a hash named by no path makes it walk every level of every path.
func hashDir(p, h string) (string, bool) {
	for dir := p; dir != "/"; {
		i := strings.LastIndexByte(dir, '/')
		if b := dir[i+1:]; b == h || (strings.HasSuffix(b, h) && len(b) > len(h) && b[len(b)-len(h)-1] == '-') {
			return dir, true
		}
		if i <= 0 {
			break
		}
		dir = dir[:i]
	}
	return "", false
}

// common is the deepest directory that holds every path of abs (cleaned, absolute). A
// lone path is taken to be a file or directory in the prefix, not the prefix.
func common(abs []string) string {
	c := path.Dir(abs[0])
	for _, p := range abs[1:] {
		for !within(p, c) {
			c = path.Dir(c)
		}
	}
	return c
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// Relative returns p relative to prefix: "." for the prefix itself, p cleaned and without
// its leading slashes when it is not below prefix (or prefix is "").
func Relative(prefix, p string) string {
	p = path.Clean(p)
	if prefix != "" && within(p, prefix) {
		if p == prefix {
			return "."
		}
		return strings.TrimPrefix(p, strings.TrimSuffix(prefix, "/")+"/")
	}
	if rel := strings.TrimLeft(p, "/"); rel != "" {
		return rel
	}
	return "."
}

// Files returns the manifest's entries as install files with paths relative to the
// prefix Prefix finds, sorted by path.
func Files(m map[string]Entry, hashes ...string) []store.InstallFile {
	files, _ := FilesAndPrefix(m, hashes...)
	return files
}

// FilesAndPrefix is Files, and the prefix it found, for a caller that makes other paths
// relative to it (finding the prefix is most of the work).
func FilesAndPrefix(m map[string]Entry, hashes ...string) ([]store.InstallFile, string) {
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	prefix := Prefix(paths, hashes...)
	files := make([]store.InstallFile, 0, len(m))
	for _, p := range paths {
		e := m[p]
		files = append(files, store.InstallFile{
			Path: Relative(prefix, p), Type: e.Type, Mode: e.Mode, Owner: e.Owner, Group: e.Group, Hash: e.Hash, Size: e.Size,
		})
	}
	return files, prefix
}
