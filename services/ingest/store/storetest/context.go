package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/fixtures"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var contextTests = []namedTest{
	{Name: "ReadFromTheLog", Fn: testContextReadFromLog},
	{Name: "KeptWhenTheLogIsPruned", Fn: testContextKeptWhenPruned},
	{Name: "ConcurrentReads", Fn: testContextConcurrentReads},
	{Name: "LogHeldWhileRead", Fn: testContextLogHeld},
	{Name: "RealLog", Fn: testContextRealLog},
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

// PutLogPhase stores log as a phase with the events Parse finds in it, marked as found in
// its output, and returns those events as Parse made them, but for the line lengths no
// store keeps.
func PutLogPhase(t *testing.T, st store.Store, id int64, log string) []logparse.Event {
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
	for i := range found.Events {
		found.Events[i].LineBytes = 0
	}
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
		if e.Event != want[i] || e.ContextInLog || e.TextInLog {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, e, want[i])
		}
	}
}

// Events found in a phase's log read back with the context Parse gave them, on every page
// of ListEvents and in BuildChanges, although the store keeps it only in the log.
func testContextReadFromLog(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	want := PutLogPhase(t, st, id, contextLog())
	checkEvents(t, st, id, want, 100)
	checkEvents(t, st, id, want, 2)

	c, err := st.BuildChanges(ctx(t), id, 0, 10, nil)
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

// A real configure log of a Spack build (testdata/dummy-tar-spack) reads back its events
// as Parse found them, those whose text stays in the log (it repeats errors) among them.
func testContextRealLog(t *testing.T, st store.Store) {
	log := string(fixtures.Read(t, "dummy-tar-spack", "config.log"))
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	want := PutLogPhase(t, st, id, log)
	if textInLog(want) == 0 {
		t.Fatal("no event of the log repeats a fingerprint")
	}
	checkEvents(t, st, id, want, 100)
	checkEvents(t, st, id, want, 7)
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
	want := PutLogPhase(t, st, id, contextLog())
	pruned, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)})
	if err != nil || len(pruned) != 2 {
		t.Fatalf("PruneLogs = %+v, %v", pruned, err)
	}
	if out, err := st.PhaseOutput(ctx(t), id, "build"); err != nil || !out.Pruned {
		t.Fatalf("the log was not dropped: %+v, %v", out, err)
	}
	if size, err := st.PhaseOutputSize(ctx(t), id, "build"); err != nil || !size.Null || !size.Pruned || size.Compressed != 0 {
		t.Fatalf("PhaseOutputSize of the dropped log = %+v, %v", size, err)
	}
	checkEvents(t, st, id, want, 100)
}

// Readers listing events at once each get the whole context: they share the decoders.
func testContextConcurrentReads(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	want := PutLogPhase(t, st, id, contextLog())
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

// RepeatedEventText checks on st that an event found in a log whose fingerprint an earlier
// event of its phase has keeps no copy of its text when its line is short enough to read
// again whole, and that every read still answers with the text: ListEvents, the build's
// fingerprint examples, and ListEvents after the log is pruned. textless counts the events
// st stores without their text.
func RepeatedEventText(t *testing.T, st store.Store, textless func() (int, error)) {
	id, want := PutRepeatedLog(t, st)
	repeats := textInLog(want)
	if n, err := textless(); err != nil || n != repeats || repeats != 6 {
		t.Fatalf("%d events stored without their text (%v), want %d of 6", n, err, repeats)
	}
	checkEvents(t, st, id, want, 100)
	checkEvents(t, st, id, want, 3)
	for _, p := range buildPrints(t, st, id) {
		first := slices.IndexFunc(want, func(e logparse.Event) bool { return fingerprint.Of(e.Kind, e.Text).Hash == p.Hash })
		if first < 0 || p.Example.Text != want[first].Text || p.Example.LineNo != int64(want[first].LineNo) {
			t.Errorf("fingerprint %s: example %+v, want line %d", p.Hash, p.Example, want[first].LineNo)
		}
	}

	if _, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := textless(); err != nil || n != 0 {
		t.Fatalf("%d events without their text (%v) once the log is dropped", n, err)
	}
	checkEvents(t, st, id, want, 100)
}

// textInLog counts the events a store keeps without their text: those whose fingerprint an
// earlier one has, on a line short enough (as a read gives events, by their text's length).
func textInLog(events []logparse.Event) int {
	n := 0
	seen := map[string]bool{}
	for _, e := range events {
		hash := fingerprint.Of(e.Kind, e.Text).Hash
		if seen[hash] && len(e.Text) < logparse.MaxTextBytes {
			n++
		}
		seen[hash] = true
	}
	return n
}

// PutRepeatedLog stores a build with a phase whose log repeats a warning's fingerprint on
// six short lines, a long line's twice and an error's twice, and returns the build's id and
// the events as a read gives them.
func PutRepeatedLog(t *testing.T, st store.Store) (int64, []logparse.Event) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	long := "src/b.c:3: warning: " + strings.Repeat("w", logparse.MaxTextBytes)
	var b strings.Builder
	for i := range 6 {
		// The line numbers differ, and the fingerprint leaves them out.
		fmt.Fprintf(&b, "src/a.c:%d:5: warning: unused variable 'x' [-Wunused-variable]\nplain\n", 10+i)
		if i%3 == 0 {
			b.WriteString(long + "\n")
		}
	}
	b.WriteString("error: the end\nerror: the end\n")
	return id, PutLogPhase(t, st, id, b.String())
}

// CheckDowngradedText checks the texts of the events of PutRepeatedLog's phase, want, as
// read in line order after the schema went back to before events kept their text in the
// log: each has a text, of its own event's fingerprint.
func CheckDowngradedText(t *testing.T, want []logparse.Event, texts []string) {
	t.Helper()
	if len(texts) != len(want) {
		t.Fatalf("%d events after the downgrade, want %d", len(texts), len(want))
	}
	for i, e := range want {
		if texts[i] == "" || fingerprint.Of(e.Kind, texts[i]) != fingerprint.Of(e.Kind, e.Text) {
			t.Errorf("event %d: text %q after the downgrade, want one like %q", i, texts[i], e.Text)
		}
	}
}

// A read of events whose context is in the log asks the caller's hold for the log's stored
// and whole sizes before reading it, once a phase, and gives it back; a hold refused ends
// the read with the hold's error; events without context in a log need no hold.
func testContextLogHeld(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	log := contextLog()
	want := PutLogPhase(t, st, id, log)
	stored, err := st.PhaseOutputSize(ctx(t), id, "build")
	if err != nil {
		t.Fatal(err)
	}
	var held []store.OutputSize
	released := 0
	hold := func(_ context.Context, size store.OutputSize) (func(), error) {
		held = append(held, size)
		return func() { released++ }, nil
	}
	got, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100, Hold: hold})
	if err != nil || len(got) != len(want) || got[0].Event != want[0] {
		t.Fatalf("ListEvents = %d events, %v", len(got), err)
	}
	if c, err := st.BuildChanges(ctx(t), id, 0, 10, hold); err != nil || len(c.Phases) != 1 {
		t.Fatalf("BuildChanges = %+v, %v", c, err)
	}
	if len(held) != 2 || released != 2 {
		t.Fatalf("held %d times, released %d; want a hold and a release for each read", len(held), released)
	}
	for _, size := range held {
		if size.Compressed != stored.Compressed || size.Bytes != int64(len(log)) {
			t.Errorf("held %+v for a log stored in %d bytes of %d", size, stored.Compressed, len(log))
		}
	}

	refused := errs.New(errs.Unavailable, "no room")
	deny := func(context.Context, store.OutputSize) (func(), error) { return nil, refused }
	if _, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100, Hold: deny}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("ListEvents with the hold refused: %v, want Unavailable", err)
	}
	if _, err := st.BuildChanges(ctx(t), id, 0, 10, deny); !errs.Is(err, errs.Unavailable) {
		t.Errorf("BuildChanges with the hold refused: %v, want Unavailable", err)
	}

	// Once the log is pruned the events keep their context in their rows.
	if _, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100, Hold: deny}); err != nil || len(got) != len(want) {
		t.Errorf("ListEvents of a pruned log with the hold refused = %d events, %v", len(got), err)
	}
}

// HoldWithoutConnection checks that a read of events takes its hold before it holds a
// connection of the store's, inUse counting those in use: a read waiting for the budget
// would otherwise keep one from the reads and writes that would free it.
func HoldWithoutConnection(t *testing.T, st store.Store, inUse func() int) {
	id, _ := PutRepeatedLog(t, st)
	held := 0
	hold := func(context.Context, store.OutputSize) (func(), error) {
		if n := inUse(); n != 0 {
			t.Errorf("%d connections in use while the read waits for its hold", n)
		}
		held++
		return func() {}, nil
	}
	if _, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100, Hold: hold}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.BuildChanges(ctx(t), id, 0, 10, hold); err != nil {
		t.Fatal(err)
	}
	if held != 2 {
		t.Errorf("held %d times, want 2", held)
	}
}
