package service

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// benchLog is a 40 MiB log, compressed as stored, where every tenth line is an error.
var benchLog = func() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 40<<20; i++ {
		if i%10 == 0 {
			fmt.Fprintf(&b, "src/file%d.c:%d:5: error: something went wrong here\n", i, i)
		} else {
			fmt.Fprintf(&b, "libtool: compile: gcc -O2 -g -fPIC -c src/file%d.c -o src/file%d.o\n", i, i)
		}
	}
	return encoder.EncodeAll(b.Bytes(), nil)
}()

func benchGrep(b *testing.B, pattern string) {
	re := regexp.MustCompile(pattern)
	b.ReportAllocs()
	for b.Loop() {
		zr, err := zstd.NewReader(bytes.NewReader(benchLog), zstd.WithDecoderConcurrency(1))
		if err != nil {
			b.Fatal(err)
		}
		g := &grepper{re: re, context: 3}
		if err := g.run(context.Background(), bufio.NewReaderSize(zr, grepChunk)); err != nil {
			b.Fatal(err)
		}
		zr.Close()
		b.ReportMetric(float64(g.matches), "matches")
	}
}

// A common match stops at the cap: the log is decompressed only as far as the last match's
// context.
func BenchmarkGrepStopsAtCap(b *testing.B) { benchGrep(b, `error: something`) }

// A match near nothing reads the whole log.
func BenchmarkGrepWholeLog(b *testing.B) { benchGrep(b, `error: nothing like this`) }

// A match in a long line is shown with the part of the line around it, marked where cut;
// a line longer than the reader's buffer is matched on its start, not on the bytes its
// further reads left in the buffer.
func TestGrepLongLines(t *testing.T) {
	overlong := "NEEDLE at the start " + strings.Repeat("y", 3*grepChunk) + " the end\n"
	log := "short NEEDLE line\n" + strings.Repeat("x", 5000) + " NEEDLE here\n" + overlong + "after\n"
	g := &grepper{re: regexp.MustCompile(`NEEDLE`)}
	if err := g.run(context.Background(), bufio.NewReaderSize(strings.NewReader(log), grepChunk)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(g.out.String(), "\n"), "\n")
	if g.matches != 3 || len(lines) != 3 {
		t.Fatalf("%d matches:\n%.400s", g.matches, g.out.String())
	}
	if lines[0] != "1:short NEEDLE line" {
		t.Errorf("a short line: %q", lines[0])
	}
	if l := lines[1]; !strings.HasPrefix(l, "2:…x") || !strings.HasSuffix(l, "x NEEDLE here") || len(l) > grepLineBytes+10 {
		t.Errorf("a long line: %d bytes, %.40q … %q", len(l), l, l[max(0, len(l)-40):])
	}
	if l := lines[2]; !strings.HasPrefix(l, "3:NEEDLE at the start yyy") || !strings.HasSuffix(l, "y…") {
		t.Errorf("an overlong line: %.60q … %q", l, l[max(0, len(l)-20):])
	}
}

// The window shown around a match holds the match whatever bytes come before it (a byte
// that is not UTF-8 grows when lower-cased), and a context line cut short says so.
func TestGrepWindowsHoldTheMatch(t *testing.T) {
	line := append(bytes.Repeat([]byte{0xe9}, 2000), " the Needle here"...)
	place := regexp.MustCompile("(?i)" + regexp.QuoteMeta("needle"))
	if got := textAround(line, firstMatch(place, line)); !strings.Contains(got, "Needle here") || !strings.HasPrefix(got, "…") {
		t.Errorf("the window around the match: %q", got)
	}
	g := &grepper{re: regexp.MustCompile(`NEEDLE`), context: 1}
	log := strings.Repeat("c", 3000) + "\nNEEDLE\n" + strings.Repeat("d", 3000) + "\n"
	if err := g.run(context.Background(), bufio.NewReaderSize(strings.NewReader(log), grepChunk)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(g.out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "c…") || lines[1] != "2:NEEDLE" || !strings.HasSuffix(lines[2], "d…") {
		t.Errorf("context lines cut:\n%.300s", g.out.String())
	}
}
