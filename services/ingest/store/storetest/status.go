package storetest

import (
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var statusTests = []namedTest{
	{Name: "Ownership", Fn: testStatusOwnership},
	{Name: "FinishedAtSetOnce", Fn: testFinishedAtOnce},
	{Name: "FailedSettlesDependencyBuilds", Fn: testFailedCancels},
	{Name: "OtherStatusesCancelNothing", Fn: testSuccessCancelsNothing},
}

func testStatusOwnership(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	b := newBuild(t, st, "root-fh", env1, "alice")
	_, err := st.UpdateBuildStatus(ctx(t), bob, b.Build.ID, store.StatusFailed)
	if !errs.Is(err, errs.NotOwner) || err.Error() != "You do not own the build and cannot update it." {
		t.Fatalf("bob's update: %v, want NotOwner", err)
	}
	if got := getBuild(t, st, b.Build.ID); got.Status != store.StatusNotRun {
		t.Fatalf("status after a refused update = %s", got.Status)
	}
	ref := setStatus(t, st, admin, b.Build.ID, store.StatusSuccess)
	if ref.ID != b.Build.ID || ref.SpecFullHash != "root-fh" || ref.SpecName != "root" {
		t.Fatalf("ref = %+v", ref)
	}
	setStatus(t, st, alice, b.Build.ID, store.StatusCancelled)
	if _, err := st.UpdateBuildStatus(ctx(t), alice, 999999, store.StatusSuccess); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown build: %v, want NotFound", err)
	}
}

func testFinishedAtOnce(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	id := newBuild(t, st, "root-fh", env1, "alice").Build.ID
	setStatus(t, st, alice, id, store.StatusNotRun)
	created := getBuild(t, st, id)
	if created.FinishedAt != nil {
		t.Fatal("NOTRUN set finished_at")
	}
	time.Sleep(2 * time.Millisecond)
	setStatus(t, st, alice, id, store.StatusSuccess)
	done := getBuild(t, st, id)
	if done.FinishedAt == nil || done.FinishedAt.Before(done.CreatedAt) || !done.UpdatedAt.After(created.UpdatedAt) {
		t.Fatalf("after SUCCESS: %+v", done)
	}
	time.Sleep(2 * time.Millisecond)
	setStatus(t, st, alice, id, store.StatusFailed)
	failed := getBuild(t, st, id)
	if failed.Status != store.StatusFailed || failed.FinishedAt == nil || !failed.FinishedAt.Equal(*done.FinishedAt) {
		t.Fatalf("finished_at moved: %v then %v", done.FinishedAt, failed.FinishedAt)
	}
}

// chain is top -> (a, b, c, d, e), a -> deep.
func chain() *spackspec.Document {
	return doc(
		n("top", "1", "top-fh", dep("a", 1), dep("b", 2), dep("c", 3), dep("d", 4), dep("e", 6)),
		n("a", "1", "a-fh", dep("deep", 5)),
		n("b", "1", "b-fh"),
		n("c", "1", "c-fh"),
		n("d", "1", "d-fh"),
		n("deep", "1", "deep-fh"),
		n("e", "1", "e-fh"),
	)
}

func testFailedCancels(t *testing.T, st store.Store) {
	putSpec(t, st, chain())
	putSpec(t, st, doc(n("parent", "1", "parent-fh", ref("top", "top-fh"))))
	top := newBuild(t, st, "top-fh", env1, "alice").Build.ID
	a := newBuild(t, st, "a-fh", env1, "alice").Build.ID
	b := newBuild(t, st, "b-fh", env1, "alice").Build.ID
	c := newBuild(t, st, "c-fh", env1, "alice").Build.ID
	d := newBuild(t, st, "d-fh", env1, "alice").Build.ID
	deep := newBuild(t, st, "deep-fh", env1, "alice").Build.ID
	bobsA := newBuild(t, st, "a-fh", env1, "bob").Build.ID
	aElsewhere := newBuild(t, st, "a-fh", env2, "alice").Build.ID
	parent := newBuild(t, st, "parent-fh", env1, "alice").Build.ID
	setStatus(t, st, alice, c, store.StatusSuccess)
	setStatus(t, st, alice, d, store.StatusFailed)
	// e broke (a phase failed) but Spack names only the root FAILED: e is FAILED too.
	e := newBuild(t, st, "e-fh", env1, "alice").Build.ID
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: e, Name: "configure", Status: "SUCCESS"})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: e, Name: "build", Status: "ERROR"})
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: b, Name: "configure", Status: "SUCCESS"})

	ref := setStatus(t, st, alice, top, store.StatusFailed)
	if ref.ID != top || ref.SpecName != "top" {
		t.Fatalf("ref = %+v", ref)
	}
	want := map[int64]string{
		top: store.StatusFailed, a: store.StatusCancelled, b: store.StatusCancelled,
		c: store.StatusSuccess, d: store.StatusFailed, e: store.StatusFailed,
		deep: store.StatusNotRun, bobsA: store.StatusNotRun, aElsewhere: store.StatusNotRun, parent: store.StatusNotRun,
	}
	names := map[int64]string{top: "top", a: "a", b: "b", c: "c", d: "d", e: "e (a phase failed)", deep: "deep (not direct)",
		bobsA: "bob's a", aElsewhere: "a on host2", parent: "parent (a dependent)"}
	for id, status := range want {
		if got := getBuild(t, st, id); got.Status != status {
			t.Errorf("%s: %s, want %s", names[id], got.Status, status)
		}
	}
	if got := getBuild(t, st, a); got.FinishedAt == nil {
		t.Error("a cancelled build has no finished_at")
	}
}

func testSuccessCancelsNothing(t *testing.T, st store.Store) {
	putSpec(t, st, chain())
	top := newBuild(t, st, "top-fh", env1, "alice").Build.ID
	a := newBuild(t, st, "a-fh", env1, "alice").Build.ID
	for _, status := range []string{store.StatusSuccess, store.StatusCancelled, store.StatusNotRun} {
		setStatus(t, st, alice, top, status)
		if got := getBuild(t, st, a); got.Status != store.StatusNotRun {
			t.Fatalf("%s on top changed a dependency's build to %s", status, got.Status)
		}
	}
	// Someone else's FAILED is refused before it can cancel anything.
	if _, err := st.UpdateBuildStatus(ctx(t), bob, top, store.StatusFailed); !errs.Is(err, errs.NotOwner) {
		t.Fatalf("bob: %v", err)
	}
	if got := getBuild(t, st, a); got.Status != store.StatusNotRun {
		t.Fatalf("a refused FAILED cancelled a dependency's build (%s)", got.Status)
	}
	// An admin's FAILED cancels the owner's builds.
	setStatus(t, st, admin, top, store.StatusFailed)
	if got := getBuild(t, st, a); got.Status != store.StatusCancelled {
		t.Fatalf("after the admin's FAILED: %s", got.Status)
	}
}
