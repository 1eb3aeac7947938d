package logparse

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/spackmon/spackmon/pkg/fixtures"
)

func testdataDir(tb testing.TB) string { return fixtures.Path(tb) }

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(tb), "dummy-tar-spack", name))
	if err != nil {
		tb.Fatalf("reading fixture: %v", err)
	}
	return b
}

// naiveParse is the oracle: it runs every pattern on every line, splits and builds
// context the obvious way, and shares only the compiled pattern lists with Parse.
func naiveParse(log []byte) Found {
	rs := rules()
	if len(log) == 0 {
		return Found{}
	}
	lines := bytes.Split(log, []byte("\n"))
	if log[len(log)-1] == '\n' {
		lines = lines[:len(lines)-1]
	}
	matchAny := func(s span, line []byte) bool {
		for id := s.lo; id < s.hi; id++ {
			if rs.res[id].Match(line) {
				return true
			}
		}
		return false
	}
	ctx := func(ls [][]byte) string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = oracleText(strings.TrimRightFunc(cut(string(l), MaxContextLineBytes), unicode.IsSpace))
		}
		return strings.Join(out, "\n")
	}
	var found Found
	for i, raw := range lines {
		line := bytes.TrimSuffix(raw, []byte("\r"))
		var kind Kind
		switch {
		case matchAny(rs.errs, line) && !matchAny(rs.errExc, line):
			kind = Error
		case matchAny(rs.warns, line) && !matchAny(rs.warnExc, line):
			kind = Warning
		default:
			continue
		}
		ev := Event{
			Kind:      kind,
			LineNo:    i + 1,
			Text:      oracleText(cut(strings.TrimSpace(string(line)), MaxTextBytes)),
			LineBytes: len(raw),
		}
		for _, re := range rs.fileLine {
			if m := re.FindSubmatch(line); m != nil {
				ev.SourceFile = oracleText(cut(string(m[1]), MaxTextBytes))
				n, err := strconv.ParseInt(string(m[2]), 10, 0)
				if err != nil {
					n = 0
				}
				ev.SourceLine = int(n)
			}
		}
		lo, hi := max(0, i-rs.context), min(len(lines), i+1+rs.context)
		ev.PreContext, ev.PostContext = ctx(lines[lo:i]), ctx(lines[i+1:hi])
		ev.Start, ev.End = lo+1, hi+1
		n := &found.Errors
		if kind == Warning {
			n = &found.Warnings
		}
		if *n++; *n <= MaxEvents {
			found.Events = append(found.Events, ev)
		}
	}
	return found
}

func cut(s string, n int) string { return s[:min(len(s), n)] }

func count(evs []Event) (errs, warns int) {
	for _, e := range evs {
		if e.Kind == Error {
			errs++
		} else {
			warns++
		}
	}
	return
}

func TestBuildOut(t *testing.T) {
	evs := Parse(readFixture(t, "spack-build-out.txt")).Events
	if e, w := count(evs); e != 0 || w != 2 {
		t.Fatalf("got %d errors, %d warnings; want 0, 2", e, w)
	}
	want := []struct {
		line, start, end int
		text             string
	}{
		{332, 326, 339, "configure: WARNING: libacl development library was not found or not usable."},
		{333, 327, 340, "configure: WARNING: GNU tar will be built without ACL support."},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Kind != Warning || ev.LineNo != w.line || ev.Start != w.start || ev.End != w.end || ev.Text != w.text {
			t.Errorf("event %d = %+v; want line %d start %d end %d text %q", i, ev, w.line, w.start, w.end, w.text)
		}
		if ev.SourceFile != "" || ev.SourceLine != 0 {
			t.Errorf("event %d has source %q:%d; want none", i, ev.SourceFile, ev.SourceLine)
		}
		if n := strings.Count(ev.PreContext, "\n") + 1; n != 6 {
			t.Errorf("event %d pre-context has %d lines; want 6", i, n)
		}
		if n := strings.Count(ev.PostContext, "\n") + 1; n != 6 {
			t.Errorf("event %d post-context has %d lines; want 6", i, n)
		}
	}
	if !strings.HasSuffix(evs[1].PreContext, evs[0].Text) {
		t.Errorf("line 333's pre-context should end with line 332; got %q", evs[1].PreContext)
	}
}

func TestConfigLog(t *testing.T) {
	evs := Parse(readFixture(t, "config.log")).Events
	if e, w := count(evs); e != 88 || w != 19 {
		t.Fatalf("got %d errors, %d warnings; want 88, 19", e, w)
	}
	var firstErr, firstWarn, at185 *Event
	for i := range evs {
		ev := &evs[i]
		if ev.Kind == Error && firstErr == nil {
			firstErr = ev
		}
		if ev.Kind == Warning && firstWarn == nil {
			firstWarn = ev
		}
		if ev.LineNo == 185 {
			at185 = ev
		}
	}
	if firstErr.LineNo != 121 || firstErr.Text != "gcc: error: unrecognized command line option '-V'" {
		t.Errorf("first error = line %d %q; want line 121 \"gcc: error: unrecognized command line option '-V'\"", firstErr.LineNo, firstErr.Text)
	}
	if at185 == nil {
		t.Fatal("no event on line 185")
	}
	if at185.Kind != Error || at185.SourceFile != "conftest.c" || at185.SourceLine != 11 {
		t.Errorf("line 185 = %s %q:%d; want error conftest.c:11", at185.Kind, at185.SourceFile, at185.SourceLine)
	}
	if firstWarn.LineNo != 3509 {
		t.Errorf("first warning on line %d; want 3509", firstWarn.LineNo)
	}
	if firstWarn.SourceFile != "conftest.c" || firstWarn.SourceLine != 118 {
		t.Errorf("line 3509 source = %q:%d; want conftest.c:118", firstWarn.SourceFile, firstWarn.SourceLine)
	}
}

// synthetic lines that exercise every list: each error and warning pattern, lines that an
// exception rescues, error lines that fall through to warnings, and location formats.
var synthetic = []string{
	"foo.c: error 42: bad",
	"foo.c: Error: thing",
	"foo.c: undefined reference to `bar'",
	"a.o: multiply defined symbol",
	"x.f90 : catastrophic error: out of memory",
	"src/a.cpp(12) : fatal error C1083: cannot open",
	"FAILED: build.ninja",
	"Bus error (core dumped)",
	"segmentation Violation",
	"Segmentation fault",
	"cp: /root: Permission Denied",
	"Error 2: something",
	"Fatal: everything",
	"error: no",
	"Error in phase",
	"3 ERROR: three",
	`"foo.c", line 12: syntax nonsense`,
	`"foo.c", line 12: Warning: nope`,
	"cc-1020 CC: ERROR File = foo.c, Line = 99",
	"ld64: ERROR foo:",
	"ild: (undefined symbol) frob",
	"fatal error C1001: internal",
	"foo.y:3: syntax error near x",
	"collect2: ld returned 1 exit status",
	"gcc: ld terminated with signal 9",
	"Unsatisfied symbol foo",
	"Unresolved: bar",
	"Undefined symbol baz",
	"Undefined    first referenced",
	"CMake Error at CMakeLists.txt:3 (project):",
	"ld:\tcannot find -lfoo",
	"ld: can't find thing",
	"make: *** No rule to make target `all'.  Stop",
	"make: *** No targets specified and no makefile found.  Stop.",
	"ld: Invalid loader fixup for symbol x",
	"ld: Invalid fixups exist",
	"ld: Can't find library for -lm",
	"ld: internal link edit command failed",
	"cc: Unrecognized option `-fx'",
	`"a.c", line 3.10: 1506-046 (S) Syntax error.`,
	`"a.c", line 3.10: 1506-046 (W) Soft.`,
	`"a.c", line 3.10: 1506-046 (I) Info.`,
	"ld: 0706-006 Cannot find or open library file: -l m",
	"ild: (argument error) can't find library argument ::",
	"could not be found and will not be loaded.",
	"as: s:616 string too big",
	"make: Fatal error: Don't know how",
	"ld: 0711-993 Error occurred while writing to the output file: x",
	"ld: fatal: symbol referencing errors",
	"ld: final link failed: no space",
	"make: *** [all] Error 2",
	"make[2]: *** [foo.o] Error 1",
	"*** Error code 1",
	"gcc: internal error: killed",
	"Makefile:12: *** missing separator.  Stop.",
	"cat: nofile: No such file or directory",
	"mmap: Invalid argument",
	"The project cannot be built.",
	"[ERROR] Failed to execute goal",
	"Command ls -l failed with exit code 2",
	// error patterns rescued by an exception
	"foo.h:10: error: instantiated from here",
	"foo.c: error: candidates are: x",
	"foo.c:1: error: foo: warning",
	"foo.c: error: : note something",
	"Note: error in foo",
	"makefile: error here",
	"Makefile: error here",
	"foo.c: error:  Where: here",
	"a.c:12: Warning: foo.c: error thing",
	"------ Build started: Project: x, error ------",
	// warnings
	"foo.c:12: warning: unused",
	"foo.c: warning 12: x",
	"foo.c: warning  12 : x",
	"foo.c : warning C4996",
	"foo.c: warning something",
	"foo.c:3: note: declared here",
	"Warning 12: thing",
	"Warnung: deutsch",
	"cxx: Warning: x",
	"foo.c:3: Warnung komisch",
	"CMake Warning (dev) at CMakeLists.txt:1:",
	"ranlib: file: libx.a(y.o) has no symbols",
	"cc-1 CC: WARNING File = a.c, Line = 7",
	"ld: WARNING 84: x:",
	`"b.c", line 9: warning: x`,
	"configure: WARNING: x",
	"foo(12): remark #1419: external declaration",
	`"a.c", line 5: remark(1): x`,
	"cc-1174 CC: REMARK File = a.c, Line = 4",
	"[WARNING] deprecated",
	// warnings rescued by an exception
	"/usr/include/X11/Xlib.h:12: warning: ANSI C++ forbids declaration",
	"/usr/X/X11/Xutil.h:1: warning: ANSI C++ forbids declaration",
	"/usr/X/X11/XResource.h:1: warning: ANSI C++ forbids declaration",
	"ld32: WARNING 84 : lib not used",
	"ld32: WARNING 47 : x",
	"makefile: warning: x",
	"make: warning:  Clock skew detected.  Your build may be incomplete.",
	"/usr/openwin/include/GL/gl.h: warning: x",
	"ld: warning: bind_at_load",
	"x: warning: XrmQGetResource",
	"x: warning: IceFlush",
	"LINK : warning LNK4089: all references to 'X.dll' discarded by /OPT:REF",
	"ld32: WARNING 85: definition of dataKey in foo",
	`cc: warning 422: Unknown option "+b" ignored`,
	"x: warning: foo_with_warning_C",
	// locations
	"Warning W8004 foo.cpp 12: value never used: warning",
	"C:/x/foo.cpp(33): error C2065",
	"1>foo.cpp(33): error C2065",
	"  lib/a.c:7: error: indented",
	`"quoted.c", line 44: error: x`,
	"foo.c:99999999999999999999999: error: big",
	// CRLF, invalid UTF-8 and leading space
	"foo.c:1: error: crlf\r",
	"foo.c:1: error: bad \xff\xfe bytes",
	"\xc3(.c:1: warning: x",
	"   Segmentation fault",
	"",
}

// classify is what Parse does to one line, without its memory of lines seen before: the
// kind of event line is, or "" when it is neither. cand is scratch space of rs.pre.words
// words.
func (rs *ruleset) classify(line []byte, cand []uint64) Kind {
	if !rs.candidate(line, cand) {
		return ""
	}
	return rs.match(line, cand)
}

func TestSynthetic(t *testing.T) {
	for _, l := range synthetic {
		got, want := Parse([]byte(l)), naiveParse([]byte(l))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %q:\n fast  %+v\n naive %+v", l, got, want)
		}
	}
	log := []byte(strings.Join(synthetic, "\n"))
	compare(t, "synthetic", log)
	// Each list must be exercised, or the comparison above proves little.
	rs := rules()
	cand := make([]uint64, rs.pre.words)
	hits := map[string]int{}
	for _, l := range synthetic {
		switch rs.classify([]byte(l), cand) {
		case Error:
			hits["error"]++
		case Warning:
			hits["warning"]++
		}
		if rs.anyMatch(rs.errs, cand, []byte(l)) && rs.anyMatch(rs.errExc, cand, []byte(l)) {
			hits["error exception"]++
		}
		if rs.anyMatch(rs.warns, cand, []byte(l)) && rs.anyMatch(rs.warnExc, cand, []byte(l)) {
			hits["warning exception"]++
		}
		if f, _ := rs.location([]byte(l)); f != "" {
			hits["location"]++
		}
	}
	for _, k := range []string{"error", "warning", "error exception", "warning exception", "location"} {
		if hits[k] < 5 {
			t.Errorf("synthetic lines hit %q only %d times", k, hits[k])
		}
	}
}

func compare(t *testing.T, name string, log []byte) {
	t.Helper()
	got, want := Parse(log), naiveParse(log)
	if got.Errors != want.Errors || got.Warnings != want.Warnings {
		t.Errorf("%s: fast path counted %d errors and %d warnings, naive %d and %d", name, got.Errors, got.Warnings, want.Errors, want.Warnings)
	}
	if len(got.Events) != len(want.Events) {
		t.Errorf("%s: fast path kept %d events, naive %d", name, len(got.Events), len(want.Events))
	}
	for i := range min(len(got.Events), len(want.Events)) {
		if !reflect.DeepEqual(got.Events[i], want.Events[i]) {
			t.Errorf("%s: event %d differs:\n fast  %+v\n naive %+v", name, i, got.Events[i], want.Events[i])
			return
		}
	}
}

func TestFastMatchesNaive(t *testing.T) {
	for _, name := range []string{"spack-build-out.txt", "config.log"} {
		compare(t, name, readFixture(t, name))
	}
	compare(t, "generated", generatedLog(1, 40))
}

func TestLineEndings(t *testing.T) {
	for _, name := range []string{"spack-build-out.txt", "config.log"} {
		lf := readFixture(t, name)
		want := Parse(lf)
		crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
		got := Parse(crlf)
		for i := range got.Events { // the one thing that differs: a line's bytes count its "\r"
			got.Events[i].LineBytes--
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: CRLF copy parses differently", name)
		}
		if got := Parse(bytes.TrimSuffix(lf, []byte("\n"))); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: copy without final newline parses differently", name)
		}
	}
}

func TestEdges(t *testing.T) {
	if evs := Parse(nil).Events; evs != nil {
		t.Errorf("Parse(nil) = %v", evs)
	}
	// Events near both ends take the context that exists.
	evs := Parse([]byte("a\nFAILED x\nb\n")).Events
	want := Event{Kind: Error, LineNo: 2, Text: "FAILED x", PreContext: "a", PostContext: "b", Start: 1, End: 4, LineBytes: 8}
	if len(evs) != 1 || evs[0] != want {
		t.Errorf("got %+v; want %+v", evs, want)
	}
	evs = Parse([]byte("FAILED")).Events
	want = Event{Kind: Error, LineNo: 1, Text: "FAILED", Start: 1, End: 2, LineBytes: 6}
	if len(evs) != 1 || evs[0] != want {
		t.Errorf("got %+v; want %+v", evs, want)
	}
	// Empty lines still count as context lines.
	evs = Parse([]byte("\n\nFAILED\n\n")).Events
	want = Event{Kind: Error, LineNo: 3, Text: "FAILED", PreContext: "\n", PostContext: "", Start: 1, End: 5, LineBytes: 6}
	if len(evs) != 1 || evs[0] != want {
		t.Errorf("got %+v; want %+v", evs, want)
	}
	evs = Parse([]byte("foo.c:99999999999999999999999: error: big")).Events
	if len(evs) != 1 || evs[0].SourceFile != "foo.c" || evs[0].SourceLine != 0 {
		t.Errorf("overflowing line number: %+v", evs)
	}
	evs = Parse([]byte("x\xff\nfoo.c:7: error: bad \xff byte\ny\xfe")).Events
	if len(evs) != 1 {
		t.Fatalf("invalid UTF-8: %+v", evs)
	}
	for _, s := range []string{evs[0].Text, evs[0].PreContext, evs[0].PostContext} {
		if !utf8.ValidString(s) {
			t.Errorf("event string %q is not valid UTF-8", s)
		}
	}
	if evs[0].Text != "foo.c:7: error: bad \uFFFD byte" || evs[0].SourceLine != 7 {
		t.Errorf("invalid UTF-8 event: %+v", evs[0])
	}
}

func TestConcurrent(t *testing.T) {
	log := readFixture(t, "spack-build-out.txt")
	want := Parse(log)
	done := make(chan Found)
	for range 4 {
		go func() { done <- Parse(log) }()
	}
	for range 4 {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Error("concurrent Parse differs")
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, l := range synthetic {
		f.Add([]byte(l))
	}
	f.Add([]byte(strings.Join(synthetic[:20], "\r\n")))
	f.Add(generatedLog(2, 1)[:2000])
	f.Fuzz(func(t *testing.T, log []byte) {
		got, want := Parse(log), naiveParse(log)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fast and naive differ on %q:\n fast  %+v\n naive %+v", log, got, want)
		}
		for _, ev := range got.Events {
			for _, s := range []string{ev.Text, ev.PreContext, ev.PostContext, ev.SourceFile} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %+v", ev)
				}
			}
		}
		checkFillFromLog(t, log, got.Events)
	})
}

// checkFillFromLog reads the context of events, and the text of those on lines of at most
// MaxTextBytes, from log again and fails unless they are what Parse found.
func checkFillFromLog(t *testing.T, log []byte, events []Event) {
	t.Helper()
	derived := slices.Clone(events)
	var context, text []*Event
	for i := range derived {
		derived[i].PreContext, derived[i].PostContext = "", ""
		context = append(context, &derived[i])
		if derived[i].LineBytes <= MaxTextBytes {
			derived[i].Text = ""
			text = append(text, &derived[i])
		}
	}
	if err := FillFromLog(bytes.NewReader(log), context, text); err != nil {
		t.Fatal(err)
	}
	for i, want := range events {
		if derived[i] != want {
			t.Fatalf("read again from %q:\n got %+v\nwant %+v", log, derived[i], want)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"config.log", "spack-build-out.txt"} {
		log := readFixture(b, name)
		rules()
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				Parse(log)
			}
		})
		b.Run(name+"/naive", func(b *testing.B) {
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				naiveParse(log)
			}
		})
	}
}

func ExampleParse() {
	log := "checking for gcc... gcc\n" +
		"conftest.c:11:10: fatal error: ac_nonexistent.h: No such file or directory\n" +
		"configure: WARNING: no ACL support\n"
	for _, ev := range Parse([]byte(log)).Events {
		fmt.Printf("%d %s %s:%d %q\n", ev.LineNo, ev.Kind, ev.SourceFile, ev.SourceLine, ev.Text)
	}
	// Output:
	// 2 error conftest.c:11 "conftest.c:11:10: fatal error: ac_nonexistent.h: No such file or directory"
	// 3 warning :0 "configure: WARNING: no ACL support"
}

// PostgreSQL text cannot hold NUL, and Spack sends what the build printed.
func TestNULBecomesReplacementCharacter(t *testing.T) {
	log := []byte("before\x00\nmain.c:3:1: error: bad\x00thing\nafter\x00\n")
	events := Parse(log).Events
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	e := events[0]
	for _, s := range []string{e.Text, e.PreContext, e.PostContext, e.SourceFile} {
		if strings.IndexByte(s, 0) >= 0 {
			t.Errorf("NUL kept in %q", s)
		}
	}
	if e.Text != "main.c:3:1: error: bad\uFFFDthing" {
		t.Errorf("text %q", e.Text)
	}
}

// oracleText is what the oracle stores of a piece of a line: valid UTF-8, no NUL.
func oracleText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// A log of nothing but events keeps the first MaxEvents of each kind and counts the rest;
// over-long lines are cut in the event, not in the counts.
func TestCaps(t *testing.T) {
	var log bytes.Buffer
	for i := range 3 * MaxEvents {
		fmt.Fprintf(&log, "main.c:%d: error: e%d\n", i+1, i)
		fmt.Fprintf(&log, "main.c:%d: warning: w%d\n", i+1, i)
	}
	long := strings.Repeat("x", 3*MaxTextBytes)
	fmt.Fprintf(&log, "%s.c:1: error: %s\n%s\n", long, long, long)
	got := Parse(log.Bytes())
	if got.Errors != 3*MaxEvents+1 || got.Warnings != 3*MaxEvents || !got.Capped() {
		t.Fatalf("counted %d errors and %d warnings (capped %v); want %d and %d, capped",
			got.Errors, got.Warnings, got.Capped(), 3*MaxEvents+1, 3*MaxEvents)
	}
	if e, w := count(got.Events); e != MaxEvents || w != MaxEvents {
		t.Fatalf("kept %d errors and %d warnings; want %d of each", e, w, MaxEvents)
	}
	last := got.Events[len(got.Events)-1]
	if last.Kind != Warning || last.LineNo != 2*MaxEvents || last.Text != fmt.Sprintf("main.c:%d: warning: w%d", MaxEvents, MaxEvents-1) {
		t.Errorf("last kept event %+v; want the %dth warning", last, MaxEvents)
	}
	if small := Parse([]byte("main.c:1: error: one\n")); small.Capped() || small.Errors != 1 || len(small.Events) != 1 {
		t.Errorf("one error: %+v", small)
	}

	// The long error line's event, found past the cap of events, is checked on its own.
	tail := Parse([]byte(long + ".c:1: error: " + long + "\n" + long + "\n"))
	if len(tail.Events) != 1 {
		t.Fatalf("long line: %d events", len(tail.Events))
	}
	ev := tail.Events[0]
	if len(ev.Text) != MaxTextBytes || len(ev.SourceFile) != MaxTextBytes || len(ev.PostContext) != MaxContextLineBytes {
		t.Errorf("long line: text %d, source file %d, context %d bytes; want %d, %d, %d",
			len(ev.Text), len(ev.SourceFile), len(ev.PostContext), MaxTextBytes, MaxTextBytes, MaxContextLineBytes)
	}
}

// Lines seen before classify as they did the first time, whether a slot of Parse's memory
// of them holds them or another line (the synthetic lines repeated in a shuffled order,
// some of them with CRLF endings).
func TestRepeatedLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	var lines []string
	for range 40 {
		for _, l := range synthetic {
			if rng.IntN(4) == 0 {
				l += "\r"
			}
			lines = append(lines, l)
		}
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	compare(t, "repeated", []byte(strings.Join(lines, "\n")))
}

// BenchmarkParseRepeated parses a log of one warning printed again and again, as a build
// prints a header's warning for every file that includes it.
func BenchmarkParseRepeated(b *testing.B) {
	log := []byte(strings.Repeat("/usr/bin/gcc -O2 -c widget.c -o widget.o\nwidget.h:12:3: warning: unused variable 'x' [-Wunused-variable]\n", 20000))
	rules()
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		Parse(log)
	}
}

// BenchmarkParseEvents parses a log where events are common: lines generated for every
// pattern, with filler between them.
func BenchmarkParseEvents(b *testing.B) {
	log := generatedLog(1, 40)
	rules()
	b.SetBytes(int64(len(log)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(log)
	}
}
