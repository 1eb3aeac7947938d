package fingerprint_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/tmp/vanessa/spack-stage/spack-stage-tar-1.32-v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5/spack-src/conftest.c:123: undefined reference to `getprogname'",
			"<stage>/conftest.c:<n>: undefined reference to `getprogname'"},
		{"conftest.c:111:21: error: expected expression before ')' token", "conftest.c:<n>: error: expected expression before ')' token"},
		{"/home/al/spack/opt/spack/linux-ubuntu22.04-x86_64/gcc-11.3.0/zlib-1.2.13-abcdefghijklmnopqrstuvwxyz234567/lib/libz.so: error adding symbols",
			"<prefix>/lib/libz.so: error adding symbols"},
		{"/usr/bin/ld: cannot find -lselinux", "ld: cannot find -lselinux"},
		{"make[2]: *** [Makefile:812: all] Error 1", "make[<n>]: *** [Makefile:<n>: all] Error 1"},
		{"segfault at 0x7ffd1234abcd in foo.constprop.3 at 2026-12-06T01:02:03Z", "segfault at 0x<addr> in foo.constprop.<n> at <time>"},
		{"/tmp/ccAbC123.o: in function `main':", "<tmp>.o: in function `main':"},
		{"error: spec abcdefghijklmnopqrstuvwxyz234567 failed", "error: spec <hash> failed"},
	}
	for _, c := range cases {
		if got := fingerprint.Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		kind logparse.Kind
		text string
		want fingerprint.Class
	}{
		{logparse.Error, "foo.c:1:2: undefined reference to `omp_get_thread_num'", fingerprint.UndefinedSymbol},
		{logparse.Error, "/usr/bin/ld: cannot find -lselinux", fingerprint.MissingLibrary},
		{logparse.Error, "collect2: error: ld returned 1 exit status", fingerprint.LinkerError},
		{logparse.Error, "conftest.c:11:10: fatal error: minix/config.h: No such file or directory", fingerprint.MissingHeader},
		{logparse.Error, "CMake Error at CMakeLists.txt:12 (find_package):", fingerprint.ConfigureCheck},
		{logparse.Error, "configure: error: C compiler cannot create executables", fingerprint.ConfigureCheck},
		{logparse.Error, "  Could NOT find MPI_C (missing: MPI_C_LIB_NAMES)", fingerprint.MissingDependency},
		{logparse.Error, "gcc: error: unrecognized command line option '-V'", fingerprint.CompilerOption},
		{logparse.Error, "The following tests FAILED:", fingerprint.TestFailure},
		{logparse.Error, "x.cpp:3:1: error: 'foo' was not declared in this scope", fingerprint.CompilerError},
		{logparse.Error, "make: *** [Makefile:2: all] Error 2", fingerprint.BuildTool},
		{logparse.Warning, "x.c:3:1: warning: unused variable 'i'", fingerprint.CompilerWarning},
	}
	for _, c := range cases {
		if got := fingerprint.Of(c.kind, c.text).Class; got != c.want {
			t.Errorf("class of %q = %s, want %s", c.text, got, c.want)
		}
	}
}

// TestConfigLogGrouping fingerprints the 88 errors of a real configure log (tar@1.32's
// config.log, testdata/dummy-tar-spack) and prints the groups they fall into: at least
// 95% must get a class, and the errors that differ only in line, column or stage path
// must share a fingerprint.
func TestConfigLogGrouping(t *testing.T) {
	found := logparse.Parse(fixtures.Read(t, "dummy-tar-spack", "config.log"))
	type group struct {
		print fingerprint.Print
		lines []int
	}
	groups := map[string]*group{}
	classified, errors := 0, 0
	for _, e := range found.Events {
		if e.Kind != logparse.Error {
			continue
		}
		errors++
		p := fingerprint.Of(e.Kind, e.Text)
		if p.Class != fingerprint.Other {
			classified++
		}
		g := groups[p.Hash]
		if g == nil {
			g = &group{print: p}
			groups[p.Hash] = g
		}
		g.lines = append(g.lines, e.LineNo)
	}
	if errors != 88 {
		t.Fatalf("config.log has %d errors, want 88", errors)
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].print.Class != list[j].print.Class {
			return list[i].print.Class < list[j].print.Class
		}
		if len(list[i].lines) != len(list[j].lines) {
			return len(list[i].lines) > len(list[j].lines)
		}
		return list[i].print.Normal < list[j].print.Normal
	})
	var report strings.Builder
	fmt.Fprintf(&report, "%d errors, %d classified, %d fingerprints\n", errors, classified, len(groups))
	for _, g := range list {
		fmt.Fprintf(&report, "%-24s %3d  %s\n", g.print.Class, len(g.lines), g.print.Normal)
	}
	t.Log("\n" + report.String())
	if classified*100 < errors*95 {
		t.Errorf("%d of %d errors classified, want at least 95%%", classified, errors)
	}
	want := map[string]int{
		"conftest.c:<n>: error: expected expression before ')' token":                       13,
		"collect2: error: ld returned 1 exit status":                                        10,
		"conftest.c:<n>: fatal error: sys/mkdev.h: No such file or directory":               2,
		"conftest.c:<n>: error: 'struct stat' has no member named 'st_birthtimespec'":       2,
		"<stage>/conftest.c:<n>: undefined reference to `getprogname'":                      1,
		"conftest.c:<n>: fatal error: CoreFoundation/CFLocale.h: No such file or directory": 2,
	}
	for _, g := range list {
		if n, ok := want[g.print.Normal]; ok {
			if len(g.lines) != n {
				t.Errorf("group %q has %d errors, want %d", g.print.Normal, len(g.lines), n)
			}
			delete(want, g.print.Normal)
		}
	}
	for normal := range want {
		t.Errorf("no group %q", normal)
	}
}

// TestReplaysAgree fingerprints the errors of one failing build as two machines would log
// it: other users, stage and install roots, spack hashes, host names, temporaries,
// addresses and times. The fingerprints must be the same, in the same order.
func TestReplaysAgree(t *testing.T) {
	type machine struct{ user, host, root, hash, depHash, tmp, addr, when string }
	machines := []machine{
		{"vanessa", "quartz12", "/g/g0/vanessa/spack", "v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5", "abcdefghijklmnopqrstuvwxyz234567", "ccQx81aZ", "0x7ffd10a0", "2026-12-01T10:11:12Z"},
		{"runner", "ci-7f3b9", "/builds/spack/spack", "q4rbxmyz2w6x7jakq3s5cfgnmvbeqd3h", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz2", "cc9dkePq", "0x55d2c0ff", "2026-12-06 03:04:05"},
	}
	var prints [][]string
	for _, m := range machines {
		stage := "/tmp/" + m.user + "/spack-stage/spack-stage-hdf5-1.12.2-" + m.hash
		prefix := m.root + "/opt/spack/linux-rhel8-zen2/gcc-12.1.0/openmpi-4.1.4-" + m.depHash
		lines := []string{
			stage + "/spack-src/src/H5Dmpio.c:1411:27: error: 'MPI_COMBINER_HVECTOR_INTEGER' undeclared (first use in this function)",
			"/usr/bin/ld: " + stage + "/spack-build-" + m.hash[:7] + "/src/.libs/libhdf5.so: undefined reference to `ompi_mpi_comm_world'",
			"/usr/bin/ld: " + prefix + "/lib/libmpi.so: undefined reference to `opal_list_t_class'",
			"collect2: error: ld returned 1 exit status",
			"/tmp/" + m.tmp + ".o: in function `H5D__mpio_opt':",
			"make[2]: *** [Makefile:1523: libhdf5.la] Error 1",
			"Segmentation fault at " + m.addr + " on " + m.host + " at " + m.when,
			"==> Error: ProcessError: Command exited with status 2: 'make' '-j16' in " + stage + "/spack-build-" + m.hash[:7],
		}
		var ps []string
		for _, l := range lines {
			ps = append(ps, fingerprint.Of(logparse.Error, strings.ReplaceAll(l, m.host, "<host>")).Hash)
		}
		prints = append(prints, ps)
	}
	for i := range prints[0] {
		if prints[0][i] != prints[1][i] {
			t.Errorf("line %d: fingerprints differ: %s and %s", i, prints[0][i], prints[1][i])
		}
	}
}

func TestCompare(t *testing.T) {
	c := func(h string) fingerprint.Count {
		return fingerprint.Count{Print: fingerprint.Print{Hash: h}, Events: 1}
	}
	d := fingerprint.Compare([]fingerprint.Count{c("a"), c("b")}, []fingerprint.Count{c("b"), c("c")})
	if len(d.New) != 1 || d.New[0].Hash != "a" || len(d.Outstanding) != 1 || d.Outstanding[0].Hash != "b" || len(d.Fixed) != 1 || d.Fixed[0].Hash != "c" {
		t.Errorf("Compare = %+v", d)
	}
}

// BenchmarkOfConfigLog fingerprints every error and warning of config.log (107 events), as
// ingest does when the log is posted.
func BenchmarkOfConfigLog(b *testing.B) {
	found := logparse.Parse(fixtures.Read(b, "dummy-tar-spack", "config.log"))
	b.ReportAllocs()
	for range b.N {
		for _, e := range found.Events {
			fingerprint.Of(e.Kind, e.Text)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(found.Events)), "ns/event")
}
