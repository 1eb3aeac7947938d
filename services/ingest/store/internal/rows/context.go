package rows

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// StoredEvents is p's events as the store writes them, hashes being their fingerprints'
// hashes, and which of them keep their text in p's log alone. Events found in p's log keep
// no copy of their context, which is read from the log again (FillContext). Nor does an
// event keep its text when an earlier event of the phase has its fingerprint and its line
// is short enough to be read again whole: a log's repeated warnings would otherwise be most
// of its events' bytes. The first event of each fingerprint in a phase keeps its text, and
// failure lists take their examples only from events that keep theirs.
func StoredEvents(p store.PhaseUpdate, hashes []string) (events []logparse.Event, textInLog []bool) {
	textInLog = make([]bool, len(p.Events))
	if !p.ContextInOutput {
		return p.Events, textInLog
	}
	events = make([]logparse.Event, len(p.Events))
	seen := make(map[string]bool, len(p.Events))
	for i, e := range p.Events {
		e.PreContext, e.PostContext = "", ""
		// LineBytes 0 is an event not found by Parse: its text may not be its line's.
		if seen[hashes[i]] && 0 < e.LineBytes && e.LineBytes <= logparse.MaxTextBytes {
			e.Text, textInLog[i] = "", true
		}
		seen[hashes[i]] = true
		events[i] = e
	}
	return events, textInLog
}

// WithContext fills in the context and text of events, all of one phase, that are kept in
// the phase's log, which load reads (nil when the phase no longer has the event whose id it is
// given, so that context is never read from a log that replaced the one the events were
// found in). Events without such context cost no read.
func WithContext(events []store.PhaseEvent, load func(eventID int64) ([]byte, error)) ([]store.PhaseEvent, error) {
	if !slices.ContainsFunc(events, func(e store.PhaseEvent) bool { return e.ContextInLog }) {
		return events, nil
	}
	compressed, err := load(events[0].Key.ID)
	if err != nil {
		return nil, err
	}
	return events, FillContext(events, compressed)
}

// HoldLog calls hold for a phase's log before its events are read, with the size scanSize
// reads (noRows, the driver's error for no row, when the phase has no event whose context
// is in its log, which needs no hold). It runs before the read's snapshot is opened, so that
// a read waiting for the budget holds no connection: a log replaced between the two is held
// at its old size, an overrun of one log at most. The release it answers with no error is
// never nil.
func HoldLog(ctx context.Context, hold store.LogHold, noRows error, scanSize func(*store.OutputSize) error) (release func(), err error) {
	if hold == nil {
		return func() {}, nil
	}
	var size store.OutputSize
	if err := scanSize(&size); errors.Is(err, noRows) {
		return func() {}, nil
	} else if err != nil {
		return nil, err
	}
	return hold(ctx, size)
}

// FillContext reads the context of the events marked ContextInLog, and the text of those
// marked TextInLog, all of one phase, from that phase's compressed log, decompressing it
// only as far as the last line needed, and clears the marks. A log no longer held (nil)
// leaves them empty.
func FillContext(events []store.PhaseEvent, compressed []byte) error {
	var context, text []*logparse.Event
	for i := range events {
		if events[i].ContextInLog {
			context = append(context, &events[i].Event)
		}
		if events[i].TextInLog {
			text = append(text, &events[i].Event)
		}
		events[i].ContextInLog, events[i].TextInLog = false, false
	}
	if len(context)+len(text) == 0 || compressed == nil {
		return nil
	}
	zr, ok := decoders.Get().(*zstd.Decoder)
	if !ok {
		var err error
		// One goroutine-free decoder each: a pooled decoder left for the collector holds
		// nothing else.
		if zr, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1)); err != nil {
			return err
		}
	}
	defer decoders.Put(zr)
	if err := zr.Reset(bytes.NewReader(compressed)); err != nil {
		return err
	}
	return logparse.FillFromLog(zr, context, text)
}

// decoders keeps streaming decoders between reads: a new one allocates its buffers anew.
var decoders sync.Pool

// ContextRow is an event's text and context as a store writes them back before dropping
// its log.
type ContextRow struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	Pre  string `json:"pre"`
	Post string `json:"post"`
}

// ContextRows are the context rows of events.
func ContextRows(events []store.PhaseEvent) []ContextRow {
	out := make([]ContextRow, len(events))
	for i, e := range events {
		out[i] = ContextRow{e.Key.ID, e.Text, e.PreContext, e.PostContext}
	}
	return out
}
