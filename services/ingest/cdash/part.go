// Package cdash reads the XML parts that CDash clients (ctest, Spack's CDash reporter)
// submit to submit.php: Update, Configure, Build (the plain Warning/Error form and the
// launcher Failure form), Testing and Spack's Test, Notes, Upload and Done, read with
// xmltree's limits.
package cdash

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/spackmon/spackmon/services/ingest/xmltree"
)

// ErrMalformed wraps every reason a part is refused.
var ErrMalformed = xmltree.ErrMalformed

// Kind names a part by what it reports.
type Kind string

// The parts both clients send.
const (
	Update    Kind = "Update"
	Configure Kind = "Configure"
	Build     Kind = "Build"
	Test      Kind = "Test"
	Notes     Kind = "Notes"
	Upload    Kind = "Upload"
	Done      Kind = "Done"
)

// MaxDecodedOutput caps a test's output once decoded from zlib+base64: the stream is
// inflated no further, so a small part cannot expand into a large allocation.
const MaxDecodedOutput = 8 << 20

// Part is what one submitted file says.
type Part struct {
	Kind Kind
	// Site is the Site wrapper's attributes, or for Update the same fields from its
	// children. Empty values were not sent.
	Site Site
	// FromSpack is set for parts written by Spack's reporter (no Generator), whose event
	// texts are escaped twice.
	FromSpack bool

	Update    *UpdateInfo
	Configure *ConfigureInfo
	Build     *BuildInfo
	Test      *TestInfo
	Notes     []Note
	Files     []File
	// DoneBuildID is Done's buildId, as sent.
	DoneBuildID string
}

// Site is who built what, and where.
type Site struct {
	BuildName, BuildStamp, Name, Generator             string
	CompilerName, CompilerVersion                      string
	OSName, OSRelease, OSVersion, OSPlatform, Hostname string
}

// UpdateInfo is the Update part: the revision built, and for Spack a concretization
// error in Status.
type UpdateInfo struct {
	Type, Command, Revision, PriorRevision, Status string
	// Files counts the files the update changed.
	Files int
}

// ConfigureInfo is the Configure part.
type ConfigureInfo struct {
	Command string
	Log     string
	// Status is the configure step's exit code, 0 when it succeeded.
	Status int
}

// BuildInfo is the Build part: the command and the errors and warnings found.
type BuildInfo struct {
	Command string
	Events  []Event
	// Log is the build output when the client sent it (neither client does today).
	Log string
}

// Event is an error or a warning of a build or of Spack's test log.
type Event struct {
	// Kind is "error" or "warning".
	Kind        string
	LogLine     int
	Text        string
	SourceFile  string
	SourceLine  int
	PreContext  string
	PostContext string
	RepeatCount int
}

// TestInfo is ctest's Testing part (tests) or Spack's Test part (log events only).
type TestInfo struct {
	Command string
	Tests   []TestResult
	Events  []Event
}

// TestResult is one test.
type TestResult struct {
	Name, Path, FullName, Command string
	// Status is "passed", "failed" or "notrun".
	Status           string
	Duration         float64
	ExitCode         string
	ExitValue        string
	CompletionStatus string
	Measurements     []Measurement
	Output           string
}

// Measurement is a named value ctest recorded for a test.
type Measurement struct {
	Name, Type, Value string
}

// Note is a notes file's name and text.
type Note struct {
	Name, Text string
}

// File is an uploaded file.
type File struct {
	Name    string
	Content []byte
}

// Parse reads one part.
func Parse(data []byte) (*Part, error) {
	root, err := xmltree.Read(data)
	if err != nil {
		return nil, err
	}
	switch root.Name {
	case "Update":
		return parseUpdate(root), nil
	case "Done":
		return &Part{Kind: Done, DoneBuildID: strings.TrimSpace(root.Value("buildId"))}, nil
	case "Site":
		return parseSite(root)
	}
	return nil, xmltree.Malformed("unknown root element <%s>: want Site, Update or Done", root.Name)
}

func parseUpdate(root *xmltree.Element) *Part {
	p := &Part{Kind: Update, FromSpack: root.Attr("Generator") == ""}
	p.Site = Site{
		Name:       strings.TrimSpace(root.Value("Site")),
		BuildName:  strings.TrimSpace(root.Value("BuildName")),
		BuildStamp: strings.TrimSpace(root.Value("BuildStamp")),
		Generator:  root.Attr("Generator"),
	}
	u := &UpdateInfo{
		Type:          strings.TrimSpace(root.Value("UpdateType")),
		Command:       strings.TrimSpace(root.Value("UpdateCommand")),
		Revision:      strings.TrimSpace(root.Value("Revision")),
		PriorRevision: strings.TrimSpace(root.Value("PriorRevision")),
		Status:        strings.TrimSpace(root.Value("UpdateReturnStatus")),
	}
	for _, d := range root.All("Directory") {
		u.Files += len(d.All("Updated"))
	}
	p.Update = u
	return p
}

func parseSite(root *xmltree.Element) (*Part, error) {
	p := &Part{Site: Site{
		BuildName: root.Attr("BuildName"), BuildStamp: root.Attr("BuildStamp"), Name: root.Attr("Name"),
		Generator: root.Attr("Generator"), CompilerName: root.Attr("CompilerName"),
		CompilerVersion: root.Attr("CompilerVersion"), OSName: root.Attr("OSName"),
		OSRelease: root.Attr("OSRelease"), OSVersion: root.Attr("OSVersion"),
		OSPlatform: root.Attr("OSPlatform"), Hostname: root.Attr("Hostname"),
	}}
	p.FromSpack = p.Site.Generator == ""
	if len(root.Children) != 1 {
		return nil, xmltree.Malformed("<Site> must hold exactly one part, it holds %d elements", len(root.Children))
	}
	body := root.Children[0]
	switch body.Name {
	case "Configure":
		p.Kind = Configure
		status, err := integer(body.Value("ConfigureStatus"))
		if err != nil {
			return nil, xmltree.Malformed("ConfigureStatus: %v", err)
		}
		p.Configure = &ConfigureInfo{Command: body.Value("ConfigureCommand"), Log: body.Value("Log"), Status: status}
	case "Build":
		p.Kind = Build
		events, err := buildEvents(body, "BuildLogLine", p.FromSpack)
		if err != nil {
			return nil, err
		}
		p.Build = &BuildInfo{Command: body.Value("BuildCommand"), Events: events, Log: body.Value("Log")}
	case "Testing":
		p.Kind = Test
		tests, err := testResults(body)
		if err != nil {
			return nil, err
		}
		p.Test = &TestInfo{Tests: tests}
	case "Test":
		p.Kind = Test
		events, err := buildEvents(body, "TestLogLine", p.FromSpack)
		if err != nil {
			return nil, err
		}
		p.Test = &TestInfo{Command: body.Value("TestCommand"), Events: events}
	case "Notes":
		p.Kind = Notes
		for _, n := range body.All("Note") {
			p.Notes = append(p.Notes, Note{Name: n.Attr("Name"), Text: n.Value("Text")})
		}
	case "Upload":
		p.Kind = Upload
		for _, f := range body.All("File") {
			content, err := base64.StdEncoding.DecodeString(strings.TrimSpace(f.Value("Content")))
			if err != nil {
				return nil, xmltree.Malformed("uploaded file %q: content is not base64", f.Attr("filename"))
			}
			p.Files = append(p.Files, File{Name: f.Attr("filename"), Content: content})
		}
	default:
		return nil, xmltree.Malformed("unknown part <%s>", body.Name)
	}
	return p, nil
}

// buildEvents reads the Warning and Error elements (the plain form) and the Failure
// elements (ctest's launchers) of a Build or Test part, in document order.
func buildEvents(body *xmltree.Element, lineElem string, doubleEscaped bool) ([]Event, error) {
	unescape := func(s string) string { return s }
	if doubleEscaped {
		// Spack escapes a log line when it collects it and again when it writes the part.
		unescape = html.UnescapeString
	}
	var events []Event
	for _, c := range body.Children {
		switch c.Name {
		case "Warning", "Error":
			e := Event{Kind: strings.ToLower(c.Name), Text: unescape(c.Value("Text")),
				SourceFile: c.Value("SourceFile"), PreContext: unescape(c.Value("PreContext")),
				PostContext: unescape(c.Value("PostContext"))}
			var err error
			if e.LogLine, err = integer(c.Value(lineElem)); err != nil {
				return nil, xmltree.Malformed("%s: %v", lineElem, err)
			}
			if e.SourceLine, err = integer(c.Value("SourceLineNumber")); err != nil {
				return nil, xmltree.Malformed("SourceLineNumber: %v", err)
			}
			if e.RepeatCount, err = integer(c.Value("RepeatCount")); err != nil {
				return nil, xmltree.Malformed("RepeatCount: %v", err)
			}
			events = append(events, e)
		case "Failure":
			events = append(events, launcherFailure(c))
		}
	}
	return events, nil
}

// launcherFailure makes an event of a failed compiler or linker call: its text is the
// first line of its error output that names a problem, its context the rest of the output
// and the command.
func launcherFailure(c *xmltree.Element) Event {
	kind := "error"
	if strings.EqualFold(c.Attr("type"), "Warning") {
		kind = "warning"
	}
	result := c.Child("Result")
	stderr := strings.ReplaceAll(result.Value("StdErr"), "[CTest: warning matched] ", "")
	stdout := result.Value("StdOut")
	output := strings.TrimRight(stdout+stderr, "\n")
	lines := strings.Split(output, "\n")
	at := 0
	for i, l := range lines {
		if strings.Contains(l, kind+":") || strings.Contains(l, "error") {
			at = i
			break
		}
	}
	var args []string
	for _, a := range c.Child("Command").All("Argument") {
		args = append(args, a.Text())
	}
	text := lines[at]
	if text == "" {
		text = "command failed with exit condition " + strings.TrimSpace(result.Value("ExitCondition")) + ": " + strings.Join(args, " ")
	}
	return Event{
		Kind:        kind,
		LogLine:     1,
		Text:        text,
		SourceFile:  c.Child("Action").Value("SourceFile"),
		PreContext:  strings.Join(append([]string{strings.Join(args, " ")}, lines[:at]...), "\n"),
		PostContext: strings.Join(lines[at+1:], "\n"),
	}
}

func testResults(body *xmltree.Element) ([]TestResult, error) {
	var tests []TestResult
	for _, t := range body.All("Test") {
		if len(t.Children) == 0 {
			continue // a TestList entry
		}
		r := TestResult{Name: t.Value("Name"), Path: t.Value("Path"), FullName: t.Value("FullName"),
			Command: t.Value("FullCommandLine"), Status: t.Attr("Status")}
		results := t.Child("Results")
		for _, m := range results.All("NamedMeasurement") {
			v := m.Child("Value")
			value, err := decodeValue(v)
			if err != nil {
				return nil, xmltree.Malformed("test %q, measurement %q: %v", r.Name, m.Attr("name"), err)
			}
			switch m.Attr("name") {
			case "Execution Time":
				r.Duration, _ = strconv.ParseFloat(strings.TrimSpace(value), 64)
			case "Exit Code":
				r.ExitCode = value
			case "Exit Value":
				r.ExitValue = value
			case "Completion Status":
				r.CompletionStatus = value
			}
			r.Measurements = append(r.Measurements, Measurement{Name: m.Attr("name"), Type: m.Attr("type"), Value: value})
		}
		out, err := decodeValue(results.Child("Measurement").Child("Value"))
		if err != nil {
			return nil, xmltree.Malformed("test %q, output: %v", r.Name, err)
		}
		r.Output = out
		tests = append(tests, r)
	}
	return tests, nil
}

// decodeValue is a Value's text, inflated when ctest compressed it: base64 of a zlib
// stream, whatever its compression attribute says.
func decodeValue(v *xmltree.Element) (string, error) {
	if v == nil {
		return "", nil
	}
	text := v.Text()
	if v.Attr("encoding") != "base64" {
		return text, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return "", xmltree.Malformed("value is not base64")
	}
	if v.Attr("compression") == "" {
		return string(raw), nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "", xmltree.Malformed("compressed value is not a zlib stream")
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, MaxDecodedOutput+1))
	if err != nil {
		return "", xmltree.Malformed("compressed value: %v", err)
	}
	if len(out) > MaxDecodedOutput {
		return "", xmltree.Malformed("compressed value inflates beyond %d bytes", MaxDecodedOutput)
	}
	return string(out), nil
}

// integer reads an optional integer element: "" is 0.
func integer(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}
