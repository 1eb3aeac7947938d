package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

// The texts the gates are checked on: the normalisation cases and near misses of each rule.
var gateSeeds = []string{
	"/tmp/vanessa/spack-stage/spack-stage-tar-1.32-v2t5umv3cgfsc3fbzuzm7u7ig7gxdqq5/spack-src/conftest.c:123: undefined reference to `getprogname'",
	"/home/al/spack/opt/spack/linux-ubuntu22.04-x86_64/gcc-11.3.0/zlib-1.2.13-abcdefghijklmnopqrstuvwxyz234567/lib/libz.so: error adding symbols",
	"error: spec abcdefghijklmnopqrstuvwxyz234567 failed", "abcdefghijklmnopqrstuvwxyz23456 x",
	"/usr/bin/ld: cannot find -lselinux", "x=/usr/lib/a.so", "(/opt/x/y)", "\t/a/b", "'/a/b'", "a/b/c",
	"make[2]: *** [Makefile:812: all] Error 1", "gmake[10]: x", "ninja[3]", "-Wunused-variable]",
	"segfault at 0x7ffd1234abcd in foo.constprop.3 at 2026-12-06T01:02:03Z", "at 01:02:03.5", "1:2:3", "12:34:5",
	"f.c(12): error", "f.c(12,3): x", "f(x)", "foo.isra.0 bar.part.12 .cold.1 .lto_priv.0 .clone.7",
	"/tmp/ccAbC123.o: in function `main':", "line 12 column 3",
}

// TestGatesKeepMatches checks that no rule's gate or need turns away a text its pattern
// matches, on the seeds and every line of the repository's logs.
func TestGatesKeepMatches(t *testing.T) {
	for _, text := range gateTexts(t) {
		checkGates(t, text)
	}
}

// TestReplacersMatchPatterns checks every replacer against its rule's ReplaceAllString.
func TestReplacersMatchPatterns(t *testing.T) {
	texts := gateTexts(t)
	for _, s := range []string{"", ":", ".c:", ".c:1", ".c:1:", ".c:1:2:3", "..c:1", ".:1", "a.b.c:12:x", "xMakefile:3",
		"Makefile:3", "(Makefile:3:4)", "CMakeLists.txt:9", "CMakeLists.txt:", "CMakeLists:1", "Makefile.am:3", ".Makefile:2",
		"_Makefile:1", "+.c++:7:8:9", "é.c:1", ".c\xff:1", "f.c:1 g.h:2:3 Makefile:4", "M", "C", "."} {
		texts = append(texts, s)
	}
	for _, text := range texts {
		checkReplacers(t, text)
	}
}

func FuzzReplacers(f *testing.F) { fuzzGateSeeds(f, checkReplacers) }

// fuzzGateSeeds fuzzes check on texts, starting from the seeds.
func fuzzGateSeeds(f *testing.F, check func(t *testing.T, text string)) {
	for _, s := range gateSeeds {
		f.Add(s)
	}
	f.Fuzz(check)
}

func checkReplacers(t *testing.T, text string) {
	for i, r := range rules {
		if r.replacer == nil {
			continue
		}
		if got, want := r.replacer(text), r.re.ReplaceAllString(text, r.with); got != want {
			t.Fatalf("rule %d (%s) on %q: replacer %q, pattern %q", i, r.re, text, got, want)
		}
	}
}

// gateTexts are the seeds and every line of the repository's logs.
func gateTexts(t *testing.T) []string {
	texts := append([]string(nil), gateSeeds...)
	for _, dir := range []string{"dummy-tar-spack", "spack-client", "cdash-client"} {
		_ = filepath.WalkDir(fixtures.Path(t, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".log") || strings.HasSuffix(path, ".txt")) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				texts = append(texts, strings.Split(string(data), "\n")...)
			}
			return nil
		})
	}
	if len(texts) < 1000 {
		t.Fatalf("only %d texts", len(texts))
	}
	return texts
}

func FuzzGates(f *testing.F) { fuzzGateSeeds(f, checkGates) }

func checkGates(t *testing.T, text string) {
	for i, r := range rules {
		if !r.re.MatchString(text) {
			continue
		}
		if r.need != nil && !r.need(text) {
			t.Errorf("rule %d (%s): need turns away %q", i, r.re, text)
		}
		if len(r.gate) > 0 && !containsAny(text, r.gate) {
			t.Errorf("rule %d (%s): gate turns away %q", i, r.re, text)
		}
	}
}

func containsAny(text string, words []string) bool {
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// TestWordSetsMatchContains checks that the one-pass word sets answer every gate and class
// word as strings.Contains does, on the seeds and every line of the repository's logs.
func TestWordSetsMatchContains(t *testing.T) {
	for _, text := range gateTexts(t) {
		checkWordSets(t, text)
	}
}

func FuzzWordSets(f *testing.F) { fuzzGateSeeds(f, checkWordSets) }

func checkWordSets(t *testing.T, text string) {
	var small [2]uint64
	set := gateWords.findIn(text, &small)
	for i, r := range rules {
		for j, g := range r.gate {
			if got, want := gateWords.any(text, set, r.gate[j:j+1], r.gateIDs[j:j+1]), strings.Contains(text, g); got != want {
				t.Fatalf("rule %d, gate %q in %q: word set %v, Contains %v", i, g, text, got, want)
			}
		}
	}
	lower := strings.ToLower(text)
	set = classWords.findIn(lower, &small)
	for _, r := range classRules {
		for _, l := range [][]string{r.words, r.gate} {
			ids := classWords.idsOf(l)
			for j, w := range l {
				if got, want := classWords.any(lower, set, l[j:j+1], ids[j:j+1]), strings.Contains(lower, w); got != want {
					t.Fatalf("class %s, word %q in %q: word set %v, Contains %v", r.class, w, lower, got, want)
				}
			}
		}
	}
}
