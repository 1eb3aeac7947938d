package logparse

import (
	"bytes"
	"strings"
	"testing"
)

// TestFillContextMatchesParse derives every event's context from the log again and checks
// it is what Parse kept, on logs with the edges context has: the first and last lines,
// CRLF, blank and long lines, a last line without "\n", invalid UTF-8 and NUL bytes.
func TestFillContextMatchesParse(t *testing.T) {
	long := strings.Repeat("x", MaxContextLineBytes+7)
	logs := map[string]string{
		"first and last": "error: first\nok\nok 2\nwarning: last",
		"crlf":           "a\r\nb  \r\nerror: crlf\r\nc\r\n\r\nd\r\n",
		"blank lines":    "\n\n\nwarning: x\n\n\n\n\n\n\n\nerror: y\n\n",
		"long lines":     long + "\n" + long + "\r\nerror: z\n" + strings.Repeat("é", MaxContextLineBytes) + "\n" + long + "\n",
		"exact":          strings.Repeat("y", MaxContextLineBytes) + "\r\n" + strings.Repeat("y", MaxContextLineBytes+1) + "\nerror: e\n",
		"invalid":        "a\xff\x00b\nerror: bad\xfe\nc\x00\n",
		"dense":          strings.Repeat("warning: w\nerror: e\nplain\n", 40),
	}
	for name, log := range logs {
		t.Run(name, func(t *testing.T) {
			found := Parse([]byte(log))
			if len(found.Events) == 0 {
				t.Fatal("no events in the test log")
			}
			derived := make([]Event, len(found.Events))
			ptrs := make([]*Event, len(derived))
			for i, e := range found.Events {
				e.PreContext, e.PostContext = "", ""
				derived[i] = e
				ptrs[len(ptrs)-1-i] = &derived[i] // any order
			}
			if err := FillContext(bytes.NewReader([]byte(log)), ptrs); err != nil {
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
