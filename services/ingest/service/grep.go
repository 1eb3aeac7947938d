package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/page"
	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

const (
	maxGrepText = 200
	// grepLineBytes is how much of a matching line an answer carries.
	grepLineBytes = 1024
	// grepChunk is the longest piece of a line matched at once: a longer line is matched
	// piece by piece, so that memory stays bounded whatever the log holds.
	grepChunk = 64 << 10
)

// GrepPhaseOutput finds the lines of a phase's log that contain a text, ignoring case,
// reading the log as a stream from the line after the page token.
func (s *Server) GrepPhaseOutput(ctx context.Context, req *ingestv1.GrepPhaseOutputRequest) (*ingestv1.GrepPhaseOutputResponse, error) {
	text := req.GetText()
	if text == "" || utf8.RuneCountInString(text) > maxGrepText || strings.ContainsAny(text, "\n\r") {
		return nil, errs.New(errs.BadRequest, "text must be 1 to %d characters on one line.", maxGrepText)
	}
	after, err := page.AfterID(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	limit := page.Size(req.GetPageSize())
	out, done, err := s.loadOutput(ctx, req.GetBuildId(), req.GetName(), nil)
	if err != nil {
		return nil, err
	}
	defer done()
	resp := &ingestv1.GrepPhaseOutputResponse{}
	if out.Null {
		return resp, nil
	}
	zr, err := zstd.NewReader(bytes.NewReader(out.Compressed), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	needle := bytes.ToLower([]byte(text))
	// The match's place in the line itself: in the lower-cased copy it may be elsewhere
	// (a byte that is not UTF-8 becomes three).
	place := regexp.MustCompile("(?i)" + regexp.QuoteMeta(text))
	r := bufio.NewReaderSize(zr, grepChunk)
	var lineNo int64 = 1
	matched := false // whether the current line has matched already
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk, err := r.ReadSlice('\n')
		if lineNo > after && !matched && len(chunk) > 0 && bytes.Contains(bytes.ToLower(chunk), needle) {
			matched = true
			if len(resp.Lines) == limit {
				resp.NextPageToken = page.IDToken(resp.Lines[len(resp.Lines)-1].GetLineNo())
				return resp, nil
			}
			resp.Lines = append(resp.Lines, &ingestv1.LogLine{LineNo: lineNo, Text: textAround(chunk, max(firstMatch(place, chunk), 0))})
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue // the same line goes on
		case errors.Is(err, io.EOF):
			return resp, nil
		case err != nil:
			return nil, err
		}
		lineNo++
		matched = false
	}
}

// textAround is at most grepLineBytes of a line, without its line end, as valid text: the
// part around byte at (a match, a quarter of the way in), with "…" where the line goes on.
func textAround(b []byte, at int) string {
	b = bytes.TrimRight(b, "\r\n")
	if len(b) <= grepLineBytes {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	from := min(max(at-grepLineBytes/4, 0), len(b)-grepLineBytes)
	to := from + grepLineBytes
	var text strings.Builder
	if from > 0 {
		text.WriteString("…")
	}
	text.WriteString(strings.ToValidUTF8(string(b[from:to]), "\uFFFD"))
	if to < len(b) {
		text.WriteString("…")
	}
	return text.String()
}

// firstMatch is where re first matches b, or -1.
func firstMatch(re *regexp.Regexp, b []byte) int {
	if loc := re.FindIndex(b); loc != nil {
		return loc[0]
	}
	return -1
}
