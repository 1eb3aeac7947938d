package ui

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	ingestv1 "github.com/spackmon/spackmon/proto/spackmon/ingest/v1"
)

const (
	// logWindow is how many lines of a log one window shows.
	logWindow = 200
	// logLead is how many lines a window shows before the line it opens at.
	logLead = 40
	// phaseEventsRead bounds the events read to mark a window's error and warning lines.
	phaseEventsRead = 1000
	// lineBytes is the most of one line a page shows: a log may hold lines of many MiB
	// (a dumped binary, minified output), which the raw log keeps whole. Lines are read
	// cut to lineBytes+2 bytes: past lineBytes once a carriage return is dropped means cut.
	lineBytes = 4096
)

type logLine struct {
	No   int64
	Text string
	// Kind is "error" or "warning" for a line an event was found on.
	Kind string
	// Cut is set when Text is the first lineBytes of a longer line.
	Cut bool
}

type phaseData struct {
	Build *ingestv1.Build
	Phase *ingestv1.PhaseSummary
	Lines []logLine
	// From is the number of the first line shown; Prev and Next the first lines of the
	// windows before and after it (0 when there is none).
	From, Prev, Next int64
	Window           int64
	// LineBytes is the most of a line shown.
	LineBytes int64
	// Marks lists the error and warning lines of the phase for the script that loads more.
	ErrorLines, WarningLines string
	// Null is set when there is no log; Pruned when retention dropped it.
	Null, Pruned bool
	// Empty is set for a log of no lines; PastEnd when the log ends before From.
	Empty, PastEnd bool
	// Events are the phase's errors and warnings with the lines around each, shown when
	// there is no log to show them in (CDash and JUnit reports, pruned logs).
	Events []*ingestv1.BuildEvent
	Grep   string
}

func phasePage(r *http.Request, c Clients) (*Page, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	b, err := c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: id})
	if err != nil {
		return nil, err
	}
	name := r.PathValue("name")
	d := phaseData{Build: b, Window: logWindow, LineBytes: lineBytes, Grep: r.URL.Query().Get("q")}
	for _, p := range b.GetPhases() {
		if p.GetName() == name {
			d.Phase = p
		}
	}
	if d.Phase == nil {
		return nil, NotFound("Build %d has no phase %q.", id, name)
	}
	events, kinds, firstError, err := phaseEvents(r, c, id, name)
	if err != nil {
		return nil, err
	}
	d.From, err = windowStart(r, firstError)
	if err != nil {
		return nil, err
	}
	out, err := c.Ingest.GetPhaseOutput(ctx, &ingestv1.GetPhaseOutputRequest{BuildId: id, Name: name, Unit: "lines", Offset: d.From - 1, Limit: logWindow + 1, MaxLineBytes: lineBytes + 2})
	if err != nil {
		return nil, err
	}
	d.Null, d.Pruned = out.GetNull(), out.GetPruned()
	if d.Null || d.Pruned {
		d.Events = events
	}
	lines := splitLines(out.GetData())
	if len(lines) > logWindow {
		lines = lines[:logWindow]
		d.Next = d.From + logWindow
	}
	for i, text := range lines {
		no := d.From + int64(i)
		d.Lines = append(d.Lines, logLine{No: no, Text: text.text, Kind: kinds[no], Cut: text.cut})
	}
	switch {
	case len(lines) == 0 && !d.Null && !d.Pruned:
		// A stale link, or one to a log posted again shorter: no window to step from.
		d.Empty, d.PastEnd = d.From == 1, d.From > 1
	case d.From > 1:
		d.Prev = max(1, d.From-logWindow)
	}
	d.ErrorLines, d.WarningLines = joinLines(kinds, "error"), joinLines(kinds, "warning")
	return &Page{Template: "phase", Title: name + " log of build " + strconv.FormatInt(id, 10), Data: d}, nil
}

// phaseEvents reads a phase's events, maps the lines of its log to the kind of event found
// on them, and finds its first error line (0 when none).
func phaseEvents(r *http.Request, c Clients, id int64, phase string) ([]*ingestv1.BuildEvent, map[int64]string, int64, error) {
	ev, err := c.Ingest.ListBuildEvents(r.Context(), &ingestv1.ListBuildEventsRequest{BuildId: id, PageSize: phaseEventsRead})
	if err != nil {
		return nil, nil, 0, err
	}
	var events []*ingestv1.BuildEvent
	kinds := map[int64]string{}
	var first int64
	for _, e := range ev.GetEvents() {
		if e.GetPhase() != phase {
			continue
		}
		events = append(events, e)
		if kinds[e.GetLineNo()] != "error" {
			kinds[e.GetLineNo()] = e.GetKind()
		}
		if e.GetKind() == "error" && (first == 0 || e.GetLineNo() < first) {
			first = e.GetLineNo()
		}
	}
	return events, kinds, first, nil
}

// windowStart is the first line to show: ?from= as asked, else a few lines before ?line=,
// else before the first error.
func windowStart(r *http.Request, firstError int64) (int64, error) {
	q := r.URL.Query()
	if f := q.Get("from"); f != "" {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 1 {
			return 0, BadRequest("from must be a line number (1 or more), not %q.", f)
		}
		return n, nil
	}
	target := firstError
	if l := q.Get("line"); l != "" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 1 {
			return 0, BadRequest("line must be a line number (1 or more), not %q.", l)
		}
		target = n
	}
	return max(1, target-logLead), nil
}

// splitLines cuts a window of a log into its lines, without their line ends.
func splitLines(data []byte) []pageLine {
	if len(data) == 0 {
		return nil
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	parts := bytes.Split(data, []byte("\n"))
	out := make([]pageLine, len(parts))
	for i, p := range parts {
		p = bytes.TrimSuffix(p, []byte("\r"))
		if len(p) > lineBytes {
			out[i].cut, p = true, p[:lineBytes]
		}
		out[i].text = strings.ToValidUTF8(string(p), "\uFFFD")
	}
	return out
}

// pageLine is a line of a log as a page shows it.
type pageLine struct {
	text string
	cut  bool
}

func joinLines(kinds map[int64]string, kind string) string {
	var nos []string
	for no, k := range kinds {
		if k == kind {
			nos = append(nos, strconv.FormatInt(no, 10))
		}
	}
	return strings.Join(nos, ",")
}

type grepData struct {
	Build *ingestv1.Build
	Phase string
	Text  string
	Lines []*ingestv1.LogLine
	Next  string
}

// grepPage lists the lines of a phase's log that contain a text, found by the service
// over the whole log.
func grepPage(r *http.Request, c Clients) (*Page, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	b, err := c.Ingest.GetBuild(ctx, &ingestv1.GetBuildRequest{Id: id})
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	d := grepData{Build: b, Phase: r.PathValue("name"), Text: q.Get("q")}
	if d.Text == "" {
		return nil, BadRequest("Say what to find in the log (q).")
	}
	resp, err := c.Ingest.GrepPhaseOutput(ctx, &ingestv1.GrepPhaseOutputRequest{BuildId: id, Name: d.Phase, Text: d.Text, PageToken: q.Get("page")})
	if err != nil {
		return nil, err
	}
	d.Lines = resp.GetLines()
	if tok := resp.GetNextPageToken(); tok != "" {
		next := cloneQuery(q)
		next.Set("page", tok)
		d.Next = "?" + next.Encode()
	}
	return &Page{Template: "grep", Title: "Find in the " + d.Phase + " log of build " + strconv.FormatInt(id, 10), Data: d}, nil
}
