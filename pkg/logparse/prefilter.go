package logparse

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Go's regexp engine costs microseconds per pattern per line, and a log has tens of
// thousands of lines that match nothing. So each pattern is reduced, from its parsed
// syntax tree, to a set of strings of which every match must contain at least one; one
// Aho–Corasick pass over the line then tells which patterns are worth running at all.
// Strings are compared with ASCII letters folded to lower case, which lets [Ee]rror-style
// classes and (?i) literals become plain strings. Patterns for which no such set can be
// proven run on every line, so the filter only ever saves work and never changes results.

// maxSet bounds the cross products built while deriving strings; beyond it a sequence is
// cut in two, which loses a little selectivity but never soundness.
const maxSet = 16

// litInfo describes what a sub-expression can match. When exact is set, the
// sub-expression matches precisely the (folded) strings in set; otherwise set, if
// non-nil, is a requirement: every match contains one of its strings.
type litInfo struct {
	exact bool
	set   []string
}

// foldASCII works byte by byte so that it means the same thing for invalid UTF-8 as for
// text; bytes of multi-byte sequences are all >= 0x80 and pass through.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = foldByte(c)
	}
	return string(b)
}

func foldByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// runeStrings returns the folded encodings of the runes a single-rune node matches, or
// false when they cannot be described by byte strings. U+FFFD is refused because Go's
// regexp matches it against any invalid UTF-8 byte, which no fixed string can capture.
func runeStrings(runes []rune) ([]string, bool) {
	var out []string
	for _, r := range runes {
		if r == utf8.RuneError || !utf8.ValidRune(r) {
			return nil, false
		}
		out = append(out, foldASCII(string(r)))
	}
	return dedupe(out), true
}

func dedupe(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return dedupe(out)
}

// normalize turns a candidate requirement into its cheapest equivalent: a string that
// contains another member is implied by it and can go. A set holding "" demands nothing,
// so it is reported as no requirement (nil).
func normalize(set []string) []string {
	set = dedupe(slices.Clone(set))
	var out []string
	for i, s := range set {
		if s == "" {
			return nil
		}
		implied := false
		for j, t := range set {
			if i != j && len(t) < len(s) && strings.Contains(s, t) {
				implied = true
				break
			}
		}
		if !implied {
			out = append(out, s)
		}
	}
	return out
}

// better prefers the requirement whose shortest string is longest: short strings such as
// "e" occur on nearly every line and filter nothing.
func better(a, b []string) bool {
	score := func(s []string) int {
		if len(s) == 0 {
			return 0
		}
		m := len(s[0])
		for _, x := range s[1:] {
			m = min(m, len(x))
		}
		return m
	}
	sa, sb := score(a), score(b)
	if sa != sb {
		return sa > sb
	}
	return len(a) < len(b) && len(a) > 0
}

func requirement(li litInfo) []string {
	return normalize(li.set)
}

func analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: true, set: []string{""}}
	case syntax.OpLiteral:
		parts := make([]litInfo, 0, len(re.Rune))
		for _, r := range re.Rune {
			runes := []rune{r}
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					runes = append(runes, f)
				}
			}
			set, ok := runeStrings(runes)
			parts = append(parts, litInfo{exact: ok, set: set})
		}
		return concat(parts)
	case syntax.OpCharClass:
		var runes []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if int(hi-lo)+1+len(runes) > maxSet {
				return litInfo{}
			}
			for r := lo; r <= hi; r++ {
				runes = append(runes, r)
			}
		}
		set, ok := runeStrings(runes)
		if !ok || len(set) == 0 || len(set) > maxSet {
			return litInfo{}
		}
		return litInfo{exact: true, set: set}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpQuest:
		sub := analyze(re.Sub[0])
		if sub.exact && len(sub.set) < maxSet {
			return litInfo{exact: true, set: dedupe(append(slices.Clone(sub.set), ""))}
		}
		return litInfo{}
	case syntax.OpPlus:
		return litInfo{set: requirement(analyze(re.Sub[0]))}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return litInfo{set: requirement(analyze(re.Sub[0]))}
		}
		return litInfo{}
	case syntax.OpConcat:
		parts := make([]litInfo, len(re.Sub))
		for i, s := range re.Sub {
			parts[i] = analyze(s)
		}
		return concat(parts)
	case syntax.OpAlternate:
		parts := make([]litInfo, len(re.Sub))
		allExact := true
		for i, s := range re.Sub {
			parts[i] = analyze(s)
			allExact = allExact && parts[i].exact
		}
		var union []string
		if allExact {
			for _, p := range parts {
				union = append(union, p.set...)
			}
			union = dedupe(union)
			if len(union) <= maxSet {
				return litInfo{exact: true, set: union}
			}
			union = nil
		}
		// A match comes from one branch, so it carries that branch's requirement;
		// one branch without a requirement leaves the whole alternation without one.
		for _, p := range parts {
			r := requirement(p)
			if r == nil {
				return litInfo{}
			}
			union = append(union, r...)
		}
		return litInfo{set: normalize(union)}
	}
	// OpAnyChar, OpAnyCharNotNL, OpStar, OpNoMatch and anything newer: nothing to rely on.
	return litInfo{}
}

// concat joins adjacent exact parts by cross product (so ": " + "(error|fatal error)"
// becomes ": error" / ": fatal error"), and keeps the best of the resulting runs and of
// the inexact parts' own requirements. Each run is a contiguous piece of any match, so
// each is a valid requirement on its own.
func concat(parts []litInfo) litInfo {
	cur := []string{""}
	allExact := true
	var best []string
	consider := func(set []string) {
		if r := normalize(set); better(r, best) {
			best = r
		}
	}
	for _, p := range parts {
		if p.exact {
			if prod := cross(cur, p.set); len(prod) <= maxSet {
				cur = prod
				continue
			}
			consider(cur)
			cur = p.set
			allExact = false
			continue
		}
		consider(cur)
		cur = []string{""}
		allExact = false
		consider(p.set)
	}
	if allExact {
		return litInfo{exact: true, set: cur}
	}
	consider(cur)
	return litInfo{set: best}
}

// requiredStrings returns the folded strings of which every match of pattern contains at
// least one, or nil when no such set could be derived (the pattern must then always run).
func requiredStrings(pattern string) ([]string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return requirement(analyze(re.Simplify())), nil
}

// prefilter is an Aho–Corasick automaton, fully expanded into a DFA over byte classes,
// whose states carry the set of pattern ids whose required strings end there.
type prefilter struct {
	words  int        // uint64 words per id set
	nclass int        // byte classes; class 0 is "in no string"
	class  [256]uint8 // folded byte -> class
	next   []int32    // state*nclass + class -> state
	hasOut []bool
	out    []uint64 // state*words ... : ids whose string ends at the state
	always []uint64 // ids without a derivable requirement

	// step is next as the scan uses it: the entry for a state's row plus a class holds
	// the target's row start (state*nclass) shifted left once, its low bit set when
	// the target has outputs. The scan then costs one table load per byte, with no
	// multiplication and no separate look-up of hasOut; it is about half the CPU of a
	// log's classification.
	step []int32
}

// maxLit bounds the strings the automaton looks for. The filter loses nothing measurable
// with 12 bytes: a longer string's first 12 are about as rare as the string.
const maxLit = 12

// splitMin is the shortest line candidates walks in two halves.
const splitMin = 4 * maxLit

func newPrefilter(patterns []string) (*prefilter, error) {
	pf := &prefilter{words: (len(patterns) + 63) / 64}
	pf.always = make([]uint64, pf.words)
	owners := map[string][]int{}
	for id, p := range patterns {
		req, err := requiredStrings(p)
		if err != nil {
			return nil, err
		}
		if req == nil {
			pf.always[id>>6] |= 1 << (id & 63)
			continue
		}
		for _, s := range req {
			// A line holding a string holds its start: the cut keeps the filter sound,
			// and bounds how far the two walks of candidates must overlap.
			s = s[:min(len(s), maxLit)]
			if !slices.Contains(owners[s], id) {
				owners[s] = append(owners[s], id)
			}
		}
	}
	lits := make([]string, 0, len(owners))
	for s := range owners {
		lits = append(lits, s)
	}
	sort.Strings(lits)

	// Folding is built into the class table so that the scan needs no lowered copy.
	var classOf [256]int
	pf.nclass = 1
	for _, s := range lits {
		for i := 0; i < len(s); i++ {
			if classOf[s[i]] == 0 {
				if pf.nclass == 256 {
					// Every byte value distinct: the table cannot be shared; class 0
					// must stay free, so give up on filtering rather than be wrong.
					return nil, errTooManyClasses
				}
				classOf[s[i]] = pf.nclass
				pf.nclass++
			}
		}
	}
	for b := 0; b < 256; b++ {
		pf.class[b] = uint8(classOf[foldByte(byte(b))])
	}

	newState := func() int32 {
		pf.next = append(pf.next, make([]int32, pf.nclass)...)
		for i := len(pf.next) - pf.nclass; i < len(pf.next); i++ {
			pf.next[i] = -1
		}
		pf.out = append(pf.out, make([]uint64, pf.words)...)
		pf.hasOut = append(pf.hasOut, false)
		return int32(len(pf.hasOut) - 1)
	}
	newState()
	for _, s := range lits {
		st := int32(0)
		for i := 0; i < len(s); i++ {
			c := int(pf.class[s[i]])
			nx := pf.next[int(st)*pf.nclass+c]
			if nx < 0 {
				nx = newState()
				pf.next[int(st)*pf.nclass+c] = nx
			}
			st = nx
		}
		for _, id := range owners[s] {
			pf.out[int(st)*pf.words+id>>6] |= 1 << (id & 63)
		}
		pf.hasOut[st] = true
	}

	// Breadth-first, so a state's failure target is complete before it is used.
	fail := make([]int32, len(pf.hasOut))
	queue := []int32{0}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		for c := 0; c < pf.nclass; c++ {
			idx := int(st)*pf.nclass + c
			child := pf.next[idx]
			if child < 0 {
				if st == 0 {
					pf.next[idx] = 0
				} else {
					pf.next[idx] = pf.next[int(fail[st])*pf.nclass+c]
				}
				continue
			}
			if st != 0 {
				f := pf.next[int(fail[st])*pf.nclass+c]
				fail[child] = f
				for w := 0; w < pf.words; w++ {
					pf.out[int(child)*pf.words+w] |= pf.out[int(f)*pf.words+w]
				}
				pf.hasOut[child] = pf.hasOut[child] || pf.hasOut[f]
			}
			queue = append(queue, child)
		}
	}
	pf.step = make([]int32, len(pf.next))
	for i, st := range pf.next {
		v := st * int32(pf.nclass) << 1
		if pf.hasOut[st] {
			v |= 1
		}
		pf.step[i] = v
	}
	return pf, nil
}

type prefilterError string

func (e prefilterError) Error() string { return string(e) }

const errTooManyClasses = prefilterError("required strings use every byte value")

// candidates sets cand to the ids of the patterns that may match line.
//
// Each step of a walk waits on the load of the step before, so a long line is walked as
// two halves side by side, which the processor overlaps: the second half starts
// maxLit-1 bytes early, so a string ending in it is found whole by one walk or the other.
func (pf *prefilter) candidates(line []byte, cand []uint64) {
	copy(cand, pf.always)
	if len(line) < splitMin {
		walkText(pf, line, 0, cand)
		return
	}
	mid := (len(line) + maxLit - 1) / 2
	a, b := line[:mid], line[mid-(maxLit-1):]
	step, class := pf.step, &pf.class
	ra, rb := 0, 0
	b2 := b[:len(a)]
	for i, c := range a {
		va := step[ra+int(class[c])]
		vb := step[rb+int(class[b2[i]])]
		ra, rb = int(va>>1), int(vb>>1)
		if (va|vb)&1 != 0 {
			if va&1 != 0 {
				pf.mark(ra, cand)
			}
			if vb&1 != 0 {
				pf.mark(rb, cand)
			}
		}
	}
	walkText(pf, b[len(a):], rb, cand)
}

// walkText runs the automaton over line from the state whose row starts at row.
func walkText[T string | []byte](pf *prefilter, line T, row int, cand []uint64) {
	step, class := pf.step, &pf.class
	for i := 0; i < len(line); i++ {
		v := step[row+int(class[line[i]])]
		row = int(v >> 1)
		if v&1 != 0 {
			pf.mark(row, cand)
		}
	}
}

// Strings tells, in one pass over a text however many strings it looks for, which of them
// the text may hold: a clear bit is a string the text does not hold, a set one a string it
// may hold (ASCII letters are folded, and long strings are looked for by their start), for
// the caller to confirm.
type Strings struct{ pf *prefilter }

// NewStrings looks for words; word i is bit i of the sets Find fills.
func NewStrings(words ...string) (*Strings, error) {
	patterns := make([]string, len(words))
	for i, w := range words {
		patterns[i] = regexp.QuoteMeta(w)
	}
	pf, err := newPrefilter(patterns)
	if err != nil {
		return nil, err
	}
	return &Strings{pf: pf}, nil
}

// SetWords is the length of the sets Find fills, in uint64 words.
func (s *Strings) SetWords() int { return s.pf.words }

// Find sets set (of SetWords words) to the words text may hold.
func (s *Strings) Find(text string, set []uint64) {
	copy(set, s.pf.always)
	walkText(s.pf, text, 0, set)
}

// Has tells whether bit i of set is set.
func Has(set []uint64, i int) bool { return set[i>>6]&(1<<(i&63)) != 0 }

// mark adds the outputs of the state whose row starts at row to cand.
func (pf *prefilter) mark(row int, cand []uint64) {
	st := row / pf.nclass
	o := pf.out[st*pf.words : st*pf.words+pf.words]
	for w := range cand {
		cand[w] |= o[w]
	}
}
