package logparse

import (
	"bytes"
	"hash/maphash"
	"strconv"
	"strings"
	"unicode"
)

// What Parse keeps of a log, whatever its size or content: a log of nothing but error
// lines would otherwise cost a stored event, with its context, per line. The totals are
// still counted, so a reader can tell how much was left out.
const (
	// MaxEvents is how many errors, and how many warnings, Parse keeps: the first ones,
	// which are usually the cause of the rest.
	MaxEvents = 500
	// MaxTextBytes bounds an event's text and source file.
	MaxTextBytes = 4096
	// MaxContextLineBytes bounds each context line; the whole line stays in the log.
	MaxContextLineBytes = 1024
)

// Found is what Parse finds in a log.
type Found struct {
	// Events are the first MaxEvents errors and the first MaxEvents warnings, in line
	// order.
	Events []Event
	// Errors and Warnings count every error and warning line, kept or not.
	Errors, Warnings int
}

// Capped tells whether some events were counted but not kept.
func (f Found) Capped() bool { return f.Errors > MaxEvents || f.Warnings > MaxEvents }

// Parse returns the error and warning events of a build log, in line order, and how many
// of each there are.
//
// Lines end at "\n"; a "\r" before it is dropped so that CRLF logs classify like LF ones,
// and a final "\n" ends the last line rather than starting an empty one. Event strings
// are made valid UTF-8 without NUL bytes (both become U+FFFD) because they end up in JSON
// and database text columns, and PostgreSQL text cannot hold NUL; classification itself
// sees the raw bytes.
func Parse(log []byte) Found {
	rs := rules()
	cand := make([]uint64, rs.pre.words)
	var seen seenLines
	var scratch []byte
	var found Found
	lineNo := 0
	for pos := 0; pos < len(log); {
		end, next := lineEnd(log, pos)
		lineNo++
		line := trimCR(log[pos:end])
		var kind Kind
		if rs.candidate(line, cand) {
			kind = seen.classify(rs, log, pos, line, cand)
		}
		switch kind {
		case Error:
			found.Errors++
			if found.Errors <= MaxEvents {
				found.Events = append(found.Events, rs.event(log, kind, line, lineNo, pos, next, &scratch))
			}
		case Warning:
			found.Warnings++
			if found.Warnings <= MaxEvents {
				found.Events = append(found.Events, rs.event(log, kind, line, lineNo, pos, next, &scratch))
			}
		}
		pos = next
	}
	return found
}

// seenLines remembers how recent candidate lines of a log were classified. A build prints
// the same warning once for every file that includes the header it is in, and the same
// line classifies the same way: on a log of repeated warnings the patterns' regular
// expressions were most of Parse's time. Each slot holds the last line whose hash led to
// it, as its place in the log.
type seenLines struct {
	slots [256]struct {
		start, end int
		kind       Kind
	}
}

var lineSeed = maphash.MakeSeed()

// classify is rs.match for the candidate line at start of log, from a slot when the line
// is the one the slot holds.
func (s *seenLines) classify(rs *ruleset, log []byte, start int, line []byte, cand []uint64) Kind {
	slot := &s.slots[maphash.Bytes(lineSeed, line)%uint64(len(s.slots))]
	if slot.end > slot.start && bytes.Equal(log[slot.start:slot.end], line) {
		return slot.kind
	}
	kind := rs.match(line, cand)
	slot.start, slot.end, slot.kind = start, start+len(line), kind
	return kind
}

// lineEnd returns the end of the line starting at pos (excluding "\n") and the start of
// the following one.
func lineEnd(log []byte, pos int) (end, next int) {
	i := bytes.IndexByte(log[pos:], '\n')
	if i < 0 {
		return len(log), len(log)
	}
	return pos + i, pos + i + 1
}

func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// event builds the event for line, which starts at byte start of log; next is the start
// of the following line. Context is found by walking the buffer outwards from the line,
// which costs nothing on the many lines that are not events. Each context is built in
// scratch and made a string once: cleaning the joined lines is cleaning each, since the
// "\n" between them is valid UTF-8 that ends any invalid run.
func (rs *ruleset) event(log []byte, kind Kind, line []byte, lineNo, start, next int, scratch *[]byte) Event {
	ev := Event{
		Kind:   kind,
		LineNo: lineNo,
		Text:   LineText(line),
	}
	// The raw line, with the "\r" trimCR dropped: what a reader of the log sees.
	end, _ := lineEnd(log, start)
	ev.LineBytes = end - start
	ev.SourceFile, ev.SourceLine = rs.location(line)

	first, pre := start, 0
	for ; pre < rs.context && first > 0; pre++ {
		// log[first-1] is the "\n" ending the previous line.
		first = bytes.LastIndexByte(log[:first-1], '\n') + 1
	}
	buf := (*scratch)[:0]
	for p, n := first, 0; n < pre; n++ {
		end, nx := lineEnd(log, p)
		buf = appendContextLine(buf, log[p:end], n > 0)
		p = nx
	}
	ev.PreContext = clean(buf)
	buf = buf[:0]
	post := 0
	for p := next; post < rs.context && p < len(log); post++ {
		end, nx := lineEnd(log, p)
		buf = appendContextLine(buf, log[p:end], post > 0)
		p = nx
	}
	ev.PostContext = clean(buf)
	*scratch = buf
	ev.Start = lineNo - pre
	ev.End = lineNo + post + 1
	return ev
}

// appendContextLine appends a context line to buf as rightTrim keeps it, after a "\n"
// when it is not the first.
func appendContextLine(buf, line []byte, sep bool) []byte {
	if sep {
		buf = append(buf, '\n')
	}
	return append(buf, bytes.TrimRightFunc(prefix(line, MaxContextLineBytes), unicode.IsSpace)...)
}

// location applies every file/line pattern and keeps the last match, as CTest does.
// A line number too large for an int is reported as 0 rather than wrapped or truncated.
func (rs *ruleset) location(line []byte) (string, int) {
	var small [1]uint64
	cand := small[:]
	if rs.fileLinePre.words > len(small) {
		cand = make([]uint64, rs.fileLinePre.words)
	}
	rs.fileLinePre.candidates(line, cand)
	return rs.locate(line, cand)
}

// locate is location with the file/line patterns of cand, or all of them when cand is nil.
func (rs *ruleset) locate(line []byte, cand []uint64) (string, int) {
	file, no := "", 0
	for id, re := range rs.fileLine {
		if cand != nil && !Has(cand, id) {
			continue
		}
		m := re.FindSubmatch(line)
		if m == nil {
			continue
		}
		file = clean(prefix(m[1], MaxTextBytes))
		n, err := strconv.Atoi(string(m[2]))
		if err != nil {
			n = 0
		}
		no = n
	}
	return file, no
}

// LineText is the text of an event found on line: the line without the white space around
// it, cut to MaxTextBytes.
func LineText(line []byte) string { return clean(prefix(bytes.TrimSpace(line), MaxTextBytes)) }

// rightTrim returns a context line: its first MaxContextLineBytes, right-trimmed.
func rightTrim(b []byte) string {
	return clean(bytes.TrimRightFunc(prefix(b, MaxContextLineBytes), unicode.IsSpace))
}

// prefix cuts b to at most n bytes; clean turns a rune cut in two into U+FFFD.
func prefix(b []byte, n int) []byte { return b[:min(len(b), n)] }

func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}
