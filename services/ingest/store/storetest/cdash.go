package storetest

import (
	"sync"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var cdashTests = []namedTest{
	{Name: "OneBuildPerKey", Fn: testCDashOneBuildPerKey},
	{Name: "PartsReplace", Fn: testCDashPartsReplace},
	{Name: "StatusFollowsParts", Fn: testCDashStatus},
	{Name: "Ownership", Fn: testCDashOwnership},
	{Name: "ListFilters", Fn: testCDashListFilters},
	{Name: "Attachments", Fn: testCDashAttachments},
	{Name: "ConcurrentFirstParts", Fn: testCDashConcurrentFirstParts},
	{Name: "LinkedToStoredSpec", Fn: testCDashLinkedToStoredSpec},
}

func testCDashLinkedToStoredSpec(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	k := store.CDashKey{Source: store.SourceJUnit, Site: "vm", BuildName: "root", Stamp: "Sat, 05 Dec 2026 07:28:51"}
	env := store.BuildEnv{Hostname: "vm"}
	// By DAG hash, as Spack's JUnit names a package.
	res := putPart(t, st, alice, store.CDashPart{Key: k, Env: env, SpecName: "root", SpecHash: "h-root-fh",
		Phase: warningPhase("install", store.StatusSuccess)})
	if res.SpecFullHash != "root-fh" {
		t.Fatalf("linked to %q, want root-fh", res.SpecFullHash)
	}
	b := getBuild(t, st, res.BuildID)
	if b.Spec.FullHash != "root-fh" || b.Spec.Name != "root" || b.Source != store.SourceJUnit || b.Spec.Compiler != "gcc@12.2.0" {
		t.Fatalf("build %+v", b)
	}
	// A later report of the same package takes the build over.
	k2 := k
	k2.Stamp = "Sat, 05 Dec 2026 08:00:00"
	if again := putPart(t, st, alice, store.CDashPart{Key: k2, Env: env, SpecName: "root", SpecHash: "h-root-fh"}); again.BuildID != res.BuildID {
		t.Fatalf("second report: build %d, want %d", again.BuildID, res.BuildID)
	}
	if b := getBuild(t, st, res.BuildID); b.CDash.Stamp != k2.Stamp {
		t.Fatalf("stamp %q", b.CDash.Stamp)
	}
	// An unknown hash: the build's own spec row.
	k3 := k
	k3.BuildName = "unknown"
	other := putPart(t, st, alice, store.CDashPart{Key: k3, Env: env, SpecName: "unknown", SpecHash: "zzzz"})
	if other.SpecFullHash != store.PlaceholderHash(k3) || getBuild(t, st, other.BuildID).Spec.Name != "unknown" {
		t.Fatalf("unlinked %+v", other)
	}
}

var demoKey = store.CDashKey{Source: store.SourceCDash, Project: "Demo", Site: "vm", BuildName: "Linux-cc", Stamp: "20261205-0723-Experimental"}

func putPart(t testing.TB, st store.Store, who store.Actor, p store.CDashPart) store.CDashResult {
	t.Helper()
	if p.SpecName == "" {
		p.SpecName = p.Key.BuildName
	}
	res, err := st.PutCDashPart(ctx(t), who, p)
	if err != nil {
		t.Fatalf("PutCDashPart: %v", err)
	}
	return res
}

func warningPhase(name, status string, texts ...string) *store.PhaseUpdate {
	p := &store.PhaseUpdate{Name: name, Status: status, OutputNull: true}
	for i, text := range texts {
		p.Events = append(p.Events, logparse.Event{Kind: logparse.Warning, LineNo: i + 1, Text: text, SourceFile: "demo.c", SourceLine: 9,
			PreContext: "pre", PostContext: "post", Start: i + 1, End: i + 1, RepeatCount: i})
	}
	p.WarningsTotal = int64(len(texts))
	return p
}

func testCDashOneBuildPerKey(t *testing.T, st store.Store) {
	first := putPart(t, st, alice, store.CDashPart{Key: demoKey, Env: store.BuildEnv{Hostname: "vm", HostOS: "Linux"},
		Info:  store.CDashInfo{Generator: "ctest-3.25.1", OSName: "Linux", Track: "Experimental"},
		Phase: &store.PhaseUpdate{Name: "configure", Status: store.StatusSuccess, Output: []byte{}, OutputBytes: 0}})
	if !first.Created || first.BuildID == 0 {
		t.Fatalf("first part: %+v", first)
	}
	second := putPart(t, st, alice, store.CDashPart{Key: demoKey, Phase: warningPhase("build", store.StatusSuccess, "warning: unused")})
	if second.Created || second.BuildID != first.BuildID {
		t.Fatalf("second part: %+v, want build %d", second, first.BuildID)
	}
	other := demoKey
	other.Stamp = "20261205-0724-Experimental"
	if third := putPart(t, st, alice, store.CDashPart{Key: other}); !third.Created || third.BuildID == first.BuildID {
		t.Fatalf("another stamp: %+v", third)
	}
	b := getBuild(t, st, first.BuildID)
	if b.Source != store.SourceCDash || b.CDash == nil || b.CDash.Project != "Demo" || b.CDash.Site != "vm" ||
		b.CDash.BuildName != "Linux-cc" || b.CDash.Generator != "ctest-3.25.1" || b.CDash.Track != "Experimental" || b.Spec.Name != "Linux-cc" {
		t.Fatalf("build %+v cdash %+v", b, b.CDash)
	}
	if len(b.Phases) != 2 || b.Phases[0].Name != "configure" || b.Phases[1].Name != "build" || b.Phases[1].WarningCount != 1 {
		t.Fatalf("phases %+v", b.Phases)
	}
	if b.Status != store.StatusSuccess || b.FinishedAt == nil || b.Owner != "alice" {
		t.Fatalf("status %s finished %v owner %s", b.Status, b.FinishedAt, b.Owner)
	}
}

func testCDashPartsReplace(t *testing.T, st store.Store) {
	tests := []store.Test{
		{Name: "demo_passes", Status: store.TestPassed, Duration: 0.01, Output: []byte("x"), OutputBytes: 1, Measurements: "[]"},
		{Name: "demo_fails", Status: store.TestFailed, ExitValue: "3", Output: []byte("y"), OutputBytes: 1, Measurements: `[{"name":"Exit Value","type":"text/string","value":"3"}]`},
	}
	id := putPart(t, st, alice, store.CDashPart{Key: demoKey, Phase: warningPhase("build", store.StatusSuccess, "w1", "w2"), Tests: tests, ReplaceTests: true}).BuildID
	// The same parts again, as ctest re-sends after a refusal: nothing doubles.
	putPart(t, st, alice, store.CDashPart{Key: demoKey, Phase: warningPhase("build", store.StatusSuccess, "w1", "w2"), Tests: tests, ReplaceTests: true})
	events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 100})
	if err != nil || len(events) != 2 {
		t.Fatalf("events %v %v, want 2", events, err)
	}
	if events[1].RepeatCount != 1 || events[1].Text != "w2" || events[1].PreContext != "pre" {
		t.Fatalf("second event %+v, want repeated once", events[1])
	}
	got, err := st.ListTests(ctx(t), id, "")
	if err != nil || len(got) != 2 || got[0].Name != "demo_passes" || got[1].Name != "demo_fails" || got[1].ExitValue != "3" ||
		string(got[1].Output) != "y" || got[1].Measurements != tests[1].Measurements {
		t.Fatalf("tests %+v %v", got, err)
	}
	failed, err := st.ListTests(ctx(t), id, store.TestFailed)
	if err != nil || len(failed) != 1 || failed[0].Name != "demo_fails" {
		t.Fatalf("failed tests %+v %v", failed, err)
	}
	b := getBuild(t, st, id)
	if b.TestsPassed != 1 || b.TestsFailed != 1 || b.TestsNotRun != 0 {
		t.Fatalf("test counts %d %d %d", b.TestsPassed, b.TestsFailed, b.TestsNotRun)
	}
	if _, err := st.ListTests(ctx(t), 999999, ""); !errs.Is(err, errs.NotFound) {
		t.Fatalf("tests of an unknown build: %v", err)
	}
}

func testCDashStatus(t *testing.T, st store.Store) {
	id := putPart(t, st, alice, store.CDashPart{Key: demoKey, Phase: warningPhase("configure", store.StatusSuccess)}).BuildID
	if b := getBuild(t, st, id); b.Status != store.StatusSuccess {
		t.Fatalf("after a good configure: %s", b.Status)
	}
	putPart(t, st, alice, store.CDashPart{Key: demoKey, Tests: []store.Test{{Name: "t", Status: store.TestFailed, Output: []byte{}, Measurements: "[]"}}, ReplaceTests: true})
	if b := getBuild(t, st, id); b.Status != store.StatusFailed {
		t.Fatalf("after a failed test: %s", b.Status)
	}
	// The test passes when re-sent: the build follows.
	putPart(t, st, alice, store.CDashPart{Key: demoKey, Tests: []store.Test{{Name: "t", Status: store.TestPassed, Output: []byte{}, Measurements: "[]"}}, ReplaceTests: true})
	if b := getBuild(t, st, id); b.Status != store.StatusSuccess {
		t.Fatalf("after the test passed: %s", b.Status)
	}
	putPart(t, st, alice, store.CDashPart{Key: demoKey, Phase: warningPhase("build", store.PhaseStatusError)})
	if b := getBuild(t, st, id); b.Status != store.StatusFailed {
		t.Fatalf("after a failed build: %s", b.Status)
	}
	k := demoKey
	k.BuildName = "mon-root ^mon-fail"
	cf := putPart(t, st, alice, store.CDashPart{Key: k, Info: store.CDashInfo{UpdateStatus: "Package mon-root does not depend on mon-fail", Package: "mon-root"}, SpecName: "mon-root"})
	b := getBuild(t, st, cf.BuildID)
	if b.Status != store.StatusFailed || b.CDash.UpdateStatus != "Package mon-root does not depend on mon-fail" || b.CDash.Package != "mon-root" || b.Spec.Name != "mon-root" {
		t.Fatalf("concretization failure: %+v %+v", b, b.CDash)
	}
}

func testCDashOwnership(t *testing.T, st store.Store) {
	id := putPart(t, st, alice, store.CDashPart{Key: demoKey}).BuildID
	if _, err := st.PutCDashPart(ctx(t), bob, store.CDashPart{Key: demoKey, SpecName: "x", Phase: warningPhase("build", store.PhaseStatusError)}); !errs.Is(err, errs.NotOwner) {
		t.Fatalf("bob's part: %v, want NotOwner", err)
	}
	if b := getBuild(t, st, id); len(b.Phases) != 0 || b.Status != store.StatusSuccess {
		t.Fatalf("bob's refused part changed the build: %+v", b)
	}
	if res := putPart(t, st, admin, store.CDashPart{Key: demoKey}); res.BuildID != id {
		t.Fatalf("admin's part went to build %d", res.BuildID)
	}
	if _, err := st.AttachFile(ctx(t), bob, id, store.Attachment{Kind: store.AttachmentFile, Name: "f", Content: []byte{}}); !errs.Is(err, errs.NotOwner) {
		t.Fatalf("bob's attachment: %v", err)
	}
}

func testCDashListFilters(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	ms1 := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	demo := putPart(t, st, alice, store.CDashPart{Key: demoKey}).BuildID
	k := demoKey
	k.Project, k.Site = "Spack", "other"
	spack := putPart(t, st, alice, store.CDashPart{Key: k}).BuildID
	ids := func(q store.BuildQuery) []int64 {
		t.Helper()
		q.Limit = 100
		bs, err := st.ListBuilds(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, b := range bs {
			out = append(out, b.ID)
		}
		return out
	}
	for name, c := range map[string]struct {
		q    store.BuildQuery
		want []int64
	}{
		"all":          {store.BuildQuery{}, []int64{spack, demo, ms1}},
		"source ms1":   {store.BuildQuery{Source: store.SourceMS1}, []int64{ms1}},
		"source cdash": {store.BuildQuery{Source: store.SourceCDash}, []int64{spack, demo}},
		"source junit": {store.BuildQuery{Source: store.SourceJUnit}, nil},
		"project":      {store.BuildQuery{Project: "Demo"}, []int64{demo}},
		"site":         {store.BuildQuery{Site: "other"}, []int64{spack}},
		"text project": {store.BuildQuery{Text: "spac"}, []int64{spack}},
	} {
		if got := ids(c.q); !equalIDs(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	if b := getBuild(t, st, ms1); b.Source != store.SourceMS1 || b.CDash != nil {
		t.Errorf("ms1 build: source %q cdash %+v", b.Source, b.CDash)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testCDashAttachments(t *testing.T, st store.Store) {
	id := putPart(t, st, alice, store.CDashPart{Key: demoKey, Attachments: []store.Attachment{
		{Kind: store.AttachmentNote, Name: "/tmp/notes.txt", Content: []byte("c1"), Size: 5},
	}}).BuildID
	putPart(t, st, alice, store.CDashPart{Key: demoKey, Attachments: []store.Attachment{
		{Kind: store.AttachmentNote, Name: "/tmp/notes.txt", Content: []byte("c2"), Size: 6},
	}})
	fileID, err := st.AttachFile(ctx(t), alice, id, store.Attachment{Kind: store.AttachmentFile, Name: "demo.c", Content: []byte("c3"), Size: 7})
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ListAttachments(ctx(t), id)
	if err != nil || len(list) != 2 || list[0].Name != "/tmp/notes.txt" || list[0].Size != 6 || len(list[0].Content) != 0 ||
		list[1].ID != fileID || list[1].Kind != store.AttachmentFile {
		t.Fatalf("attachments %+v %v", list, err)
	}
	a, err := st.GetAttachment(ctx(t), id, fileID)
	if err != nil || string(a.Content) != "c3" || a.Size != 7 || a.CreatedAt.IsZero() {
		t.Fatalf("attachment %+v %v", a, err)
	}
	if _, err := st.GetAttachment(ctx(t), id, fileID+100); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown attachment: %v", err)
	}
	if _, err := st.AttachFile(ctx(t), alice, 999999, store.Attachment{Kind: store.AttachmentFile, Name: "f", Content: []byte{}}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("attachment of an unknown build: %v", err)
	}
}

func testCDashConcurrentFirstParts(t *testing.T, st store.Store) {
	const n = 8
	ids := make([]int64, n)
	errsSeen := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := st.PutCDashPart(ctx(t), alice, store.CDashPart{Key: demoKey, SpecName: "Linux-cc", Phase: warningPhase("build", store.StatusSuccess, "w")})
			ids[i], errsSeen[i] = res.BuildID, err
		}()
	}
	wg.Wait()
	for i := range n {
		if errsSeen[i] != nil || ids[i] != ids[0] {
			t.Fatalf("part %d: build %d, error %v; want build %d", i, ids[i], errsSeen[i], ids[0])
		}
	}
}
