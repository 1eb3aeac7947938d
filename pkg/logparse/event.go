// Package logparse finds the errors and warnings in build logs with the CTest pattern lists
// Spack uses (testdata/ctest-log-patterns.json), embedded at build time.
package logparse

// Kind tells an error from a warning.
type Kind string

const (
	Error   Kind = "error"
	Warning Kind = "warning"
)

// Event is one error or warning line with its context.
type Event struct {
	Kind Kind
	// LineNo is the 1-based line number of the event in the log.
	LineNo int
	// Text is the line, trimmed of surrounding white space.
	Text string
	// SourceFile and SourceLine come from the last file/line pattern that matched the line;
	// "" and 0 when none did.
	SourceFile string
	SourceLine int
	// PreContext and PostContext are up to 6 lines before and after, right-trimmed and
	// joined with "\n".
	PreContext  string
	PostContext string
	// Start is the line number of the first context line, End one past the last.
	Start int
	End   int
	// RepeatCount is how many more times a client that found the event itself (ctest's
	// RepeatCount) saw it; 0 for events found in a log.
	RepeatCount int
	// LineBytes is the length of the event's line in the log, its "\r\n" or "\n" left
	// out; Parse sets it so that a store can tell whether the text can be read again from
	// the log (FillFromLog), and stores do not keep it.
	LineBytes int
}
