package storetest

import (
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var watchTests = []namedTest{
	{Name: "RevisionsGrowWithEveryChange", Fn: testRevisions},
	{Name: "ChangesAfterARevision", Fn: testChangesAfter},
	{Name: "UnknownBuild", Fn: testChangesUnknownBuild},
}

func buildChanges(t *testing.T, st store.Store, id, after int64, limit int) store.BuildChanges {
	t.Helper()
	c, err := st.BuildChanges(ctx(t), id, after, limit, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Each phase stored and each status change takes the build's next revision; a status set
// to what it is already is no change.
func testRevisions(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	if c := buildChanges(t, st, id, 0, 10); c.Revision != 0 || c.Status != store.StatusNotRun || len(c.Phases) != 0 {
		t.Fatalf("a new build: %+v", c)
	}
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "SUCCESS", Output: []byte("z"), OutputBytes: 1})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: "ERROR", Output: []byte("z"), OutputBytes: 9,
		Events: []logparse.Event{event(logparse.Error, 7, "e7"), event(logparse.Warning, 3, "w3"), event(logparse.Error, 2, "e2")}})
	if _, err := st.UpdateBuildStatus(ctx(t), alice, id, store.StatusFailed); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateBuildStatus(ctx(t), alice, id, store.StatusFailed); err != nil {
		t.Fatal(err)
	}
	c := buildChanges(t, st, id, 0, 10)
	if len(c.Phases) != 2 || c.Phases[0].Name != "configure" || c.Phases[1].Name != "build" {
		t.Fatalf("phases: %+v", c.Phases)
	}
	p1, p2 := c.Phases[0], c.Phases[1]
	if !(0 < p1.Revision && p1.Revision < p2.Revision && p2.Revision < c.StatusRevision && c.StatusRevision == c.Revision) ||
		c.Status != store.StatusFailed {
		t.Errorf("revisions: configure %d, build %d, status %d, build %d (%s)", p1.Revision, p2.Revision, c.StatusRevision, c.Revision, c.Status)
	}
	if p2.Status != "ERROR" || p2.OutputBytes != 9 || p2.ErrorCount != 2 || p2.WarningCount != 1 ||
		len(p2.Errors) != 2 || p2.Errors[0].Text != "e2" || p2.Errors[1].Text != "e7" {
		t.Errorf("build phase: %+v", p2)
	}
	// Stored again, a phase moves to a new revision: it is now the latest change.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "configure", Status: "ERROR", Output: []byte("z"), OutputBytes: 2})
	again := buildChanges(t, st, id, c.Revision, 10)
	if len(again.Phases) != 1 || again.Phases[0].Name != "configure" || again.Phases[0].Revision <= c.Revision ||
		again.Revision != again.Phases[0].Revision || again.StatusRevision != c.StatusRevision {
		t.Errorf("after storing configure again: %+v", again)
	}
}

// Changes after a revision are the phases stored after it, oldest first, at most limit.
func testChangesAfter(t *testing.T, st store.Store) {
	id := buildFor(t, st, "alice")
	for _, name := range []string{"a", "b", "c", "d"} {
		updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: name, Status: "SUCCESS", OutputNull: true})
	}
	all := buildChanges(t, st, id, 0, 10)
	page := buildChanges(t, st, id, all.Phases[0].Revision, 2)
	if len(page.Phases) != 2 || page.Phases[0].Name != "b" || page.Phases[1].Name != "c" {
		t.Errorf("two after a: %+v", page.Phases)
	}
	if rest := buildChanges(t, st, id, page.Phases[1].Revision, 2); len(rest.Phases) != 1 || rest.Phases[0].Name != "d" {
		t.Errorf("after c: %+v", rest.Phases)
	}
	if none := buildChanges(t, st, id, all.Revision, 2); len(none.Phases) != 0 || none.Revision != all.Revision {
		t.Errorf("after the latest: %+v", none)
	}
}

func testChangesUnknownBuild(t *testing.T, st store.Store) {
	if _, err := st.BuildChanges(ctx(t), 4242, 0, 10, nil); !errs.Is(err, errs.NotFound) {
		t.Errorf("BuildChanges of an unknown build: %v", err)
	}
}
