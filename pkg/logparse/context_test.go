package logparse

import (
	"bytes"
	"strings"
	"testing"
)

// TestFillFromLogMatchesParse derives every event's context, and the text of those whose
// lines are short enough, from the log again and checks they are what Parse kept, on logs
// with the edges context and text have: the first and last lines, CRLF, blank and long
// lines, lines around MaxTextBytes, white space around the text, a last line without "\n",
// invalid UTF-8 and NUL bytes.
func TestFillFromLogMatchesParse(t *testing.T) {
	long := strings.Repeat("x", MaxContextLineBytes+7)
	// Lines of exactly MaxTextBytes: plain, with "\r", and with white space (two bytes a
	// rune) around the text; then one byte more.
	edge := []string{
		"error: " + strings.Repeat("z", MaxTextBytes-7),
		"error: " + strings.Repeat("z", MaxTextBytes-8) + "\r",
		"error: xy" + strings.Repeat("\u00a0", (MaxTextBytes-10)/2) + "\r",
		"error: " + strings.Repeat("z", MaxTextBytes-6),
	}
	logs := map[string]string{
		"first and last": "error: first\nok\nok 2\nwarning: last",
		"crlf":           "a\r\nb  \r\nerror: crlf\r\nc\r\n\r\nd\r\n",
		"blank lines":    "\n\n\nwarning: x\n\n\n\n\n\n\n\nerror: y\n\n",
		"long lines":     long + "\n" + long + "\r\nerror: z\n" + strings.Repeat("é", MaxContextLineBytes) + "\n" + long + "\n",
		"exact":          strings.Repeat("y", MaxContextLineBytes) + "\r\n" + strings.Repeat("y", MaxContextLineBytes+1) + "\nerror: e\n",
		"invalid":        "a\xff\x00b\nerror: bad\xfe\nc\x00\n",
		"dense":          strings.Repeat("warning: w\nerror: e\nplain\n", 40),
		"text limit": strings.Join(edge, "\n") + "\n\t src/a.c:12: warning: spaced \r\nerror: " +
			strings.Repeat("é", MaxTextBytes) + "\nerror: end\r",
	}
	for name, log := range logs {
		t.Run(name, func(t *testing.T) {
			found := Parse([]byte(log))
			if len(found.Events) == 0 {
				t.Fatal("no events in the test log")
			}
			derived := make([]Event, len(found.Events))
			ptrs := make([]*Event, len(derived))
			var texts []*Event
			for i, e := range found.Events {
				e.PreContext, e.PostContext = "", ""
				derived[i] = e
				ptrs[len(ptrs)-1-i] = &derived[i] // any order
				if e.LineBytes <= MaxTextBytes {
					derived[i].Text = ""
					texts = append(texts, &derived[i])
				}
			}
			if len(texts) == 0 {
				t.Fatal("no event in the test log has a short line")
			}
			if err := FillFromLog(bytes.NewReader([]byte(log)), ptrs, texts); err != nil {
				t.Fatal(err)
			}
			for i, want := range found.Events {
				if derived[i] != want {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, derived[i], want)
				}
			}
		})
	}
}
