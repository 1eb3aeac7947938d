// Package fingerprint names the failure an error or warning line stands for, so that the
// same failure on another machine, in another prefix or on another day gets the same name:
// the line's text with what varies between runs normalised away, a class from a small
// classifier, and a stable hash of both.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/spackmon/spackmon/pkg/logparse"
)

// MaxTextBytes bounds the text a fingerprint is computed from and keeps: logparse already
// cuts event texts to this size, and a caller's text is cut the same way.
const MaxTextBytes = logparse.MaxTextBytes

// HashLen is the length of a fingerprint's hash: 64 bits in hex, enough that two failures
// of one installation never share one.
const HashLen = 16

// Print is the fingerprint of one event.
type Print struct {
	// Hash names the fingerprint: the same for the same kind, class and normal text.
	Hash string
	// Kind is the event's kind (error or warning).
	Kind logparse.Kind
	// Class is what the classifier made of the text (see the Class constants).
	Class Class
	// Normal is the text with the varying parts replaced by placeholders.
	Normal string
}

// Of fingerprints an event of kind with text.
func Of(kind logparse.Kind, text string) Print {
	normal := Normalize(text)
	class := Classify(kind, normal)
	return Print{Hash: hashOf(kind, class, normal), Kind: kind, Class: class, Normal: normal}
}

func hashOf(kind logparse.Kind, class Class, normal string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(class))
	h.Write([]byte{0})
	h.Write([]byte(normal))
	return hex.EncodeToString(h.Sum(nil))[:HashLen]
}

// ValidHash tells whether s has the form of a fingerprint hash.
func ValidHash(s string) bool {
	if len(s) != HashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(s[i])) {
			return false
		}
	}
	return true
}

// A rule replaces what its pattern matches; rules run in order, so that the prefixes are
// cut before the generic path rule sees what is left. A rule with gate words only runs on
// a text that holds one of them, and one with a need only on a text need accepts: most lines
// then cost a substring search or one scan of their bytes, not a pattern. Both are only ever
// conditions that every match of the pattern meets (TestGatesKeepMatches).
//
// A rule with a replacer has it do what ReplaceAllString does with the pattern: a pattern
// that must run on most event lines costs Go's backtracking matcher tens of nanoseconds a
// byte (TestReplacersMatchPatterns holds each replacer to its pattern).
type rule struct {
	re       *regexp.Regexp
	with     string
	gate     []string
	need     func(string) bool
	replacer func(string) string
	gateIDs  []int // the gate words' ids in gateWords
}

// apply runs r on text; set is what gateWords found in text.
func (r rule) apply(text string, set []uint64) string {
	if r.need != nil && !r.need(text) {
		return text
	}
	if len(r.gate) > 0 && !gateWords.any(text, set, r.gate, r.gateIDs) {
		return text
	}
	if r.replacer != nil {
		return r.replacer(text)
	}
	return r.re.ReplaceAllString(text, r.with)
}

// wordSet looks for many words in one pass over a text (logparse.Strings): a rule's gate
// or class words then cost a bit test each, and a substring search only for a word the
// text may hold, instead of a search per word.
type wordSet struct {
	find *logparse.Strings
	ids  map[string]int
}

func newWordSet(lists ...[]string) wordSet {
	w := wordSet{ids: map[string]int{}}
	var words []string
	for _, l := range lists {
		for _, x := range l {
			if _, ok := w.ids[x]; !ok {
				w.ids[x] = len(words)
				words = append(words, x)
			}
		}
	}
	var err error
	if w.find, err = logparse.NewStrings(words...); err != nil {
		panic("fingerprint: " + err.Error())
	}
	return w
}

// idsOf returns the ids of words.
func (w wordSet) idsOf(words []string) []int {
	ids := make([]int, len(words))
	for i, x := range words {
		ids[i] = w.ids[x]
	}
	return ids
}

// findIn returns what Find finds in text, in small when it is large enough.
func (w wordSet) findIn(text string, small *[2]uint64) []uint64 {
	set := small[:]
	if n := w.find.SetWords(); n > len(small) {
		set = make([]uint64, n)
	} else {
		set = set[:n]
	}
	w.find.Find(text, set)
	return set
}

// any tells whether text holds one of words (whose ids are ids); set is what Find found.
func (w wordSet) any(text string, set []uint64, words []string, ids []int) bool {
	for i, x := range words {
		if logparse.Has(set, ids[i]) && strings.Contains(text, x) {
			return true
		}
	}
	return false
}

var gateWords wordSet

func init() {
	var gates [][]string
	for _, r := range rules {
		gates = append(gates, r.gate)
	}
	gateWords = newWordSet(gates...)
	for i := range rules {
		rules[i].gateIDs = gateWords.idsOf(rules[i].gate)
	}
}

// Placeholders stand for what was normalised away.
const (
	placeStage  = "<stage>/"
	placePrefix = "<prefix>/"
	placeHash   = "<hash>"
	placeTmp    = "<tmp>"
	placeNum    = "<n>"
	placeAddr   = "0x<addr>"
	placeTime   = "<time>"
)

var rules = []rule{
	// The stage: everything up to spack-src/ or spack-build-<hash>/ of a path under a
	// spack-stage directory, whoever's and wherever it is.
	{regexp.MustCompile(`(?:/[^\s:'"` + "`" + `()\[\]]*)?/spack-stage-[^\s/]+/(?:spack-src|spack-build(?:-[a-z0-9]+)?)(?:/|\b)`), placeStage, []string{"spack-stage-"}, nil, nil, nil},
	{regexp.MustCompile(`(?:/[^\s:'"` + "`" + `()\[\]]*)?/spack-stage-[^\s/]+(?:/|\b)`), placeStage, []string{"spack-stage-"}, nil, nil, nil},
	// An install prefix: everything up to the directory named <name>-<version>-<hash>.
	{regexp.MustCompile(`(?:/[^\s:'"` + "`" + `()\[\]]*)?/[^\s/:'"` + "`" + `]+-[a-z2-7]{32}/`), placePrefix, []string{"/"}, hasHashRun, nil, nil},
	// Spack hashes elsewhere: full ones, and the 7-character short form after a '/' or '-'.
	{regexp.MustCompile(`\b[a-z2-7]{32}\b`), placeHash, nil, hasHashRun, nil, nil},
	// Temporary names: compiler temporaries and mktemp's.
	{regexp.MustCompile(`(?:/[^\s:'"` + "`" + `]*)?/(?:cc|tmp)[A-Za-z0-9_]{6,}(\.[A-Za-z]+)?\b`), placeTmp + "$1", []string{"/cc", "/tmp"}, nil, nil, nil},
	{regexp.MustCompile(`\btmp\.[A-Za-z0-9]{6,}\b`), placeTmp, []string{"tmp."}, nil, nil, nil},
	// Other absolute paths keep their last element: the directory a tool or a file sits in
	// differs between machines, its name does not.
	{regexp.MustCompile(`(^|[\s'"` + "`" + `(=,])(?:/[^\s/:'"` + "`" + `()\[\]<>,;]+)+/([^\s/:'"` + "`" + `()\[\]<>,;]+)`), "$1$2", nil, hasAbsolutePath, nil, nil},
	// Timestamps, before the numbers inside them are taken one by one.
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?`), placeTime, nil, hasClock, nil, nil},
	{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b`), placeTime, nil, hasClock, nil, nil},
	// Addresses.
	{regexp.MustCompile(`\b0x[0-9a-fA-F]+\b`), placeAddr, []string{"0x"}, nil, nil, nil},
	// Line and column numbers: file:12:34:, file(12):, "line 12", make[2].
	{regexp.MustCompile(`(\.[A-Za-z0-9+_]+|\bMakefile|\bCMakeLists\.txt):\d+(?::\d+)?`), "$1:" + placeNum, []string{":"}, nil, replaceLineNumbers, nil},
	{regexp.MustCompile(`(\.[A-Za-z0-9+_]+)\((\d+)(?:,\d+)?\)`), "$1(" + placeNum + ")", nil, hasParenDigit, nil, nil},
	{regexp.MustCompile(`\b([Ll]ine|col(?:umn)?) \d+`), "$1 " + placeNum, []string{"ine ", "col"}, nil, nil, nil},
	{regexp.MustCompile(`\b(make|gmake|ninja)\[\d+\]`), "$1[" + placeNum + "]", []string{"make[", "ninja["}, nil, nil, nil},
	// Numbers in compiler-generated names: GCC's clones, lambdas, local labels, anonymous
	// namespaces and temporaries.
	{regexp.MustCompile(`\.(constprop|isra|part|cold|lto_priv|clone)\.\d+`), ".$1." + placeNum, []string{".constprop.", ".isra.", ".part.", ".cold.", ".lto_priv.", ".clone."}, nil, nil, nil},
	{regexp.MustCompile(`\{lambda\(([^)]*)\)#\d+\}`), "{lambda($1)#" + placeNum + "}", []string{"{lambda"}, nil, nil, nil},
	{regexp.MustCompile(`\$_\d+\b`), "$$_" + placeNum, []string{"$_"}, nil, nil, nil},
	{regexp.MustCompile(`\.L[A-Za-z]*\d+\b`), ".L" + placeNum, []string{".L"}, nil, nil, nil},
	{regexp.MustCompile(`\b(_GLOBAL__sub_I_|__lambda_|__anon_|\.omp_fn\.|_ZZ)\d+`), "$1" + placeNum, []string{"_GLOBAL__sub_I_", "__lambda_", "__anon_", ".omp_fn.", "_ZZ"}, nil, nil, nil},
}

// Normalize is text with the parts that vary between machines and runs replaced by
// placeholders.
func Normalize(text string) string {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	// What the gate words find holds until a rule changes the text.
	var small [2]uint64
	var set []uint64
	for _, r := range rules {
		if len(r.gate) > 0 && set == nil {
			set = gateWords.findIn(text, &small)
		}
		if out := r.apply(text, set); out != text {
			text, set = out, nil
		}
	}
	// Runs of white space become one space.
	return strings.Join(strings.Fields(text), " ")
}

// hasHashRun tells whether text holds 32 bytes in a row of the alphabet of Spack's hashes.
func hasHashRun(text string) bool {
	run := 0
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7') {
			if run++; run == 32 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// hasAbsolutePath tells whether text holds a '/' at its start or after a byte the path rule
// accepts before one.
func hasAbsolutePath(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] == '/' && (i == 0 || strings.IndexByte(" \t\n\f\r'\"`(=,", text[i-1]) >= 0) {
			return true
		}
	}
	return false
}

// hasClock tells whether text holds two digits, a colon, two digits, a colon, two digits.
func hasClock(text string) bool {
	for i := strings.IndexByte(text, ':'); i >= 0 && i+6 <= len(text); {
		if i >= 2 && digits(text[i-2:i]) && digits(text[i+1:i+3]) && text[i+3] == ':' && digits(text[i+4:i+6]) {
			return true
		}
		next := strings.IndexByte(text[i+1:], ':')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// hasParenDigit tells whether text holds a '(' followed by a digit.
func hasParenDigit(text string) bool {
	for i := 0; i+1 < len(text); i++ {
		if text[i] == '(' && digits(text[i+1:i+2]) {
			return true
		}
	}
	return false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// replaceLineNumbers is the line and column rule's ReplaceAllString: at each position from
// the left, a '.' and a run of [A-Za-z0-9+_], or "Makefile" or "CMakeLists.txt" at a word
// boundary, then ':' and digits, and ':' and digits again when they follow, become the
// name, ':' and placeNum. No alternative can start where another does and the runs cannot
// hold what ends them, so the leftmost match found this way is the pattern's.
func replaceLineNumbers(text string) string {
	var b strings.Builder
	done := 0 // text[:done] is in b, or b is unused
	for i := 0; i < len(text); {
		name := nameAt(text, i)
		if name == 0 || name >= len(text) || text[name] != ':' {
			i++
			continue
		}
		end := digitRun(text, name+1)
		if end == name+1 {
			i++
			continue
		}
		if end < len(text) && text[end] == ':' {
			if e := digitRun(text, end+1); e > end+1 {
				end = e
			}
		}
		b.WriteString(text[done:name])
		b.WriteString(":" + placeNum)
		done, i = end, end
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}

// nameAt returns the end of the file name part of the line and column rule starting at
// text[i], or 0 when none starts there.
func nameAt(text string, i int) int {
	switch c := text[i]; {
	case c == '.':
		j := i + 1
		for j < len(text) && isNameByte(text[j]) {
			j++
		}
		if j > i+1 {
			return j
		}
	case (c == 'M' || c == 'C') && (i == 0 || !isWordByte(text[i-1])):
		for _, w := range [...]string{"Makefile", "CMakeLists.txt"} {
			if strings.HasPrefix(text[i:], w) {
				return i + len(w)
			}
		}
	}
	return 0
}

func isNameByte(c byte) bool { return isWordByte(c) || c == '+' }

// isWordByte is \b's idea of a word character: ASCII letters, digits and '_'.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func digitRun(text string, i int) int {
	for i < len(text) && '0' <= text[i] && text[i] <= '9' {
		i++
	}
	return i
}
