package logparse

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// FillContext sets the PreContext and PostContext of events, found in log by Parse, from
// the log again, so that a store need not keep a copy of each event's context beside the
// log itself: lines Start..End-1 around LineNo give exactly what Parse kept. It reads the
// log only as far as the last context line and holds only the lines it needs. Events may
// be in any order; an event whose lines lie past the end of log gets what there is.
func FillContext(log io.Reader, events []*Event) error {
	need := make(map[int]string)
	last := 0
	for _, e := range events {
		for n := e.Start; n < e.End; n++ {
			if n != e.LineNo {
				need[n] = ""
			}
		}
		last = max(last, e.End-1)
	}
	if err := readLines(log, last, need); err != nil {
		return err
	}
	for _, e := range events {
		e.PreContext = joinLines(need, e.Start, e.LineNo)
		e.PostContext = joinLines(need, e.LineNo+1, e.End)
	}
	return nil
}

// readLines reads log up to line last (1-based) and sets each line of need to the line as
// Parse keeps context: its first MaxContextLineBytes, right-trimmed. Lines not needed are
// skipped without a copy.
func readLines(log io.Reader, last int, need map[int]string) error {
	r := bufio.NewReaderSize(log, MaxContextLineBytes+1)
	for n := 1; n <= last; n++ {
		line, err := r.ReadSlice('\n')
		if _, ok := need[n]; ok && (err != io.EOF || len(line) > 0) {
			need[n] = rightTrim(bytes.TrimSuffix(line, []byte("\n")))
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
