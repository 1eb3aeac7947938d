package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// phaseText is the text of a real Spack build log, cut by phase: the lines that fill the
// logs the load sends, around the warning and error blocks it adds.
type phaseText map[string][]string

// The phases of every build the load makes, in Spack's order for an Autotools package.
var phaseNames = []string{"configure", "build", "install"}

// loadPhaseText reads a spack-build-out.txt and cuts it at Spack's "Executing phase" lines.
// A phase the log lacks borrows the whole log's lines.
func loadPhaseText(path string) (phaseText, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	text := phaseText{}
	phase := ""
	for _, line := range all {
		if _, name, ok := strings.Cut(line, ": Executing phase: '"); ok && strings.HasPrefix(line, "==> ") {
			phase = strings.TrimSuffix(name, "'")
			continue
		}
		if phase != "" {
			text[phase] = append(text[phase], line)
		}
	}
	for _, p := range phaseNames {
		if len(text[p]) == 0 {
			text[p] = all
		}
	}
	return text, nil
}

// The default bounds of a phase log's size; sizes are drawn uniformly on a log scale between
// them, as build logs are: most small, a few near the top.
const (
	minLogBytes = 4 << 10
	maxLogBytes = 1 << 20
	// One warning block per this many bytes of log, on average: compiler warnings are that
	// common in the builds of a large stack.
	bytesPerWarning = 4 << 10
)

func logSize(rng *rand.Rand, smallest, largest int) int {
	lo, hi := math.Log(float64(smallest)), math.Log(float64(largest))
	return int(math.Exp(lo + rng.Float64()*(hi-lo)))
}

// phaseLog is the output of one phase of pkg, about size bytes: the real log's lines of that
// phase from a random place, with compiler warning blocks among them, and for a failing phase
// a compiler error and make's and Spack's report of it at the end.
func (t phaseText) phaseLog(rng *rand.Rand, pkg, phase string, size int, fail bool) string {
	var b strings.Builder
	b.Grow(size + 1024)
	fmt.Fprintf(&b, "==> %s: Executing phase: '%s'\n", pkg, phase)
	lines := t[phase]
	i := rng.IntN(len(lines))
	nextWarning := rng.IntN(2 * bytesPerWarning)
	for b.Len() < size {
		if b.Len() >= nextWarning {
			writeWarning(&b, rng)
			nextWarning = b.Len() + rng.IntN(2*bytesPerWarning)
			continue
		}
		b.WriteString(lines[i])
		b.WriteByte('\n')
		i = (i + 1) % len(lines)
	}
	if fail {
		writeError(&b, rng)
		return b.String()
	}
	fmt.Fprintf(&b, "==> [2026-12-06-02:00:%02d.%06d] Running on_phase_success %s, phase %s\n", rng.IntN(60), rng.IntN(1e6), pkg, phase)
	return b.String()
}

var (
	sourceFiles = []string{"src/list.c", "src/buffer.c", "src/compare.c", "src/create.c", "src/extract.c",
		"lib/quotearg.c", "lib/xmalloc.c", "gnu/regex_internal.c", "gnu/fnmatch.c", "src/misc.c"}
	functions = []string{"read_and", "dump_file", "extract_archive", "flush_archive", "xheader_decode",
		"open_archive", "diff_archive", "quote_copy_string"}
	variables = []string{"status", "offset", "len", "fd", "st", "cursor", "name_size", "rc"}
)

// writeWarning writes one of the kinds of compiler warning a C build prints, in GCC's
// layout: the function it is in, the diagnostic, the source line and the caret.
func writeWarning(b *strings.Builder, rng *rand.Rand) {
	file, fn, v := sourceFiles[rng.IntN(len(sourceFiles))], functions[rng.IntN(len(functions))], variables[rng.IntN(len(variables))]
	line, col := 20+rng.IntN(3000), 3+rng.IntN(40)
	fmt.Fprintf(b, "%s: In function '%s':\n", file, fn)
	switch rng.IntN(4) {
	case 0:
		fmt.Fprintf(b, "%s:%d:%d: warning: unused variable '%s' [-Wunused-variable]\n%5d |   int %s;\n      |       ^~~~\n", file, line, col, v, line, v)
	case 1:
		fmt.Fprintf(b, "%s:%d:%d: warning: comparison of integer expressions of different signedness: 'int' and 'size_t' [-Wsign-compare]\n%5d |   if (%s < size)\n      |       ^\n", file, line, col, line, v)
	case 2:
		fmt.Fprintf(b, "%s:%d:%d: warning: '%s' may be used uninitialized in this function [-Wmaybe-uninitialized]\n%5d |   return %s;\n      |          ^~\n", file, line, col, v, line, v)
	default:
		fmt.Fprintf(b, "%s:%d:%d: warning: implicit declaration of function '%s_r' [-Wimplicit-function-declaration]\n%5d |   %s_r (%s);\n      |   ^~~~~~~\n", file, line, col, fn, line, fn, v)
	}
}

// writeError ends a failing phase as a C build fails: the compiler's error, make giving up
// level by level, and Spack's ProcessError.
func writeError(b *strings.Builder, rng *rand.Rand) {
	file, fn, v := sourceFiles[rng.IntN(len(sourceFiles))], functions[rng.IntN(len(functions))], variables[rng.IntN(len(variables))]
	line, col := 20+rng.IntN(3000), 3+rng.IntN(40)
	obj := strings.TrimSuffix(file[strings.LastIndexByte(file, '/')+1:], ".c") + ".o"
	fmt.Fprintf(b, "%s: In function '%s':\n%s:%d:%d: error: '%s' undeclared (first use in this function)\n%5d |   %s = 0;\n      |   ^~\n",
		file, fn, file, line, col, v, line, v)
	fmt.Fprintf(b, "%s:%d:%d: note: each undeclared identifier is reported only once for each function it appears in\n", file, line, col)
	fmt.Fprintf(b, "make[2]: *** [Makefile:%d: %s] Error 1\nmake[1]: *** [Makefile:%d: all-recursive] Error 1\nmake: *** [Makefile:%d: all] Error 2\n",
		1000+rng.IntN(3000), obj, 1000+rng.IntN(1000), 400+rng.IntN(200))
	b.WriteString("==> Error: ProcessError: Command exited with status 2:\n    'make' '-j2'\n")
}
