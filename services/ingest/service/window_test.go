package service

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/fixtures"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Decompressing a window out of a compressed log gives what cutting it out of the whole
// log gives, for windows inside, across and past the end, in bytes and in lines, and
// to the end (limit 0).
func TestCopyWindowMatchesWholeLog(t *testing.T) {
	logs := map[string][]byte{
		"config.log":       fixtures.Read(t, "dummy-tar-spack", "config.log"),
		"no final newline": []byte("one\ntwo\nthree"),
		"long line":        append(bytes.Repeat([]byte("x"), 10000), "\nshort\n"...),
		"long lines":       []byte(strings.Repeat(strings.Repeat("y", 5000)+"\n", 3) + strings.Repeat("z", 9000)),
	}
	for name, log := range logs {
		compressed := encoder.EncodeAll(log, nil)
		lines := int64(bytes.Count(log, []byte("\n")) + 1)
		for _, unit := range []string{"", "bytes", "lines"} {
			size := int64(len(log))
			if unit == "lines" {
				size = lines
			}
			for _, off := range []int64{0, 1, 2, size / 2, size - 1, size, size + 5} {
				for _, limit := range []int64{0, 1, 2, 7, size, size + 10} {
					maxLines := []int64{0}
					if unit == "lines" {
						maxLines = []int64{0, 1, 3, 4, 5, 4096}
					}
					for _, maxLine := range maxLines {
						req := &ingestv1.GetPhaseOutputRequest{Offset: off, Limit: limit, Unit: unit, MaxLineBytes: maxLine}
						var got bytes.Buffer
						if err := copyWindow(&got, compressed, req); err != nil {
							t.Fatal(err)
						}
						if want := cut(log, req); !bytes.Equal(got.Bytes(), want) {
							t.Errorf("%s unit=%q offset=%d limit=%d max_line_bytes=%d: %d bytes, want %d", name, unit, off, limit, maxLine, got.Len(), len(want))
						}
					}
				}
			}
		}
	}
}

// cut is the window req asks of log, cut out of it whole.
func cut(log []byte, req *ingestv1.GetPhaseOutputRequest) []byte {
	parts := bytes.SplitAfter(log, []byte("\n"))
	if req.GetUnit() != "lines" {
		parts = make([][]byte, len(log))
		for i := range log {
			parts[i] = log[i : i+1]
		}
	}
	from := min(req.GetOffset(), int64(len(parts)))
	to := int64(len(parts))
	if req.GetLimit() > 0 {
		to = min(from+req.GetLimit(), to)
	}
	window := parts[from:to]
	if m := req.GetMaxLineBytes(); m > 0 {
		window = slices.Clone(window)
		for i, line := range window {
			text, newline := bytes.CutSuffix(line, []byte("\n"))
			if int64(len(text)) > m {
				text = text[:m]
			}
			if newline {
				text = append(slices.Clone(text), '\n')
			}
			window[i] = text
		}
	}
	return bytes.Join(window, nil)
}

// What a window read gathers never exceeds the bound the read budget charges for it.
func TestAnswerBoundHoldsTheWindow(t *testing.T) {
	logs := [][]byte{
		fixtures.Read(t, "dummy-tar-spack", "config.log"),
		[]byte("one\ntwo\nthree"),
		append(bytes.Repeat([]byte("x"), 10000), "\nshort\n"...),
		[]byte(strings.Repeat(strings.Repeat("y", 5000)+"\n", 3) + strings.Repeat("z", 9000)),
	}
	for _, log := range logs {
		compressed := encoder.EncodeAll(log, nil)
		for _, unit := range []string{"", "bytes", "lines"} {
			for _, off := range []int64{0, 1, 3, 100000} {
				for _, limit := range []int64{0, 1, 2, 50, 100000} {
					for _, maxLine := range []int64{0, 1, 100, 4096} {
						if maxLine > 0 && unit != "lines" {
							continue
						}
						req := &ingestv1.GetPhaseOutputRequest{Unit: unit, Offset: off, Limit: limit, MaxLineBytes: maxLine}
						var got bytes.Buffer
						if err := copyWindow(&got, compressed, req); err != nil {
							t.Fatal(err)
						}
						if bound := answerBound(int64(len(log)), req); int64(got.Len()) > bound {
							t.Errorf("%d-byte log, %+v: window of %d bytes, bound %d", len(log), req, got.Len(), bound)
						}
					}
				}
			}
		}
	}
}
