package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var contextTests = []namedTest{
	{Name: "ReadFromTheLog", Fn: testContextReadFromLog},
	{Name: "KeptWhenTheLogIsPruned", Fn: testContextKeptWhenPruned},
	{Name: "ConcurrentReads", Fn: testContextConcurrentReads},
}

// contextLog is a log with events near its ends, close together and far apart.
func contextLog() string {
	var b strings.Builder
	b.WriteString("error: at the top\nline 2\n")
	for i := range 40 {
		b.WriteString("  plain line   \n")
		if i%9 == 0 {
			b.WriteString("src/a.c:12: warning: unused variable\n")
		}
	}
	b.WriteString("\nerror: at the end\n")
	return b.String()
}

// putLogPhase stores log as a phase with the events Parse finds in it, marked as found in
// its output, and returns those events as Parse made them.
func putLogPhase(t *testing.T, st store.Store, id int64, log string) []logparse.Event {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	found := logparse.Parse([]byte(log))
	if len(found.Events) < 4 {
		t.Fatalf("the test log has %d events", len(found.Events))
	}
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.PhaseStatusError,
		Output: enc.EncodeAll([]byte(log), nil), OutputBytes: int64(len(log)), Events: found.Events,
		ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings), ContextInOutput: true})
	return found.Events
}

// checkEvents compares a whole listing of a build's events with the events Parse made.
func checkEvents(t *testing.T, st store.Store, id int64, want []logparse.Event, limit int) {
	t.Helper()
	var got []store.PhaseEvent
	for after := (store.EventKey{}); ; {
		page, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, After: after, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < limit {
			break
		}
		after = page[len(page)-1].Key
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d events, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.Event != want[i] || e.ContextInLog {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, e, want[i])
		}
	}
}

// Events found in a phase's log read back with the context Parse gave them, on every page
// of ListEvents and in BuildChanges, although the store keeps it only in the log.
func testContextReadFromLog(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	want := putLogPhase(t, st, id, contextLog())
	checkEvents(t, st, id, want, 100)
	checkEvents(t, st, id, want, 2)

	c, err := st.BuildChanges(ctx(t), id, 0, 10)
	if err != nil || len(c.Phases) != 1 {
		t.Fatalf("BuildChanges = %+v, %v", c, err)
	}
	var errors []logparse.Event
	for _, e := range want {
		if e.Kind == logparse.Error {
			errors = append(errors, e)
		}
	}
	if got := c.Phases[0].Errors; len(got) != len(errors) || got[0] != errors[0] || got[len(got)-1] != errors[len(errors)-1] {
		t.Fatalf("BuildChanges errors:\n got %+v\nwant %+v", got, errors)
	}
}

// Dropping a phase's log keeps the context its events had in it.
func testContextKeptWhenPruned(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	// A quiet phase first: its log holds no event's context, and the one after still must
	// keep its own.
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	const quiet = "checking for gcc... gcc\n"
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: store.StatusSuccess,
		Output: enc.EncodeAll([]byte(quiet), nil), OutputBytes: int64(len(quiet)), ContextInOutput: true})
	want := putLogPhase(t, st, id, contextLog())
	pruned, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)})
	if err != nil || len(pruned) != 2 {
		t.Fatalf("PruneLogs = %+v, %v", pruned, err)
	}
	if out, err := st.PhaseOutput(ctx(t), id, "build"); err != nil || !out.Pruned {
		t.Fatalf("the log was not dropped: %+v, %v", out, err)
	}
	checkEvents(t, st, id, want, 100)
}

// Readers listing events at once each get the whole context: they share the decoders.
func testContextConcurrentReads(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	want := putLogPhase(t, st, id, contextLog())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100})
				if err != nil {
					t.Error(err)
					return
				}
				for i, e := range events {
					if e.Event != want[i] {
						t.Errorf("event %d: got %+v, want %+v", i, e.Event, want[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
