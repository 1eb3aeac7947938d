package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var phaseTests = []namedTest{
	{Name: "ReplaceOutputAndEvents", Fn: testPhaseReplace},
	{Name: "TotalsBeyondKeptEvents", Fn: testPhaseTotals},
	{Name: "OutputNullEmptyBytes", Fn: testPhaseOutputKinds},
	{Name: "EventsInPhaseThenLineOrder", Fn: testEventOrder},
	{Name: "EventsPaged", Fn: testEventPages},
	{Name: "Ownership", Fn: testPhaseOwnership},
	{Name: "NotFound", Fn: testPhaseNotFound},
	{Name: "BumpsBuildUpdatedAt", Fn: testPhaseBumpsBuild},
}

func updatePhase(t testing.TB, st store.Store, who store.Actor, p store.PhaseUpdate) store.Phase {
	t.Helper()
	ph, err := st.UpdatePhase(ctx(t), who, p)
	if err != nil {
		t.Fatalf("UpdatePhase(%s): %v", p.Name, err)
	}
	return ph
}

func event(kind logparse.Kind, line int, text string) logparse.Event {
	return logparse.Event{Kind: kind, LineNo: line, Text: text, SourceFile: "main.c", SourceLine: line * 10,
		PreContext: fmt.Sprintf("before %d", line), PostContext: fmt.Sprintf("after %d\nand more", line),
		Start: max(1, line-6), End: line + 7}
}

func buildFor(t testing.TB, st store.Store, owner string) int64 {
	t.Helper()
	putSpec(t, st, diamond(""))
	return newBuild(t, st, "root-fh", env1, owner).Build.ID
}

func testPhaseReplace(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	first := updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR",
		Output: []byte("zstd-bytes-1"), OutputBytes: 100,
		Events: []logparse.Event{event(logparse.Error, 5, "e5"), event(logparse.Warning, 3, "w3"), event(logparse.Error, 9, "e9")}})
	if first.ID == 0 || first.Name != "build" || first.Status != "ERROR" {
		t.Fatalf("phase = %+v", first)
	}
	assertPhaseInfo(t, getBuild(t, st, id), store.PhaseInfo{Name: "build", Status: "ERROR", OutputBytes: 100,
		ErrorCount: 2, WarningCount: 1, ErrorsTotal: 2, WarningsTotal: 1})
	events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Text != "w3" || events[1].Text != "e5" || events[2].Text != "e9" {
		t.Fatalf("events = %+v", events)
	}
	want := store.PhaseEvent{Phase: "build", Event: event(logparse.Warning, 3, "w3")}
	if got := events[0]; got.Key.PhaseID != first.ID || got.Key.LineNo != 3 || got.Key.ID == 0 {
		t.Fatalf("event key = %+v, phase %d", got.Key, first.ID)
	}
	if events[0].Key = (store.EventKey{}); events[0] != want {
		t.Fatalf("event = %+v, want %+v", events[0], want)
	}
	errorsOnly, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Kind: logparse.Error})
	if err != nil || len(errorsOnly) != 2 {
		t.Fatalf("errors = %+v, %v", errorsOnly, err)
	}

	second := updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "SUCCESS",
		Output: []byte("zstd-bytes-2"), OutputBytes: 50, Events: []logparse.Event{event(logparse.Warning, 1, "only")}})
	if second.ID != first.ID || second.Status != "SUCCESS" {
		t.Fatalf("replaced phase = %+v, first %+v", second, first)
	}
	assertPhaseInfo(t, getBuild(t, st, id), store.PhaseInfo{Name: "build", Status: "SUCCESS", OutputBytes: 50,
		ErrorCount: 0, WarningCount: 1, WarningsTotal: 1})
	events, err = st.ListEvents(ctx(t), store.EventQuery{BuildID: id})
	if err != nil || len(events) != 1 || events[0].Text != "only" {
		t.Fatalf("events after replace = %+v, %v", events, err)
	}
	out, err := st.PhaseOutput(ctx(t), id, "build")
	if err != nil || !bytes.Equal(out.Compressed, []byte("zstd-bytes-2")) || out.Null || out.Bytes != 50 {
		t.Fatalf("output = %+v, %v", out, err)
	}

	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "SUCCESS", OutputNull: true})
	if events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id}); err != nil || len(events) != 0 {
		t.Fatalf("events after a phase without them = %+v, %v", events, err)
	}
	assertPhaseInfo(t, getBuild(t, st, id), store.PhaseInfo{Name: "build", Status: "SUCCESS"})
}

// A phase keeps the totals of a log whose events were capped, listed with the build, and
// replaced with the output.
func testPhaseTotals(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR", Output: []byte("z"),
		OutputBytes: 1 << 30, ErrorsTotal: 3_000_000_000, WarningsTotal: 7,
		Events: []logparse.Event{event(logparse.Error, 1, "e1"), event(logparse.Warning, 2, "w2")}})
	want := store.PhaseInfo{Name: "build", Status: "ERROR", OutputBytes: 1 << 30,
		ErrorCount: 1, WarningCount: 1, ErrorsTotal: 3_000_000_000, WarningsTotal: 7}
	assertPhaseInfo(t, getBuild(t, st, id), want)
	builds, err := st.ListBuilds(ctx(t), store.BuildQuery{Owner: "alice"})
	if err != nil || len(builds) != 1 {
		t.Fatalf("ListBuilds = %+v, %v", builds, err)
	}
	assertPhaseInfo(t, builds[0], want)

	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "SUCCESS", Output: []byte("z")})
	assertPhaseInfo(t, getBuild(t, st, id), store.PhaseInfo{Name: "build", Status: "SUCCESS"})
}

func assertPhaseInfo(t testing.TB, b store.Build, want ...store.PhaseInfo) {
	t.Helper()
	if len(b.Phases) != len(want) {
		t.Fatalf("phases = %+v, want %+v", b.Phases, want)
	}
	for i := range want {
		if b.Phases[i] != want[i] {
			t.Fatalf("phase %d = %+v, want %+v", i, b.Phases[i], want[i])
		}
	}
}

func testPhaseOutputKinds(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	blob := bytes.Repeat([]byte{0, 1, 2, 255}, 100000)
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "null", Status: "SUCCESS", OutputNull: true})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "empty", Status: "SUCCESS", Output: []byte{}})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "nil-not-null", Status: "SUCCESS"})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "blob", Status: "SUCCESS", Output: blob, OutputBytes: 1 << 20})
	for name, want := range map[string]store.PhaseOutput{
		"null":         {Null: true},
		"empty":        {Compressed: []byte{}},
		"nil-not-null": {Compressed: []byte{}},
		"blob":         {Compressed: blob, Bytes: 1 << 20},
	} {
		got, err := st.PhaseOutput(ctx(t), id, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Null != want.Null || got.Bytes != want.Bytes || !bytes.Equal(got.Compressed, want.Compressed) ||
			(want.Null != (got.Compressed == nil)) {
			t.Fatalf("%s: null %v, %d bytes, %d stored; want null %v, %d, %d", name,
				got.Null, got.Bytes, len(got.Compressed), want.Null, want.Bytes, len(want.Compressed))
		}
		wantSize := store.OutputSize{Compressed: int64(len(want.Compressed)), Bytes: want.Bytes, Null: want.Null}
		if size, err := st.PhaseOutputSize(ctx(t), id, name); err != nil || size != wantSize {
			t.Fatalf("%s: PhaseOutputSize = %+v, %v; want %+v", name, size, err, wantSize)
		}
	}
	// Unknown phases and builds are refused as PhaseOutput refuses them.
	for _, c := range []struct {
		build int64
		phase string
	}{{id, "none"}, {id + 1000, "blob"}} {
		_, want := st.PhaseOutput(ctx(t), c.build, c.phase)
		if _, err := st.PhaseOutputSize(ctx(t), c.build, c.phase); !errs.Is(err, errs.NotFound) || err.Error() != want.Error() {
			t.Fatalf("PhaseOutputSize(%d, %q) = %v, want %v", c.build, c.phase, err, want)
		}
	}
	// Null replaced by a log, and back.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "null", Status: "SUCCESS", Output: []byte("log")})
	if got, _ := st.PhaseOutput(ctx(t), id, "null"); got.Null || string(got.Compressed) != "log" {
		t.Fatalf("null then log: %+v", got)
	}
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "null", Status: "SUCCESS", OutputNull: true})
	if got, _ := st.PhaseOutput(ctx(t), id, "null"); !got.Null || got.Compressed != nil {
		t.Fatalf("log then null: %+v", got)
	}
}

func testEventOrder(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "SUCCESS",
		Events: []logparse.Event{event(logparse.Warning, 20, "c20"), event(logparse.Error, 2, "c2")}})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR",
		Events: []logparse.Event{event(logparse.Error, 1, "b1")}})
	// Replacing configure keeps its place: phases are ordered by first report.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "SUCCESS",
		Events: []logparse.Event{event(logparse.Warning, 30, "c30"), event(logparse.Error, 4, "c4")}})
	events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Phase+":"+e.Text)
	}
	want := []string{"configure:c4", "configure:c30", "build:b1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	b := getBuild(t, st, id)
	if len(b.Phases) != 2 || b.Phases[0].Name != "configure" || b.Phases[1].Name != "build" {
		t.Fatalf("phases = %+v", b.Phases)
	}
}

func testPhaseOwnership(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "SUCCESS", Output: []byte("mine"),
		Events: []logparse.Event{event(logparse.Error, 1, "e")}})
	_, err := st.UpdatePhase(ctx(t), bob, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR", Output: []byte("bob's")})
	if !errs.Is(err, errs.NotOwner) || err.Error() != "You do not own the build and cannot update it." {
		t.Fatalf("bob: %v, want NotOwner", err)
	}
	_, err = st.UpdatePhase(ctx(t), bob, store.PhaseUpdate{BuildID: id, Name: "install", Status: "ERROR"})
	if !errs.Is(err, errs.NotOwner) {
		t.Fatalf("bob's new phase: %v, want NotOwner", err)
	}
	b := getBuild(t, st, id)
	assertPhaseInfo(t, b, store.PhaseInfo{Name: "build", Status: "SUCCESS", ErrorCount: 1, ErrorsTotal: 1})
	if out, _ := st.PhaseOutput(ctx(t), id, "build"); string(out.Compressed) != "mine" {
		t.Fatalf("output after a refused update = %q", out.Compressed)
	}
	if events, _ := st.ListEvents(ctx(t), store.EventQuery{BuildID: id}); len(events) != 1 {
		t.Fatalf("events after a refused update = %+v", events)
	}
	if ph := updatePhase(t, st, admin, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR"}); ph.Status != "ERROR" {
		t.Fatalf("admin's update = %+v", ph)
	}
}

func testPhaseNotFound(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	if _, err := st.UpdatePhase(ctx(t), alice, store.PhaseUpdate{BuildID: 987654, Name: "build", Status: "SUCCESS"}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("UpdatePhase(unknown build) = %v, want NotFound", err)
	}
	if _, err := st.PhaseOutput(ctx(t), 987654, "build"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("PhaseOutput(unknown build) = %v, want NotFound", err)
	}
	if _, err := st.PhaseOutput(ctx(t), id, "nope"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("PhaseOutput(unknown phase) = %v, want NotFound", err)
	}
	if _, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: 987654}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("ListEvents(unknown build) = %v, want NotFound", err)
	}
	if events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id}); err != nil || len(events) != 0 {
		t.Fatalf("ListEvents(build without phases) = %+v, %v", events, err)
	}
}

func testPhaseBumpsBuild(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	before := getBuild(t, st, id)
	time.Sleep(2 * time.Millisecond)
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "SUCCESS"})
	after := getBuild(t, st, id)
	if !after.UpdatedAt.After(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Fatalf("updated_at %v -> %v", before.UpdatedAt, after.UpdatedAt)
	}
}

// Pages of events, each continuing after the last event of the one before, go through
// every event once, in the order of one whole listing: across phases, across events of
// one line, with and without a kind.
func testEventPages(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	var configure []logparse.Event
	for i := range 7 {
		configure = append(configure, event(logparse.Error, 7-i, fmt.Sprint("c", 7-i)), event(logparse.Warning, 7-i, fmt.Sprint("cw", 7-i)))
	}
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "SUCCESS", Events: configure})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "empty", Status: "SUCCESS"})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR",
		Events: []logparse.Event{event(logparse.Error, 1, "b1"), event(logparse.Warning, 1, "bw1"), event(logparse.Error, 2, "b2")}})
	// Replacing configure gives its events new ids, but it keeps its place.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "SUCCESS", Events: configure})

	for _, kind := range []logparse.Kind{"", logparse.Error, logparse.Warning} {
		all, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[logparse.Kind]int{"": 17, logparse.Error: 9, logparse.Warning: 8}[kind]; len(all) != want {
			t.Fatalf("kind %q: %d events, want %d", kind, len(all), want)
		}
		for _, size := range []int{1, 2, 3, 5, 16, 17} {
			var paged []store.PhaseEvent
			after := store.EventKey{}
			for range 20 {
				page, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Kind: kind, After: after, Limit: size})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > size {
					t.Fatalf("kind %q, size %d: a page of %d", kind, size, len(page))
				}
				paged = append(paged, page...)
				if len(page) < size {
					break
				}
				after = page[len(page)-1].Key
			}
			if fmt.Sprint(paged) != fmt.Sprint(all) {
				t.Fatalf("kind %q, pages of %d:\n%v\nwant\n%v", kind, size, paged, all)
			}
		}
	}
	all, _ := st.ListEvents(ctx(t), store.EventQuery{BuildID: id})
	var got []string
	for _, e := range all {
		got = append(got, e.Text)
	}
	want := "[c1 cw1 c2 cw2 c3 cw3 c4 cw4 c5 cw5 c6 cw6 c7 cw7 b1 bw1 b2]"
	if fmt.Sprint(got) != want {
		t.Fatalf("events = %v, want %v", got, want)
	}
	// After the last event: an empty page, not an error.
	if page, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, After: all[len(all)-1].Key}); err != nil || len(page) != 0 {
		t.Fatalf("after the last event: %+v, %v", page, err)
	}
	if _, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: 987654, After: all[0].Key}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("ListEvents(unknown build, after) = %v, want NotFound", err)
	}
}
