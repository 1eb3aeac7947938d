package fingerprint

import (
	"regexp"

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

type classRule struct {
	class Class
	re    *regexp.Regexp
}

var classRules = []classRule{
	{UndefinedSymbol, regexp.MustCompile(`(?i)undefined reference to|undefined symbol|Undefined symbols for architecture|unresolved external symbol|relocation .* against undefined`)},
	{MissingLibrary, regexp.MustCompile(`(?i)cannot find -l|library not found for|cannot open shared object file|No such file or directory.*\.(so|a|dylib)\b`)},
	{LinkerError, regexp.MustCompile(`(?i)\bld returned|\bld: |linker command failed|collect2:|multiple definition of`)},
	{MissingHeader, regexp.MustCompile(`(?i)\.(h|hh|hpp|hxx|inc|mod)['"]?: No such file or directory|cannot open (include|source) file|file not found|Can't find module file`)},
	{MissingDependency, regexp.MustCompile(`(?i)Could NOT find|No package '[^']+' found|Package '[^']+'.* not found|command not found|ModuleNotFoundError|No module named|not found in PATH|cannot find package|Unable to locate|required dependency|is required but`)},
	{ConfigureCheck, regexp.MustCompile(`(?i)^configure: error|CMake Error|meson\.build:.*ERROR|checking .*\.\.\. no\b`)},
	{CompilerOption, regexp.MustCompile(`(?i)unrecognized (command[- ]line )?option|unknown argument|unknown option|invalid option|no input files|unsupported option|argument unused`)},
	{TestFailure, regexp.MustCompile(`(?i)\btests? (have )?failed|\bFAIL(ED)?\b|AssertionError|assert(ion)? failed|Test #\d+|\bFAIL:`)},
	{CompilerError, regexp.MustCompile(`(?i)(fatal )?error:|error [A-Z]+\d+:|internal compiler error|Error: `)},
	{BuildTool, regexp.MustCompile(`(?i)(make|gmake|ninja)(\[<n>\])?: \*\*\*|ninja: build stopped|\bError \d+\b|FAILED: `)},
	{SpackError, regexp.MustCompile(`==> Error|InstallError|ProcessError|spack\.`)},
}

// Classify says what kind of failure the normalised text of an event of kind reports.
// Warnings from a compiler are CompilerWarning; other warnings are classed like errors.
func Classify(kind logparse.Kind, normal string) Class {
	for _, r := range classRules {
		if r.re.MatchString(normal) {
			if kind == logparse.Warning && (r.class == CompilerError || r.class == ConfigureCheck) {
				return CompilerWarning
			}
			return r.class
		}
	}
	if kind == logparse.Warning && warningLine.MatchString(normal) {
		return CompilerWarning
	}
	return Other
}

var warningLine = regexp.MustCompile(`(?i)warning:`)
