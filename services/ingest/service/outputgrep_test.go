package service

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
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
