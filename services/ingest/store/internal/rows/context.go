package rows

import (
	"bytes"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// StoredContext is p's events as the store writes them: events found in p's log keep no
// copy of their context, which is read from the log again (FillContext).
func StoredContext(p store.PhaseUpdate) []logparse.Event {
	if !p.ContextInOutput {
		return p.Events
	}
	events := make([]logparse.Event, len(p.Events))
	for i, e := range p.Events {
		e.PreContext, e.PostContext = "", ""
		events[i] = e
	}
	return events
}

// WithContext fills in the context of events, all of one phase, that is kept in the
// phase's log, which load reads (nil when the phase no longer has the event whose id it is
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

// FillContext reads the context of the events marked ContextInLog, all of one phase, from
// that phase's compressed log, decompressing it only as far as the last line needed, and
// clears the mark. A log no longer held (nil) leaves their context empty.
func FillContext(events []store.PhaseEvent, compressed []byte) error {
	var marked []*logparse.Event
	for i := range events {
		if events[i].ContextInLog {
			marked = append(marked, &events[i].Event)
			events[i].ContextInLog = false
		}
	}
	if len(marked) == 0 || compressed == nil {
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
	return logparse.FillFromLog(zr, marked, nil)
}

// decoders keeps streaming decoders between reads: a new one allocates its buffers anew.
var decoders sync.Pool

// ContextRow is an event's context as a store writes it back before dropping its log.
type ContextRow struct {
	ID   int64  `json:"id"`
	Pre  string `json:"pre"`
	Post string `json:"post"`
}

// ContextRows are the context rows of events.
func ContextRows(events []store.PhaseEvent) []ContextRow {
	out := make([]ContextRow, len(events))
	for i, e := range events {
		out[i] = ContextRow{e.Key.ID, e.PreContext, e.PostContext}
	}
	return out
}
