// Package junit reads JUnit XML reports: Spack's (spack install --log-format=junit: one
// testsuite per requested spec, one testcase per package named by its DAG hash, its log in
// system-out) and the generic ones of pytest, ctest --output-junit or Maven, read with
// xmltree's limits.
package junit

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/spackmon/spackmon/services/ingest/xmltree"
)

// ErrMalformed wraps every reason a report is refused.
var ErrMalformed = xmltree.ErrMalformed

// Test case statuses.
const (
	Passed = "passed"
	Failed = "failed"
	NotRun = "notrun"
)

// Report is a JUnit file.
type Report struct {
	// Name is the testsuites element's name, else the first suite's.
	Name   string
	Suites []Suite
	// Spack is set when every test case is a Spack package named by its DAG hash.
	Spack bool
}

// Suite is a testsuite.
type Suite struct {
	Name, Timestamp, Hostname string
	Properties                map[string]string
	Cases                     []Case
}

// Case is a testcase.
type Case struct {
	ClassName, Name string
	Seconds         float64
	// Status is Passed, Failed (a failure or an error) or NotRun (skipped).
	Status string
	// Message and Detail are the failure's, error's or skip's message attribute and text.
	Message, Detail      string
	SystemOut, SystemErr string
}

// dagHash is how Spack names a package's test case: its 32-character base32 DAG hash.
var dagHash = regexp.MustCompile(`^[a-z2-7]{32}$`)

// textElements hold free text (a traceback, a log), which Spack writes without escaping
// '<': a traceback line such as `File "<spack-repo>/packages/…"` would not parse.
var textElement = regexp.MustCompile(`<(failure|error|skipped|system-out|system-err)(\s[^<>]*)?>`)

// escapeText escapes each '<' inside the text elements that does not start the element's
// end tag or a CDATA section, so that the text reads as it was written.
func escapeText(data []byte) []byte {
	out := make([]byte, 0, len(data)+len(data)/64)
	rest := data
	for {
		loc := textElement.FindSubmatchIndex(rest)
		if loc == nil {
			break
		}
		start := rest[:loc[1]]
		end := []byte("</" + string(rest[loc[2]:loc[3]]) + ">")
		out, rest = append(out, start...), rest[loc[1]:]
		if start[len(start)-2] == '/' {
			continue // <skipped/>
		}
		closeAt := bytes.Index(rest, end)
		if closeAt < 0 {
			continue
		}
		text := rest[:closeAt]
		if !bytes.Contains(text, []byte("<![CDATA[")) {
			text = bytes.ReplaceAll(text, []byte("<"), []byte("&lt;"))
		}
		out, rest = append(out, text...), rest[closeAt:]
	}
	return append(out, rest...)
}

// Parse reads a report whose root is testsuites or a single testsuite.
func Parse(data []byte) (*Report, error) {
	root, err := xmltree.Read(escapeText(data))
	if err != nil {
		return nil, err
	}
	r := &Report{}
	var suites []*xmltree.Element
	switch root.Name {
	case "testsuites":
		r.Name = root.Attr("name")
		suites = root.All("testsuite")
	case "testsuite":
		suites = []*xmltree.Element{root}
	default:
		return nil, xmltree.Malformed("unknown root element <%s>: want testsuites or testsuite", root.Name)
	}
	cases := 0
	spack := true
	for _, s := range suites {
		suite := Suite{Name: s.Attr("name"), Timestamp: s.Attr("timestamp"), Hostname: s.Attr("hostname"), Properties: map[string]string{}}
		for _, p := range s.Child("properties").All("property") {
			suite.Properties[p.Attr("name")] = p.Attr("value")
		}
		for _, c := range s.All("testcase") {
			tc := readCase(c)
			spack = spack && dagHash.MatchString(tc.Name) && tc.ClassName != ""
			suite.Cases = append(suite.Cases, tc)
			cases++
		}
		r.Suites = append(r.Suites, suite)
	}
	if r.Name == "" && len(r.Suites) > 0 {
		r.Name = r.Suites[0].Name
	}
	r.Spack = spack && cases > 0
	return r, nil
}

func readCase(c *xmltree.Element) Case {
	tc := Case{ClassName: c.Attr("classname"), Name: c.Attr("name"), Status: Passed,
		SystemOut: c.Value("system-out"), SystemErr: c.Value("system-err")}
	tc.Seconds, _ = strconv.ParseFloat(strings.TrimSpace(c.Attr("time")), 64)
	for _, kind := range []string{"failure", "error", "skipped"} {
		if e := c.Child(kind); e != nil {
			tc.Status = Failed
			if kind == "skipped" {
				tc.Status = NotRun
			}
			tc.Message, tc.Detail = e.Attr("message"), strings.TrimSpace(e.Text())
			break
		}
	}
	return tc
}
