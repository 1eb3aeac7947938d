package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// seedPhase is one phase update of a seeded build.
type seedPhase struct {
	name, status string
	log          []byte
}

// Spack's phases of an Autotools package, and the share of the log each prints.
var seedPhaseNames = []struct {
	name  string
	share float64
}{{"autoreconf", 0.05}, {"configure", 0.2}, {"build", 0.65}, {"install", 0.1}}

// The error events a failing phase's ending holds: the compiler's error (make's and Spack's
// lines are not events), so that warnings make up the rest.
const seedErrorEvents = 1

// phases are the phase logs of the build: about logBytes in all, with about events warning
// and error lines among them. A failing build stops at its failing phase; a build cancelled
// or never run stops earlier.
func (b seedBuildPlan) phases(rng *rand.Rand, events int, logBytes int64) []seedPhase {
	failAt, last := -1, len(seedPhaseNames)
	switch b.status {
	case "FAILED":
		failAt = 1 + rng.IntN(len(seedPhaseNames)-1)
		last = failAt + 1
	case "CANCELLED", "NOTRUN":
		last = rng.IntN(len(seedPhaseNames))
	}
	warnings := events
	if failAt >= 0 {
		warnings = max(0, events-seedErrorEvents)
	}
	var out []seedPhase
	for k := range last {
		ph := seedPhaseNames[k]
		w := int(float64(warnings)*ph.share + rng.Float64())
		size := int(float64(logBytes) * ph.share)
		p := seedPhase{name: ph.name, status: "SUCCESS", log: seedLog(rng, b.pkg.name, ph.name, size, w, k == failAt)}
		if k == failAt {
			p.status = "ERROR"
		}
		out = append(out, p)
	}
	return out
}

// seedLog is a phase's output of about size bytes: compile lines with varying object names
// and flags (so that it compresses like a real log, not like a repeated line), warnings
// spread evenly, and for a failing phase a compiler error and make's report at the end.
func seedLog(rng *rand.Rand, pkg, phase string, size, warnings int, fail bool) []byte {
	var b strings.Builder
	b.Grow(size + 2048)
	fmt.Fprintf(&b, "==> %s: Executing phase: '%s'\n", pkg, phase)
	every := size / (warnings + 1)
	next := every
	for b.Len() < size || warnings > 0 {
		if warnings > 0 && b.Len() >= next {
			writeSeedWarning(&b, rng)
			warnings--
			next += every
			continue
		}
		writeCompileLine(&b, rng, pkg)
	}
	if fail {
		writeSeedError(&b, rng)
	} else {
		fmt.Fprintf(&b, "==> [2026-12-06-02:%02d:%02d.%06d] Running on_phase_success %s, phase %s\n", rng.IntN(60), rng.IntN(60), rng.IntN(1e6), pkg, phase)
	}
	return []byte(b.String())
}

var (
	seedDirs    = []string{"src", "lib", "gnu", "common", "util", "tests", "tools", "io"}
	seedStems   = []string{"list", "buffer", "compare", "create", "extract", "quotearg", "xmalloc", "regex", "misc", "hash", "table", "parse", "print", "alloc", "stream"}
	seedFlags   = []string{"-O2", "-O3", "-g", "-fPIC", "-Wall", "-Wextra", "-pthread", "-fopenmp", "-march=x86-64-v3", "-DNDEBUG", "-std=c11", "-fno-strict-aliasing"}
	seedFuncs   = []string{"read_and", "dump_file", "extract_archive", "flush_archive", "xheader_decode", "open_archive", "diff_archive"}
	seedVars    = []string{"status", "offset", "len", "fd", "st", "cursor", "name_size", "rc"}
	seedWarning = []string{
		"%s:%d:%d: warning: unused variable '%s' [-Wunused-variable]\n%5d |   int %[4]s;\n      |       ^~~~\n",
		"%s:%d:%d: warning: comparison of integer expressions of different signedness: 'int' and 'size_t' [-Wsign-compare]\n%5[5]d |   if (%[4]s < size)\n      |       ^\n",
		"%s:%d:%d: warning: '%s' may be used uninitialized in this function [-Wmaybe-uninitialized]\n%5d |   return %[4]s;\n      |          ^~\n",
	}
)

func seedSource(rng *rand.Rand) string {
	return fmt.Sprintf("%s/%s%d.c", seedDirs[rng.IntN(len(seedDirs))], seedStems[rng.IntN(len(seedStems))], rng.IntN(40))
}

func writeCompileLine(b *strings.Builder, rng *rand.Rand, pkg string) {
	src := seedSource(rng)
	obj := strings.TrimSuffix(src[strings.IndexByte(src, '/')+1:], ".c")
	fmt.Fprintf(b, "libtool: compile:  /opt/spack/lib/spack/env/gcc/gcc -DHAVE_CONFIG_H -I. -I../%s -I/opt/spack/opt/%s-%08x/include %s %s -MT %s.lo -MD -MP -MF .deps/%s.Tpo -c %s -o .libs/%s.o\n",
		pkg, pkg, rng.Uint32(), seedFlags[rng.IntN(len(seedFlags))], seedFlags[rng.IntN(len(seedFlags))], obj, obj, src, obj)
}

func writeSeedWarning(b *strings.Builder, rng *rand.Rand) {
	file, line := seedSource(rng), 20+rng.IntN(3000)
	fmt.Fprintf(b, "%s: In function '%s':\n", file, seedFuncs[rng.IntN(len(seedFuncs))])
	fmt.Fprintf(b, seedWarning[rng.IntN(len(seedWarning))], file, line, 3+rng.IntN(40), seedVars[rng.IntN(len(seedVars))], line)
}

func writeSeedError(b *strings.Builder, rng *rand.Rand) {
	file, line, v := seedSource(rng), 20+rng.IntN(3000), seedVars[rng.IntN(len(seedVars))]
	obj := strings.TrimSuffix(file[strings.IndexByte(file, '/')+1:], ".c") + ".o"
	fmt.Fprintf(b, "%s: In function '%s':\n%s:%d:%d: error: '%s' undeclared (first use in this function)\n%5d |   %s = 0;\n      |   ^~\n",
		file, seedFuncs[rng.IntN(len(seedFuncs))], file, line, 3+rng.IntN(40), v, line, v)
	fmt.Fprintf(b, "make[2]: *** [Makefile:%d: %s] Error 1\nmake[1]: *** [Makefile:%d: all-recursive] Error 1\nmake: *** [Makefile:%d: all] Error 2\n",
		1000+rng.IntN(3000), obj, 1000+rng.IntN(1000), 400+rng.IntN(200))
	b.WriteString("==> Error: ProcessError: Command exited with status 2:\n    'make' '-j2'\n")
}
