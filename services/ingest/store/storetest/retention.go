package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var retentionTests = []namedTest{
	{Name: "PruneBuilds", Fn: testPruneBuilds},
	{Name: "PruneBuildsInBatches", Fn: testPruneBuildsInBatches},
	{Name: "PruneLogsKeepsEvents", Fn: testPruneLogsKeepsEvents},
}

func prunedIDs(t testing.TB, st store.Store, q store.PruneQuery) []int64 {
	t.Helper()
	pruned, err := st.PruneBuilds(ctx(t), q)
	if err != nil {
		t.Fatalf("PruneBuilds(%+v): %v", q, err)
	}
	var ids []int64
	for _, b := range pruned {
		ids = append(ids, b.ID)
	}
	return ids
}

// seedAges stores the diamond's root with three builds (success, failed, newest) and its
// left node with one.
func seedAges(t *testing.T, st store.Store) (success, failed, newest, only int64) {
	putSpec(t, st, diamond(""))
	success = newBuild(t, st, "root-fh", env1, "alice").Build.ID
	failed = newBuild(t, st, "root-fh", env2, "alice").Build.ID
	newest = newBuild(t, st, "root-fh", env1, "bob").Build.ID
	only = newBuild(t, st, "left-fh", env1, "alice").Build.ID
	setStatus(t, st, alice, success, store.StatusSuccess)
	setStatus(t, st, alice, failed, store.StatusFailed)
	return
}

func testPruneBuilds(t *testing.T, st store.Store) {
	success, failed, newest, only := seedAges(t, st)
	// Every build is past the build age; failed ones are still within theirs.
	future, past := time.Now().Add(time.Hour), time.Now().Add(-time.Hour)
	q := store.PruneQuery{BuildsBefore: future, FailedBefore: past, DryRun: true}
	if got := prunedIDs(t, st, q); !slices.Equal(got, []int64{success}) {
		t.Fatalf("dry run lists %v, want [%d]", got, success)
	}
	getBuild(t, st, success) // a dry run removes nothing
	pruned, err := st.PruneBuilds(ctx(t), store.PruneQuery{BuildsBefore: future, FailedBefore: past})
	if err != nil || len(pruned) != 1 || pruned[0].ID != success || pruned[0].SpecName != "root" ||
		pruned[0].FullHash != "root-fh" || pruned[0].Status != store.StatusSuccess || pruned[0].CreatedAt.IsZero() {
		t.Fatalf("PruneBuilds = %+v, %v", pruned, err)
	}
	if _, err := st.GetBuild(ctx(t), success); !errs.Is(err, errs.NotFound) {
		t.Fatalf("the pruned build is still there: %v", err)
	}
	// Past their own age, failed builds go too; the newest of each spec never does.
	if got := prunedIDs(t, st, store.PruneQuery{BuildsBefore: future, FailedBefore: future}); !slices.Equal(got, []int64{failed}) {
		t.Fatalf("second prune removed %v, want [%d]", got, failed)
	}
	for _, id := range []int64{newest, only} {
		getBuild(t, st, id)
	}
	if got := prunedIDs(t, st, store.PruneQuery{BuildsBefore: future, FailedBefore: future}); got != nil {
		t.Fatalf("a third prune removed %v", got)
	}
	// No cut-off, nothing pruned.
	if got := prunedIDs(t, st, store.PruneQuery{}); got != nil {
		t.Fatalf("a prune without a cut-off removed %v", got)
	}
}

func testPruneBuildsInBatches(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	var all []int64
	for _, env := range []store.BuildEnv{env1, env2} {
		for _, owner := range []string{"alice", "bob", "carol"} {
			all = append(all, newBuild(t, st, "root-fh", env, owner).Build.ID)
		}
	}
	future := time.Now().Add(time.Hour)
	var got []int64
	q := store.PruneQuery{BuildsBefore: future, FailedBefore: future, Limit: 2, DryRun: true}
	for range len(all) {
		batch := prunedIDs(t, st, q)
		if len(batch) > 2 {
			t.Fatalf("a batch of %d over a limit of 2", len(batch))
		}
		if len(batch) == 0 {
			break
		}
		got = append(got, batch...)
		q.AfterID = batch[len(batch)-1]
	}
	if want := all[:len(all)-1]; !slices.Equal(got, want) {
		t.Fatalf("batches listed %v, want %v (all but the newest)", got, want)
	}
}

func testPruneLogsKeepsEvents(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.PhaseStatusError,
		Output: []byte("zstd-log-bytes"), OutputBytes: 400,
		Events: []logparse.Event{event(logparse.Error, 3, "undefined reference to `omp_get_thread_num'")}})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "install", Status: store.StatusSuccess, OutputNull: true})
	future := time.Now().Add(time.Hour)

	if got, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: time.Now().Add(-time.Hour)}); err != nil || len(got) != 0 {
		t.Fatalf("a log within its age was pruned: %+v, %v", got, err)
	}
	dry, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: future, DryRun: true})
	if err != nil || len(dry) != 1 || dry[0].BuildID != id || dry[0].Phase != "build" || dry[0].Bytes != int64(len("zstd-log-bytes")) {
		t.Fatalf("dry run = %+v, %v; want the build phase's %d bytes", dry, err, len("zstd-log-bytes"))
	}
	if out, _ := st.PhaseOutput(ctx(t), id, "build"); out.Null || out.Pruned {
		t.Fatal("a dry run dropped the log")
	}
	pruned, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: future})
	if err != nil || len(pruned) != 1 {
		t.Fatalf("PruneLogs = %+v, %v", pruned, err)
	}
	out, err := st.PhaseOutput(ctx(t), id, "build")
	if err != nil || !out.Null || !out.Pruned || out.Compressed != nil || out.Bytes != 400 {
		t.Fatalf("pruned output = %+v, %v; want null, pruned, its size kept", out, err)
	}
	if out, _ := st.PhaseOutput(ctx(t), id, "install"); out.Pruned {
		t.Fatal("a phase sent without a log reads as pruned")
	}
	events, err := st.ListEvents(ctx(t), store.EventQuery{BuildID: id, Limit: 10})
	if err != nil || len(events) != 1 || events[0].Text != "undefined reference to `omp_get_thread_num'" {
		t.Fatalf("events after pruning = %+v, %v", events, err)
	}
	if again, err := st.PruneLogs(ctx(t), store.PruneQuery{LogsBefore: future}); err != nil || len(again) != 0 {
		t.Fatalf("a pruned log was pruned again: %+v, %v", again, err)
	}
	// A phase posted again holds its new log.
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.StatusSuccess, Output: []byte("new"), OutputBytes: 3})
	if out, _ := st.PhaseOutput(ctx(t), id, "build"); out.Null || out.Pruned || string(out.Compressed) != "new" {
		t.Fatalf("re-posted output = %+v", out)
	}
}
