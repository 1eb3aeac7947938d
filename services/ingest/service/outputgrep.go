package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/spackmon/spackmon/pkg/errs"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

// Bounds of a regular-expression search of a phase's log: the expression (RE2, so matching
// is linear in the log), the context asked for, the matches answered and the time spent.
const (
	maxGrepPattern = 500
	maxGrepContext = 20
	maxGrepMatches = 1000
	grepTimeBudget = 5 * time.Second
	// maxGrepBytes bounds the answer: matches and context lines are cut at 1 KiB each, but
	// a thousand of them with twenty lines around each would still be tens of MiB.
	maxGrepBytes = 4 << 20
)

// grepPhaseOutput answers the lines of a phase's log that match req's grep expression,
// with their context, numbered as grep -n does. It decompresses the log as a stream and
// stops once the cap on matches (and the last match's context) is reached.
func (s *Server) grepPhaseOutput(ctx context.Context, req *ingestv1.GetPhaseOutputRequest) (*ingestv1.PhaseOutput, error) {
	re, err := grepExpression(req.GetGrep(), req.GetContext())
	if err != nil {
		return nil, err
	}
	out, done, err := s.loadOutput(ctx, req.GetBuildId(), req.GetName(), nil)
	if err != nil {
		return nil, err
	}
	defer done()
	if out.Null {
		return outputHead(true, out.Pruned, 0), nil
	}
	zr, err := zstd.NewReader(bytes.NewReader(out.Compressed), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	ctx, cancel := context.WithTimeout(ctx, grepTimeBudget)
	defer cancel()
	g := &grepper{re: re, context: int(req.GetContext())}
	err = g.run(ctx, bufio.NewReaderSize(zr, grepChunk))
	if errors.Is(err, context.DeadlineExceeded) {
		g.capped, err = true, nil // the time is up: answer what was found
	}
	if err != nil {
		return nil, err
	}
	return &ingestv1.PhaseOutput{Data: g.out.Bytes(), TotalBytes: out.Bytes, Matches: g.matches, MatchesCapped: g.capped}, nil
}

// grepExpression checks a search's expression and context and compiles the expression.
func grepExpression(pattern string, context int32) (*regexp.Regexp, error) {
	if pattern == "" || utf8.RuneCountInString(pattern) > maxGrepPattern {
		return nil, errs.New(errs.BadRequest, "grep must be 1 to %d characters.", maxGrepPattern)
	}
	if context < 0 || context > maxGrepContext {
		return nil, errs.New(errs.BadRequest, "context must be 0 to %d lines.", maxGrepContext)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, errs.New(errs.BadRequest, "grep is not a valid RE2 expression: %v", err)
	}
	return re, nil
}

// grepper is one search: the lines before the current one it may still print as context,
// and what it has written.
type grepper struct {
	re      *regexp.Regexp
	context int
	out     bytes.Buffer
	// before holds the last context lines not yet written; after counts the lines still
	// to write after the last match; printed is the last line number written.
	before  [][]byte
	after   int
	printed int64
	matches int64
	capped  bool
	// long holds the start of an overlong line while the rest is read past.
	long []byte
}

// run reads the log line by line. A line longer than grepChunk is matched on its first
// grepChunk bytes: memory stays bounded whatever the log holds.
func (g *grepper) run(ctx context.Context, r *bufio.Reader) error {
	for lineNo := int64(1); ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// The reads of the rest of an overlong line reuse the reader's buffer.
			g.long = append(g.long[:0], line...)
			line = g.long
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n') // the rest of an overlong line
		}
		if len(line) > 0 && g.line(lineNo, line) {
			return nil
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line takes one line of the log and says whether the search is done.
func (g *grepper) line(lineNo int64, line []byte) (done bool) {
	if g.out.Len() >= maxGrepBytes {
		g.capped = true
		return true
	}
	text := bytes.TrimRight(line, "\r\n")
	if loc := g.matchAt(text); loc >= 0 {
		g.matches++
		for i, b := range g.before {
			g.write(lineNo-int64(len(g.before)-i), '-', b, 0)
		}
		g.before = g.before[:0]
		g.write(lineNo, ':', text, loc)
		g.after = g.context
		return false
	}
	if g.after > 0 {
		g.after--
		g.write(lineNo, '-', text, 0)
		return false
	}
	if g.matches == maxGrepMatches {
		g.capped = true
		return true // the last match's context is written: read no further
	}
	if g.context > 0 {
		g.keepBefore(text)
	}
	return false
}

// keepBefore keeps the start of a line that may be a later match's context, in the buffer
// of the line it pushes out: a long search allocates nothing per line.
func (g *grepper) keepBefore(text []byte) {
	var buf []byte
	if len(g.before) == g.context {
		buf = g.before[0]
		copy(g.before, g.before[1:])
		g.before = g.before[:len(g.before)-1]
	}
	// One byte more than is shown, so that the line shows as cut.
	g.before = append(g.before, append(buf[:0], text[:min(len(text), grepLineBytes+1)]...))
}

// matchAt is where the expression first matches text, or -1: none, or no more matches.
func (g *grepper) matchAt(text []byte) int {
	if g.matches >= maxGrepMatches {
		return -1
	}
	return firstMatch(g.re, text)
}

// write adds a numbered line, shown around byte at, with "--" first when lines were skipped
// since the last.
func (g *grepper) write(lineNo int64, sep byte, text []byte, at int) {
	if g.printed > 0 && lineNo > g.printed+1 {
		g.out.WriteString("--\n")
	}
	g.out.WriteString(strconv.FormatInt(lineNo, 10))
	g.out.WriteByte(sep)
	g.out.WriteString(textAround(text, at))
	g.out.WriteByte('\n')
	g.printed = lineNo
}
