package storetest

import (
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var ownerTests = []namedTest{
	{Name: "ByUserIDNotName", Fn: testOwnerByUserID},
	{Name: "AdoptNameOwnedBuilds", Fn: testAdoptOwners},
	{Name: "RenameOwner", Fn: testRenameOwner},
}

// Renaming a user's owner shows that user's builds under the new name and no one else's;
// the user still owns them by id.
func testRenameOwner(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	oldCarol, newCarol := store.Actor{Name: "carol", UserID: 1}, store.Actor{Name: "carol", UserID: 2}
	old, mine := buildBy(t, st, oldCarol), buildBy(t, st, newCarol)
	n, err := st.RenameOwner(ctx(t), 1, "deleted-user-1")
	if err != nil || n != 1 {
		t.Fatalf("RenameOwner = %d, %v; want the old carol's one build", n, err)
	}
	if b := getBuild(t, st, old.Build.ID); b.Owner != "deleted-user-1" || b.OwnerID != 1 {
		t.Errorf("renamed build owned by %q (%d)", b.Owner, b.OwnerID)
	}
	if b := getBuild(t, st, mine.Build.ID); b.Owner != "carol" || b.OwnerID != 2 {
		t.Errorf("the other carol's build owned by %q (%d)", b.Owner, b.OwnerID)
	}
	if builds, err := st.ListBuilds(ctx(t), store.BuildQuery{Owner: "carol"}); err != nil || len(builds) != 1 || builds[0].ID != mine.Build.ID {
		t.Errorf("carol's builds after the rename: %v, %v", builds, err)
	}
	if n, err := st.RenameOwner(ctx(t), 99, "deleted-user-99"); err != nil || n != 0 {
		t.Errorf("RenameOwner of a user without builds = %d, %v", n, err)
	}
}

func buildBy(t *testing.T, st store.Store, who store.Actor) store.BuildResult {
	t.Helper()
	res, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "root-fh", SpackVersion: sv, Env: env1, Owner: who.Name, OwnerID: who.UserID})
	if err != nil {
		t.Fatalf("GetOrCreateBuild(%+v): %v", who, err)
	}
	return res
}

// A user who takes the name of a deleted user (a new id) does not get that user's builds:
// not by asking for the same build, nor by updating one. The name is still shown.
func testOwnerByUserID(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	oldCarol, newCarol := store.Actor{Name: "carol", UserID: 1}, store.Actor{Name: "carol", UserID: 2}
	old := buildBy(t, st, oldCarol)
	if again := buildBy(t, st, oldCarol); again.BuildCreated || again.Build.ID != old.Build.ID {
		t.Fatalf("the same owner asking again: %+v", again)
	}
	mine := buildBy(t, st, newCarol)
	if !mine.BuildCreated || mine.Build.ID == old.Build.ID {
		t.Fatalf("the new carol was handed %+v, the old carol's build is %d", mine, old.Build.ID)
	}
	if _, err := st.UpdateBuildStatus(ctx(t), newCarol, old.Build.ID, store.StatusFailed); !errs.Is(err, errs.NotOwner) {
		t.Errorf("new carol's status update of the old build: %v, want NotOwner", err)
	}
	if _, err := st.UpdatePhase(ctx(t), newCarol, store.PhaseUpdate{BuildID: old.Build.ID, Name: "install", Status: "ERROR"}); !errs.Is(err, errs.NotOwner) {
		t.Errorf("new carol's phase update of the old build: %v, want NotOwner", err)
	}
	// Nor by name alone: a caller without a user id is not the user.
	if _, err := st.UpdateBuildStatus(ctx(t), store.Actor{Name: "carol"}, old.Build.ID, store.StatusFailed); !errs.Is(err, errs.NotOwner) {
		t.Errorf("a name-only carol's update: %v, want NotOwner", err)
	}
	setStatus(t, st, oldCarol, old.Build.ID, store.StatusSuccess)
	updatePhase(t, st, newCarol, store.PhaseUpdate{BuildID: mine.Build.ID, Name: "install", Status: "SUCCESS"})
	for _, c := range []struct {
		id    int64
		owner int64
	}{{old.Build.ID, 1}, {mine.Build.ID, 2}} {
		if b := getBuild(t, st, c.id); b.Owner != "carol" || b.OwnerID != c.owner {
			t.Errorf("build %d owned by %q (%d), want carol (%d)", c.id, b.Owner, b.OwnerID, c.owner)
		}
	}
	if builds, err := st.ListBuilds(ctx(t), store.BuildQuery{Owner: "carol"}); err != nil || len(builds) != 2 {
		t.Errorf("carol's builds listed by name: %d, %v", len(builds), err)
	}
}

// Builds owned by a name go to the user of that name who existed when they were made, once;
// those made before the user did (by a deleted user of the same name) stay owned by the name.
func testAdoptOwners(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	legacy := store.Actor{Name: "dave"}
	before := buildBy(t, st, legacy).Build.ID
	time.Sleep(2 * time.Millisecond)
	since := time.Now()
	after, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "left-fh", SpackVersion: sv, Env: env1, Owner: "dave"})
	if err != nil {
		t.Fatal(err)
	}
	dave := store.Actor{Name: "dave", UserID: 7}
	adoptions := []store.Adoption{{Name: "dave", UserID: 7, Since: since}, {Name: "nobody", UserID: 8, Since: time.Time{}}}
	if n, err := st.AdoptOwners(ctx(t), adoptions); err != nil || n != 1 {
		t.Fatalf("AdoptOwners = %d, %v; want 1", n, err)
	}
	if n, err := st.AdoptOwners(ctx(t), adoptions); err != nil || n != 0 {
		t.Fatalf("AdoptOwners again = %d, %v; want 0", n, err)
	}
	setStatus(t, st, dave, after.Build.ID, store.StatusSuccess)
	if b := getBuild(t, st, after.Build.ID); b.OwnerID != 7 || b.Owner != "dave" {
		t.Errorf("adopted build: owner %q (%d)", b.Owner, b.OwnerID)
	}
	if _, err := st.UpdateBuildStatus(ctx(t), legacy, after.Build.ID, store.StatusFailed); !errs.Is(err, errs.NotOwner) {
		t.Errorf("the name alone after adoption: %v, want NotOwner", err)
	}
	if _, err := st.UpdateBuildStatus(ctx(t), dave, before, store.StatusFailed); !errs.Is(err, errs.NotOwner) {
		t.Errorf("dave's update of a build older than dave: %v, want NotOwner", err)
	}
	if b := getBuild(t, st, before); b.OwnerID != 0 {
		t.Errorf("a build older than dave adopted by %d", b.OwnerID)
	}
	// The same request by the adopter finds the adopted build.
	again, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "left-fh", SpackVersion: sv, Env: env1, Owner: "dave", OwnerID: 7})
	if err != nil || again.BuildCreated || again.Build.ID != after.Build.ID {
		t.Errorf("dave asking for the adopted build again: %+v, %v; want build %d", again, err, after.Build.ID)
	}
}
