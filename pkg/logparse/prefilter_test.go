package logparse

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// gen appends a random string matched by re (ignoring anchors, which the caller handles
// by sometimes adding no prefix). Letters under case folding come out in either case, so
// the folding in the prefilter is exercised.
func gen(r *rand.Rand, re *syntax.Regexp, sb *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r.IntN(2) == 0 {
				orbit := []rune{c}
				for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
					orbit = append(orbit, f)
				}
				c = orbit[r.IntN(len(orbit))]
			}
			sb.WriteRune(c)
		}
	case syntax.OpCharClass:
		sb.WriteRune(classRune(r, re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		sb.WriteRune(classRune(r, []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}))
	case syntax.OpCapture:
		gen(r, re.Sub[0], sb)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 3
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + 3
			}
		}
		for range lo + r.IntN(hi-lo+1) {
			gen(r, re.Sub[0], sb)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			gen(r, s, sb)
		}
	case syntax.OpAlternate:
		gen(r, re.Sub[r.IntN(len(re.Sub))], sb)
	}
}

// classRune picks a rune of the class, usually printable ASCII because that is what logs
// hold, sometimes anything including U+FFFD.
func classRune(r *rand.Rand, ranges []rune) rune {
	in := func(c rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= c && c <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	if r.IntN(5) != 0 {
		for range 50 {
			if c := rune(' ' + r.IntN(95)); in(c) {
				return c
			}
		}
	}
	for {
		i := 2 * r.IntN(len(ranges)/2)
		c := ranges[i] + rune(r.Int64N(int64(ranges[i+1]-ranges[i])+1))
		if utf8.ValidRune(c) {
			return c
		}
	}
}

var affixes = []string{"", "", "x", "  ", "foo.c:1: ", "ERROR", "\xff", "é"}

// patternLines returns n random lines for every pattern, each likely to match it.
func patternLines(seed uint64, n int) [][]string {
	return patternLinesOf(rules().src, seed, n)
}

// patternLinesOf returns n random lines for each of patterns, each likely to match it.
func patternLinesOf(patterns []string, seed uint64, n int) [][]string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out [][]string
	for _, p := range patterns {
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			panic(err)
		}
		var lines []string
		for range n {
			var sb strings.Builder
			sb.WriteString(affixes[r.IntN(len(affixes))])
			gen(r, re, &sb)
			sb.WriteString(affixes[r.IntN(len(affixes))])
			lines = append(lines, sb.String())
		}
		out = append(out, lines)
	}
	return out
}

// generatedLog mixes generated lines for every pattern with filler, so events sit at
// every distance from each other and from the ends.
func generatedLog(seed uint64, n int) []byte {
	var all []string
	for i, lines := range patternLines(seed, n) {
		for j, l := range lines {
			all = append(all, l)
			if (i+j)%3 == 0 {
				all = append(all, "checking for something... yes")
			}
		}
	}
	return []byte(strings.Join(all, "\n"))
}

// TestPrefilterSound checks the property the fast path rests on: whenever a pattern
// matches a line, the prefilter lists it as a candidate.
func TestPrefilterSound(t *testing.T) {
	rs := rules()
	cand := make([]uint64, rs.pre.words)
	for id, lines := range patternLines(3, 300) {
		matched := 0
		for _, l := range lines {
			if !rs.res[id].MatchString(l) {
				continue
			}
			matched++
			rs.pre.candidates([]byte(l), cand)
			if cand[id>>6]&(1<<(id&63)) == 0 {
				t.Errorf("pattern %q matches %q but the prefilter rules it out", rs.src[id], l)
			}
		}
		if matched < 30 {
			t.Errorf("pattern %q: only %d of %d generated lines match; generator too weak to test it", rs.src[id], matched, len(lines))
		}
	}
}

func TestRequiredStrings(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"^[Bb]us [Ee]rror", []string{"bus error"}},
		{"([^:]+): (Error:|error|undefined reference|multiply defined)", []string{": error", ": multiply defined", ": undefined reference"}},
		{"([^ :]+) ?: (error|fatal error)", []string{": error", ": fatal error"}},
		{":[ \\t]can't find", []string{":\tcan't find", ": can't find"}},
		{"make\\[.*\\]: \\*\\*\\*.*Error", []string{"]: ***"}},
		{"^(Warning|Warnung)[ :]", []string{"warning ", "warning:", "warnung ", "warnung:"}},
		// Nothing can be required of these, so they must run on every line.
		{"a*", nil},
		{"(foo|.)", nil},
		{"x\uFFFDy", []string{"x"}},
		// (?i)k also matches the Kelvin sign, so that must be among the strings.
		{"(?i)ok", []string{"ok", "o\u212a"}},
		{"(?i)kelvin", []string{"kelvin", "\u212aelvin"}},
		{"(?i)ak", []string{"ak", "a\u212a"}},
	} {
		got, err := requiredStrings(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("requiredStrings(%q) = %q; want %q", c.pattern, got, c.want)
		}
	}
	// Every embedded pattern should get a requirement; one that does not still works,
	// but costs a regexp run on every line, so it should be noticed.
	rs := rules()
	for id, p := range rs.src {
		if rs.pre.always[id>>6]&(1<<(id&63)) != 0 {
			t.Errorf("pattern %q has no required string and runs on every line", p)
		}
	}
}

// TestPrefilterFolding checks case folding and non-ASCII strings in the automaton itself,
// independent of the embedded patterns.
func TestPrefilterFolding(t *testing.T) {
	pats := []string{"^[Ee]rror", "(?i)ak", "naïve", "x+y", "zz"}
	pf, err := newPrefilter(pats)
	if err != nil {
		t.Fatal(err)
	}
	cand := make([]uint64, pf.words)
	for _, c := range []struct {
		line string
		want []int
	}{
		{"ERROR", []int{0}},
		{"eRRor here", []int{0}},
		{"A\u212a", []int{1}},
		{"the NAÏVE way", nil}, // Ï is not ASCII, so it is not folded, and neither is the regexp
		{"the naïve way", []int{2}},
		{"xxxy zz", []int{3, 4}},
		{"\xff\xfezZ", []int{4}},
		{"", nil},
	} {
		pf.candidates([]byte(c.line), cand)
		var got []int
		for id := range pats {
			if cand[id>>6]&(1<<(id&63)) != 0 {
				got = append(got, id)
				if !regexp.MustCompile(pats[id]).MatchString(c.line) && id != 0 {
					// Only [Ee]rror is expected to over-approximate (folding widens it).
					t.Logf("%q: pattern %q is a candidate but does not match", c.line, pats[id])
				}
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("candidates(%q) = %v; want %v", c.line, got, c.want)
		}
	}
}

// candidatesByState is the scan as the automaton is built (state numbers, hasOut looked
// up apart), kept as the reference for the packed step table candidates uses.
func (pf *prefilter) candidatesByState(line []byte, cand []uint64) {
	copy(cand, pf.always)
	st := 0
	for _, b := range line {
		st = int(pf.next[st*pf.nclass+int(pf.class[b])])
		if pf.hasOut[st] {
			for w := range cand {
				cand[w] |= pf.out[st*pf.words+w]
			}
		}
	}
}

// TestStepTableMatchesStates checks the packed scan, in two halves on long lines, against
// the state-numbered one on every line of the fixture logs, of the generated pattern lines
// and of lines holding each pattern's strings at every offset (so across the halves' seam).
func TestStepTableMatchesStates(t *testing.T) {
	rs := rules()
	var lines [][]byte
	filler := strings.Repeat("checking x ", 12)
	for _, p := range rs.src {
		req, err := requiredStrings(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range req {
			for off := 0; off <= len(filler); off++ {
				lines = append(lines, []byte(filler[:off]+s+filler[off:]))
			}
		}
	}
	for _, name := range []string{"spack-build-out.txt", "config.log"} {
		lines = append(lines, bytes.Split(readFixture(t, name), []byte("\n"))...)
	}
	for _, ls := range patternLines(5, 50) {
		for _, l := range ls {
			lines = append(lines, []byte(l))
		}
	}
	got, want := make([]uint64, rs.pre.words), make([]uint64, rs.pre.words)
	for _, l := range lines {
		rs.pre.candidates(l, got)
		rs.pre.candidatesByState(l, want)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: candidates %x, by state %x", l, got, want)
		}
	}
}

func BenchmarkCandidates(b *testing.B) {
	rs := rules()
	log := readFixture(b, "spack-build-out.txt")
	lines := bytes.Split(log, []byte("\n"))
	cand := make([]uint64, rs.pre.words)
	for _, impl := range []struct {
		name string
		scan func([]byte, []uint64)
	}{{"step", rs.pre.candidates}, {"by-state", rs.pre.candidatesByState}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				for _, l := range lines {
					impl.scan(l, cand)
				}
			}
		})
	}
}

// locationByAll is location without its prefilter: every file/line pattern on the line.
func (rs *ruleset) locationByAll(line []byte) (string, int) { return rs.locate(line, nil) }

// TestLocationPrefilter checks that the file/line prefilter changes no location, on the
// fixture logs and on lines generated for each file/line pattern, and that the generated
// lines do exercise every pattern.
func TestLocationPrefilter(t *testing.T) {
	rs := rules()
	var lines [][]byte
	for _, name := range []string{"spack-build-out.txt", "config.log"} {
		lines = append(lines, bytes.Split(readFixture(t, name), []byte("\n"))...)
	}
	for id, ls := range patternLinesOf(rs.fileLineSrc, 7, 300) {
		matched := 0
		for _, l := range ls {
			if rs.fileLine[id].MatchString(l) {
				matched++
			}
			lines = append(lines, []byte(l))
		}
		if matched < 30 {
			t.Errorf("pattern %q: only %d of %d generated lines match; generator too weak to test it", rs.fileLineSrc[id], matched, len(ls))
		}
	}
	for _, l := range lines {
		gotFile, gotNo := rs.location(l)
		wantFile, wantNo := rs.locationByAll(l)
		if gotFile != wantFile || gotNo != wantNo {
			t.Fatalf("%q: location %q:%d, every pattern %q:%d", l, gotFile, gotNo, wantFile, wantNo)
		}
	}
}

// BenchmarkLocation finds the location of GCC-style warning lines, as the load tool's
// logs carry (location runs on event lines only).
func BenchmarkLocation(b *testing.B) {
	rs := rules()
	var lines [][]byte
	for i := range 200 {
		lines = append(lines, fmt.Appendf(nil, "src/list.c:%d:%d: warning: unused variable 'offset' [-Wunused-variable]", 20+i, 3+i%40))
	}
	for _, impl := range []struct {
		name string
		loc  func([]byte) (string, int)
	}{{"prefilter", rs.location}, {"every-pattern", rs.locationByAll}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				for _, l := range lines {
					impl.loc(l)
				}
			}
		})
	}
}
