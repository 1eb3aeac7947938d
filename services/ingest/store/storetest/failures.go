package storetest

import (
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var failureTests = []namedTest{
	{Name: "FingerprintsAtIngest", Fn: testFingerprintsAtIngest},
	{Name: "FailureList", Fn: testFailureList},
	{Name: "Reference", Fn: testReference},
	{Name: "KnownCauses", Fn: testKnownCauses},
	{Name: "NotFound", Fn: testFailuresNotFound},
}

// The failures of the builds of failingBuilds, as two machines log them.
const (
	ompAlice = "/tmp/alice/spack-stage/spack-stage-root-1.0-abcdefghijklmnopqrstuvwxyz234567/spack-src/a.c:12: undefined reference to `omp_get_thread_num'"
	ompBob   = "/var/tmp/bob/spack-stage/spack-stage-root-1.0-zyxwvutsrqponmlkjihgfedcba765432/spack-src/a.c:31: undefined reference to `omp_get_thread_num'"
	collect2 = "collect2: error: ld returned 1 exit status"
	newError = "b.c:3:4: error: 'x' undeclared (first use in this function)"
	unused   = "a.c:1:2: warning: unused variable 'i'"
)

// failingBuilds makes three builds of alice: root on host1 (omp, collect2 and a warning),
// root on host2 (omp, newError), and left on host1 (omp); the first has tag ci.
func failingBuilds(t *testing.T, st store.Store) (b1, b2, b3 int64) {
	putSpec(t, st, diamond(""))
	b1 = newBuild(t, st, "root-fh", env1, "alice", "ci").Build.ID
	b2 = newBuild(t, st, "root-fh", env2, "alice").Build.ID
	b3 = newBuild(t, st, "left-fh", env1, "alice").Build.ID
	phase := func(id int64, events ...logparse.Event) {
		updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.PhaseStatusError, Events: events})
	}
	phase(b1, event(logparse.Warning, 2, unused), event(logparse.Error, 5, ompAlice), event(logparse.Error, 6, collect2))
	phase(b2, event(logparse.Error, 7, ompBob), event(logparse.Error, 9, newError), event(logparse.Error, 11, ompBob))
	phase(b3, event(logparse.Error, 1, ompAlice))
	return b1, b2, b3
}

func buildPrints(t *testing.T, st store.Store, id int64) []store.BuildFingerprint {
	t.Helper()
	list, err := st.BuildFingerprints(ctx(t), id, true)
	if err != nil {
		t.Fatalf("BuildFingerprints(%d): %v", id, err)
	}
	return list
}

func testFingerprintsAtIngest(t *testing.T, st store.Store) {
	b1, b2, _ := failingBuilds(t, st)
	omp := fingerprint.Of(logparse.Error, ompAlice)
	if fingerprint.Of(logparse.Error, ompBob) != omp {
		t.Fatalf("the two omp lines differ: %+v", omp)
	}
	got := buildPrints(t, st, b2)
	if len(got) != 2 || got[0].Hash != omp.Hash || got[0].Events != 2 || got[0].OtherBuilds != 2 ||
		got[0].Class != fingerprint.UndefinedSymbol || got[0].Example.LineNo != 7 || got[0].Example.Text != ompBob ||
		got[0].Example.Phase != "build" || got[0].Example.BuildID != b2 {
		t.Fatalf("fingerprints of build 2 = %+v", got)
	}
	if got[1].Hash != fingerprint.Of(logparse.Error, newError).Hash || got[1].OtherBuilds != 0 || got[1].Normal != "b.c:<n>: error: 'x' undeclared (first use in this function)" {
		t.Errorf("second fingerprint of build 2 = %+v", got[1])
	}
	if bare, err := st.BuildFingerprints(ctx(t), b2, false); err != nil || len(bare) != 2 || bare[0].Hash != omp.Hash || bare[0].OtherBuilds != 0 {
		t.Errorf("fingerprints of build 2 without the counts = %+v, %v", bare, err)
	}
	// Errors come first, then warnings, each in log order.
	first := buildPrints(t, st, b1)
	if len(first) != 3 || first[0].Hash != omp.Hash || first[1].Normal != collect2 || first[2].Kind != logparse.Warning {
		t.Errorf("fingerprints of build 1 = %+v", first)
	}
	// A phase reported again replaces its events, and the build's fingerprints with them.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: b2, Name: "build", Status: "SUCCESS"})
	if got := buildPrints(t, st, b2); len(got) != 0 {
		t.Errorf("fingerprints after a clean phase = %+v", got)
	}
}

func testFailureList(t *testing.T, st store.Store) {
	failingBuilds(t, st)
	list, err := st.ListFailures(ctx(t), store.FailureQuery{Kind: logparse.Error, Since: time.Now().Add(-time.Hour), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("ListFailures = %+v, want 3 fingerprints", list)
	}
	top := list[0]
	if top.Hash != fingerprint.Of(logparse.Error, ompAlice).Hash || top.Builds != 3 || top.Packages != 2 || top.Compilers != 1 ||
		top.Hosts != 2 || top.Class != fingerprint.UndefinedSymbol || top.FirstSeen.IsZero() || top.LastSeen.Before(top.FirstSeen) {
		t.Errorf("top failure = %+v", top)
	}
	// The example is the first event of the newest build that reported it (left, on host1).
	if top.Example.Text != ompAlice || top.Example.LineNo != 1 {
		t.Errorf("example = %+v", top.Example)
	}
	if list[1].Builds != 1 || list[2].Builds != 1 {
		t.Errorf("the others = %+v", list[1:])
	}
	limited, err := st.ListFailures(ctx(t), store.FailureQuery{Kind: logparse.Error, Since: time.Now().Add(-time.Hour), Limit: 1})
	if err != nil || len(limited) != 1 || limited[0].Hash != top.Hash {
		t.Errorf("ListFailures(limit 1) = %+v, %v", limited, err)
	}
	warnings, err := st.ListFailures(ctx(t), store.FailureQuery{Kind: logparse.Warning, Since: time.Now().Add(-time.Hour), Limit: 10})
	if err != nil || len(warnings) != 1 || warnings[0].Class != fingerprint.CompilerWarning {
		t.Errorf("ListFailures(warnings) = %+v, %v", warnings, err)
	}
	later, err := st.ListFailures(ctx(t), store.FailureQuery{Kind: logparse.Error, Since: time.Now().Add(time.Hour), Limit: 10})
	if err != nil || len(later) != 0 {
		t.Errorf("ListFailures(from an hour ahead) = %+v, %v", later, err)
	}
}

func testReference(t *testing.T, st store.Store) {
	b1, b2, b3 := failingBuilds(t, st)
	find := func(q store.ReferenceQuery) (int64, string) {
		t.Helper()
		ref, status, found, err := st.FindReference(ctx(t), q)
		if err != nil {
			t.Fatalf("FindReference(%+v): %v", q, err)
		}
		if !found {
			return 0, ""
		}
		return ref.ID, status
	}
	if id, status := find(store.ReferenceQuery{BuildID: b2}); id != b1 || status != store.StatusNotRun {
		t.Errorf("reference of build 2 = %d %s, want %d", id, status, b1)
	}
	if id, _ := find(store.ReferenceQuery{BuildID: b1}); id != 0 {
		t.Errorf("reference of the first build = %d, want none", id)
	}
	// left is another package: none of root's builds is its reference.
	if id, _ := find(store.ReferenceQuery{BuildID: b3}); id != 0 {
		t.Errorf("reference of build 3 = %d, want none", id)
	}
	if id, _ := find(store.ReferenceQuery{BuildID: b2, By: store.ReferenceSameSpec}); id != b1 {
		t.Errorf("same-spec reference of build 2 = %d, want %d", id, b1)
	}
	if id, _ := find(store.ReferenceQuery{BuildID: b2, By: store.ReferenceSameTag, Tag: " CI "}); id != b1 {
		t.Errorf("tag reference of build 2 = %d, want %d", id, b1)
	}
	if id, _ := find(store.ReferenceQuery{BuildID: b2, By: store.ReferenceSameTag, Tag: "nightly"}); id != 0 {
		t.Errorf("reference of build 2 by an unknown tag = %d, want none", id)
	}
}

func testKnownCauses(t *testing.T, st store.Store) {
	omp := fingerprint.Of(logparse.Error, ompAlice).Hash
	a, err := st.CreateKnownCause(ctx(t), store.KnownCause{Title: "OpenMP runtime not linked", Link: "https://example.org/omp", Fingerprint: omp, CreatedBy: "root"})
	if err != nil || a.ID == 0 || a.CreatedAt.IsZero() {
		t.Fatalf("CreateKnownCause = %+v, %v", a, err)
	}
	b, err := st.CreateKnownCause(ctx(t), store.KnownCause{Title: "ld failed", Pattern: `ld returned \d+`, CreatedBy: "root"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ListKnownCauses(ctx(t))
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[0].Fingerprint != omp || list[0].Link != a.Link ||
		list[1].Pattern != `ld returned \d+` || list[1].CreatedBy != "root" {
		t.Fatalf("ListKnownCauses = %+v, %v", list, err)
	}
	if _, err := st.CreateKnownCause(ctx(t), store.KnownCause{Title: "both", Pattern: "x", Fingerprint: omp, CreatedBy: "root"}); err == nil {
		t.Error("a cause with both a pattern and a fingerprint was stored")
	}
	if err := st.DeleteKnownCause(ctx(t), a.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteKnownCause(ctx(t), a.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("DeleteKnownCause(again) = %v, want NotFound", err)
	}
	if list, _ := st.ListKnownCauses(ctx(t)); len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("after the delete: %+v", list)
	}
}

func testFailuresNotFound(t *testing.T, st store.Store) {
	if _, err := st.BuildFingerprints(ctx(t), 987654, false); !errs.Is(err, errs.NotFound) {
		t.Errorf("BuildFingerprints(unknown) = %v, want NotFound", err)
	}
	if _, _, _, err := st.FindReference(ctx(t), store.ReferenceQuery{BuildID: 987654}); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindReference(unknown) = %v, want NotFound", err)
	}
}
