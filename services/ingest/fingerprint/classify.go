package fingerprint

import (
	"regexp"
	"strings"

	"github.com/spackmon/spackmon/pkg/logparse"
)

// Class is what kind of failure a line reports.
type Class string

// The classes, from the most specific to the least. A line gets the first whose pattern
// matches it.
const (
	UndefinedSymbol   Class = "linker-undefined-symbol"
	MissingLibrary    Class = "linker-missing-library"
	LinkerError       Class = "linker-error"
	MissingHeader     Class = "missing-header"
	MissingDependency Class = "missing-dependency"
	ConfigureCheck    Class = "configure-check"
	CompilerOption    Class = "compiler-option"
	TestFailure       Class = "test-failure"
	CompilerError     Class = "compiler-error"
	CompilerWarning   Class = "compiler-warning"
	BuildTool         Class = "build-tool"
	SpackError        Class = "spack-error"
	Other             Class = "other"
)

// A classRule matches a lower-cased text that contains one of its words, or that its
// pattern matches; the pattern is only tried on a text holding one of its gate words, so
// that most lines cost a few substring searches rather than a regular expression each.
type classRule struct {
	class Class
	words []string
	gate  []string
	re    *regexp.Regexp
	// The ids of words and gate in classWords.
	wordIDs, gateIDs []int
}

// matches tells whether r matches lower; set is what classWords found in lower.
func (r classRule) matches(lower string, set []uint64) bool {
	if classWords.any(lower, set, r.words, r.wordIDs) {
		return true
	}
	if r.re == nil {
		return false
	}
	if len(r.gate) == 0 {
		return r.re.MatchString(lower)
	}
	return classWords.any(lower, set, r.gate, r.gateIDs) && r.re.MatchString(lower)
}

var classWords wordSet

func init() {
	var lists [][]string
	for _, r := range classRules {
		lists = append(lists, r.words, r.gate)
	}
	classWords = newWordSet(lists...)
	for i := range classRules {
		classRules[i].wordIDs = classWords.idsOf(classRules[i].words)
		classRules[i].gateIDs = classWords.idsOf(classRules[i].gate)
	}
}

var classRules = []classRule{
	{class: UndefinedSymbol, words: []string{"undefined reference to", "undefined symbol", "unresolved external symbol", "against undefined"}},
	{class: MissingLibrary, words: []string{"cannot find -l", "library not found for", "cannot open shared object file"},
		gate: []string{"no such file or directory"}, re: regexp.MustCompile(`no such file or directory.*\.(so|a|dylib)\b`)},
	{class: LinkerError, words: []string{"linker command failed", "collect2:", "multiple definition of"},
		gate: []string{"ld"}, re: regexp.MustCompile(`\bld( returned|: )`)},
	{class: MissingHeader, words: []string{"cannot open include file", "cannot open source file", "file not found", "can't find module file"},
		gate: []string{"no such file or directory"}, re: regexp.MustCompile(`\.(h|hh|hpp|hxx|inc|mod)['"]?: no such file or directory`)},
	{class: MissingDependency, words: []string{"could not find", "command not found", "modulenotfounderror", "no module named",
		"not found in path", "cannot find package", "unable to locate", "required dependency", "is required but"},
		gate: []string{"package '"}, re: regexp.MustCompile(`no package '[^']+' found|package '[^']+'.* not found`)},
	{class: ConfigureCheck, words: []string{"configure: error", "cmake error"},
		gate: []string{"meson.build", "checking "}, re: regexp.MustCompile(`meson\.build:.*error|checking .*\.\.\. no\b`)},
	{class: CompilerOption, words: []string{"unrecognized command line option", "unrecognized command-line option", "unrecognized option",
		"unknown argument", "unknown option", "invalid option", "no input files", "unsupported option", "argument unused"}},
	{class: TestFailure, words: []string{"assertionerror"},
		gate: []string{"fail", "assert", "test #"}, re: regexp.MustCompile(`\btests? (have )?failed|\bfail(ed)?\b|assert(ion)? failed|test #\d+|\bfail:`)},
	{class: CompilerError, words: []string{"error:", "internal compiler error"},
		gate: []string{"error "}, re: regexp.MustCompile(`error [a-z]+\d+:`)},
	{class: BuildTool, words: []string{": ***", "ninja: build stopped", "failed: "},
		gate: []string{"error "}, re: regexp.MustCompile(`\berror \d+\b`)},
	{class: SpackError, words: []string{"==> error", "installerror", "processerror", "spack."}},
}

// Classify says what kind of failure the normalised text of an event of kind reports.
// Warnings from a compiler are CompilerWarning; other warnings are classed like errors.
func Classify(kind logparse.Kind, normal string) Class {
	lower := strings.ToLower(normal)
	var small [2]uint64
	set := classWords.findIn(lower, &small)
	for _, r := range classRules {
		if r.matches(lower, set) {
			if kind == logparse.Warning && (r.class == CompilerError || r.class == ConfigureCheck) {
				return CompilerWarning
			}
			return r.class
		}
	}
	if kind == logparse.Warning && strings.Contains(lower, "warning:") {
		return CompilerWarning
	}
	return Other
}
