package suite

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is the outcome of one check.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	default:
		return "SKIP"
	}
}

// Node is a group (with Children) or a check (without) of the result tree.
type Node struct {
	Name     string
	Children []*Node
	// The fields below are a check's.
	Status     Status
	Messages   []string // why it failed, or why it was skipped
	Duration   time.Duration
	Exchanges  []Exchange // the HTTP requests the check made, for its transcript
	Transcript string     // file the transcript was written to, when it failed
}

// Exchange is one request and its answer, already redacted.
type Exchange struct {
	Method, URL   string
	RequestHeader map[string][]string
	RequestBody   []byte
	Status        int
	Header        map[string][]string
	Body          []byte
	Err           string
}

// Group returns the child group named name, making it when missing.
func (n *Node) Group(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	// A non-nil (if empty) list is what makes a node a group.
	c := &Node{Name: name, Children: []*Node{}}
	n.Children = append(n.Children, c)
	return c
}

func (n *Node) isGroup() bool { return n.Children != nil }

// Counts is how many checks under n passed, failed and were skipped.
func (n *Node) Counts() (passed, failed, skipped int) {
	n.walk(nil, func(_ []string, c *Node) {
		switch c.Status {
		case Pass:
			passed++
		case Fail:
			failed++
		case Skip:
			skipped++
		}
	})
	return
}

// SkippedFor is how many checks under n were skipped for the reason given.
func (n *Node) SkippedFor(reason string) int {
	count := 0
	n.walk(nil, func(_ []string, c *Node) {
		if c.Status == Skip && slices.Contains(c.Messages, reason) {
			count++
		}
	})
	return count
}

// walk calls f for every check under n with the names of the groups above it.
func (n *Node) walk(parents []string, f func(parents []string, check *Node)) {
	for _, c := range n.Children {
		if c.isGroup() {
			c.walk(append(parents[:len(parents):len(parents)], c.Name), f)
		} else {
			f(parents, c)
		}
	}
}

// WriteTree prints the tree, two spaces per level, then the skipped count on its own line
// and the final line "N passed, N failed" that scripts look for.
func (n *Node) WriteTree(w io.Writer) error {
	var b strings.Builder
	var write func(n *Node, depth int)
	write = func(n *Node, depth int) {
		indent := strings.Repeat("  ", depth)
		for _, c := range n.Children {
			if c.isGroup() {
				p, f, s := c.Counts()
				fmt.Fprintf(&b, "%s%s (%d passed, %d failed, %d skipped)\n", indent, c.Name, p, f, s)
				write(c, depth+1)
				continue
			}
			fmt.Fprintf(&b, "%s%s  %s\n", indent, c.Status, c.Name)
			for _, m := range c.Messages {
				for _, line := range strings.Split(m, "\n") {
					fmt.Fprintf(&b, "%s        %s\n", indent, line)
				}
			}
			if c.Transcript != "" {
				fmt.Fprintf(&b, "%s        transcript: %s\n", indent, c.Transcript)
			}
		}
	}
	write(n, 0)
	p, f, s := n.Counts()
	fmt.Fprintf(&b, "%d skipped\n%d passed, %d failed\n", s, p, f)
	_, err := io.WriteString(w, b.String())
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the tree as JUnit XML: one testsuite per top-level group, the deeper
// groups in each testcase's classname, so CI viewers show the same hierarchy.
func (n *Node) WriteJUnit(w io.Writer, name string) error {
	out := junitSuites{Name: name}
	for _, top := range n.Children {
		s := junitSuite{Name: top.Name}
		var total time.Duration
		visit := func(parents []string, c *Node) {
			jc := junitCase{Name: c.Name, ClassName: strings.Join(parents, "."), Time: seconds(c.Duration)}
			msg := strings.Join(c.Messages, "\n")
			switch c.Status {
			case Fail:
				jc.Failure = &junitMessage{Message: firstLine(msg), Text: msg}
				s.Failures++
				if c.Transcript != "" {
					jc.SystemOut = "transcript: " + c.Transcript
				}
			case Skip:
				jc.Skipped = &junitMessage{Message: msg}
				s.Skipped++
			}
			s.Tests++
			total += c.Duration
			s.Cases = append(s.Cases, jc)
		}
		if top.isGroup() {
			top.walk([]string{top.Name}, visit)
		} else {
			visit(nil, top)
		}
		s.Time = seconds(total)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// WriteTranscripts writes one file per failed check into dir and records its path in the
// check, so the tree and the JUnit file can point at it.
func (n *Node) WriteTranscripts(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	seen := map[string]int{}
	n.walk(nil, func(parents []string, c *Node) {
		if c.Status != Fail || err != nil {
			return
		}
		base := unsafeFileChars.ReplaceAllString(strings.Join(append(parents, c.Name), "__"), "_")
		if len(base) > 150 {
			base = base[:150]
		}
		seen[base]++
		if k := seen[base]; k > 1 {
			base = fmt.Sprintf("%s-%d", base, k)
		}
		file := filepath.Join(dir, base+".txt")
		if err = os.WriteFile(file, []byte(c.transcriptText(parents)), 0o644); err == nil {
			c.Transcript = file
		}
	})
	return err
}

func (c *Node) transcriptText(parents []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "check: %s\n", strings.Join(append(parents, c.Name), " / "))
	for _, m := range c.Messages {
		fmt.Fprintf(&b, "failure: %s\n", m)
	}
	for i, e := range c.Exchanges {
		fmt.Fprintf(&b, "\n=== request %d\n%s %s\n", i+1, e.Method, e.URL)
		writeHeader(&b, e.RequestHeader)
		if len(e.RequestBody) > 0 {
			fmt.Fprintf(&b, "\n%s\n", clip(e.RequestBody))
		}
		if e.Err != "" {
			fmt.Fprintf(&b, "--- no response: %s\n", e.Err)
			continue
		}
		fmt.Fprintf(&b, "--- response\n%d\n", e.Status)
		writeHeader(&b, e.Header)
		fmt.Fprintf(&b, "\n%s\n", clip(e.Body))
	}
	return b.String()
}

func writeHeader(b *strings.Builder, h map[string][]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// clip keeps transcripts readable when a check posts large documents.
func clip(body []byte) string {
	const max = 16 << 10
	if len(body) > max {
		return fmt.Sprintf("%s\n... (%d more bytes)", body[:max], len(body)-max)
	}
	return string(body)
}
