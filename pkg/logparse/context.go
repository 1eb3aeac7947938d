package logparse

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// FillFromLog sets again, from the log events were found in by Parse, what a store chose
// not to keep a copy of: the PreContext and PostContext of the events in context (lines
// Start..End-1 around LineNo give exactly what Parse kept) and the Text of the events in
// text, whose lines must be at most MaxTextBytes long (LineBytes) for the text to be
// exact. It reads the log only as far as the last line needed and holds only the lines it
// needs. Events may be in any order and in both lists; an event whose lines lie past the
// end of log gets what there is.
func FillFromLog(log io.Reader, context, text []*Event) error {
	lines := neededLines{context: make(map[int]string), text: make(map[int]string)}
	for _, e := range context {
		for n := e.Start; n < e.End; n++ {
			if n != e.LineNo {
				lines.context[n] = ""
			}
		}
		lines.last = max(lines.last, e.End-1)
	}
	for _, e := range text {
		lines.text[e.LineNo] = ""
		lines.last = max(lines.last, e.LineNo)
	}
	if err := lines.read(log); err != nil {
		return err
	}
	for _, e := range context {
		e.PreContext = joinLines(lines.context, e.Start, e.LineNo)
		e.PostContext = joinLines(lines.context, e.LineNo+1, e.End)
	}
	for _, e := range text {
		e.Text = lines.text[e.LineNo]
	}
	return nil
}

// neededLines are the lines of a log FillFromLog reads, by 1-based line number, up to
// last: as Parse keeps context and as it keeps an event's text.
type neededLines struct {
	context, text map[int]string
	last          int
}

// read reads log up to line last and sets each needed line. Lines not needed are skipped
// without a copy.
func (l neededLines) read(log io.Reader) error {
	r := bufio.NewReaderSize(log, MaxTextBytes+1)
	for n := 1; n <= l.last; n++ {
		line, err := r.ReadSlice('\n')
		if err != io.EOF || len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			if _, ok := l.context[n]; ok {
				l.context[n] = rightTrim(line)
			}
			if _, ok := l.text[n]; ok {
				l.text[n] = LineText(line)
			}
		}
		for err == bufio.ErrBufferFull { // the rest of a long line
			_, err = r.ReadSlice('\n')
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// joinLines joins lines from..to-1 of lines with "\n", as Parse joins context.
func joinLines(lines map[int]string, from, to int) string {
	parts := make([]string, 0, max(to-from, 0))
	for n := from; n < to; n++ {
		parts = append(parts, lines[n])
	}
	return strings.Join(parts, "\n")
}
