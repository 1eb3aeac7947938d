package manifest_test

import (
	"testing"

	"github.com/spackmon/spackmon/services/analysis/manifest"
)

func TestPrefix(t *testing.T) {
	const p = "/opt/spack/opt/spack/linux-x/gcc-12/zlib-1.2-abc123"
	for _, c := range []struct {
		name   string
		paths  []string
		hashes []string
		want   string
	}{
		{"the .spack directory", []string{p + "/.spack", p + "/lib/libz.so", p + "/lib/pkgconfig/zlib.pc"}, nil, p},
		// Without .spack, every file in lib/ would make lib the common directory; the
		// hash names the prefix.
		{"the hash", []string{p + "/lib/libz.so", p + "/lib/libz.a"}, []string{"", "abc123"}, p},
		{"common directory", []string{p + "/lib/libz.so", p + "/lib/libz.a"}, nil, p + "/lib"},
		{"a .spack deeper than some paths is no prefix", []string{p + "/share/x/.spack", p + "/bin/z"}, nil, p},
		{"a lone path", []string{p + "/bin/tar"}, nil, p + "/bin"},
		{"no absolute path", []string{"bin/tar"}, nil, ""},
	} {
		if got := manifest.Prefix(c.paths, c.hashes...); got != c.want {
			t.Errorf("%s: Prefix = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRelative(t *testing.T) {
	for _, c := range []struct{ prefix, path, want string }{
		{"/p", "/p/bin/tar", "bin/tar"},
		{"/p", "/p", "."},
		{"/p", "/p/", "."},
		{"/p", "/pq/x", "pq/x"},
		{"/", "/bin/tar", "bin/tar"},
		{"", "bin//tar", "bin/tar"},
	} {
		if got := manifest.Relative(c.prefix, c.path); got != c.want {
			t.Errorf("Relative(%q, %q) = %q, want %q", c.prefix, c.path, got, c.want)
		}
	}
}
