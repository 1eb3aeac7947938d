package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/spackmon/spackmon/services/auth/store"
)

var revocationTests = []namedTest{
	{Name: "Recorded", Fn: testRevocationsRecorded},
	{Name: "Pruned", Fn: testRevocationsPruned},
	{Name: "UserIDsNotReused", Fn: testUserIDsNotReused},
}

func listRevocations(t testing.TB, st store.Store, since time.Time) []store.Revocation {
	t.Helper()
	rs, err := st.ListRevocations(ctx(t), since)
	if err != nil {
		t.Fatalf("ListRevocations: %v", err)
	}
	return rs
}

// Disabling, deleting, revoking and rotating each record what they revoke; re-enabling, a
// second disable and a second revocation of one token record nothing more.
func testRevocationsRecorded(t *testing.T, st store.Store) {
	// SQLite's triggers stamp a disable or delete to the millisecond: one made in the same
	// millisecond as a finer before would sort ahead of it.
	before := time.Now().Truncate(time.Millisecond)
	alice, bob := createUser(t, st, "alice", false), createUser(t, st, "bob", false)
	_, a1 := addToken(t, st, "alice")
	_, a2 := addToken(t, st, "alice")
	_, b1 := addToken(t, st, "bob")
	if rs := listRevocations(t, st, before); len(rs) != 0 {
		t.Fatalf("revocations before any: %+v", rs)
	}
	step := func(what string, fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("disable alice", func() error { _, err := st.SetDisabled(ctx(t), "alice", true); return err })
	step("disable alice again", func() error { _, err := st.SetDisabled(ctx(t), "alice", true); return err })
	step("enable alice", func() error { _, err := st.SetDisabled(ctx(t), "alice", false); return err })
	step("revoke a1", func() error { return st.RevokeToken(ctx(t), a1.ID) })
	step("revoke a1 again", func() error { return st.RevokeToken(ctx(t), a1.ID) })
	_, nt := newToken(t)
	step("rotate alice", func() error { _, err := st.RotateToken(ctx(t), "alice", nt); return err })
	step("delete bob", func() error { return st.DeleteUser(ctx(t), "bob") })
	after := time.Now()

	rs := listRevocations(t, st, before)
	type key struct{ user, token int64 }
	var got []key
	for _, r := range rs {
		window(t, "revoked at", r.At, before, after)
		got = append(got, key{r.UserID, r.APITokenID})
	}
	want := []key{{alice.ID, 0}, {alice.ID, a1.ID}, {alice.ID, a2.ID}, {bob.ID, 0}}
	if !slices.Equal(got, want) {
		t.Errorf("revocations %v, want %v", got, want)
	}
	if rs := listRevocations(t, st, after.Add(time.Second)); len(rs) != 0 {
		t.Errorf("revocations after the last one: %+v", rs)
	}
	_ = b1
}

func testRevocationsPruned(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	createUser(t, st, "bob", false)
	if _, err := st.SetDisabled(ctx(t), "alice", true); err != nil {
		t.Fatal(err)
	}
	mid := time.Now()
	time.Sleep(2 * time.Millisecond) // the stores keep microseconds
	if err := st.DeleteUser(ctx(t), "bob"); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneRevocations(ctx(t), mid)
	if err != nil || n != 1 {
		t.Fatalf("PruneRevocations = %d, %v; want 1", n, err)
	}
	if rs := listRevocations(t, st, time.Time{}); len(rs) != 1 {
		t.Errorf("after pruning: %+v, want bob's deletion alone", rs)
	}
}

// A user made after the newest one was deleted gets a new id: builds are owned by user id.
func testUserIDsNotReused(t *testing.T, st store.Store) {
	old := createUser(t, st, "carol", false)
	if err := st.DeleteUser(ctx(t), "carol"); err != nil {
		t.Fatal(err)
	}
	if again := createUser(t, st, "carol", false); again.ID == old.ID {
		t.Errorf("the new carol has the deleted carol's id %d", old.ID)
	}
}
