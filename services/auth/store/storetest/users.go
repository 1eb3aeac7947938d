package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

var userTests = []namedTest{
	{Name: "CreateAndGet", Fn: testCreateAndGet},
	{Name: "DuplicateName", Fn: testDuplicateName},
	{Name: "InvalidNames", Fn: testInvalidNames},
	{Name: "UnknownUser", Fn: testUnknownUser},
	{Name: "List", Fn: testListUsers},
	{Name: "SetDisabled", Fn: testSetDisabled},
	{Name: "DeleteCascades", Fn: testDeleteCascades},
}

func testCreateAndGet(t *testing.T, st store.Store) {
	before := time.Now()
	alice := createUser(t, st, "alice", false)
	root := createUser(t, st, "root", true)
	after := time.Now()
	if alice.ID == 0 || root.ID == 0 || alice.ID == root.ID {
		t.Fatalf("ids %d, %d", alice.ID, root.ID)
	}
	if alice.Name != "alice" || alice.Admin || alice.Disabled || !root.Admin || root.Disabled {
		t.Fatalf("created %+v, %+v", alice, root)
	}
	window(t, "created_at", alice.CreatedAt, before, after)
	for _, want := range []store.User{alice, root} {
		got, err := st.GetUser(ctx(t), want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("GetUser(%s) = %+v, want %+v", want.Name, got, want)
		}
	}
	// Names are compared exactly: another case is another user.
	if _, err := st.GetUser(ctx(t), "Alice"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetUser(Alice) = %v, want NotFound", err)
	}
	createUser(t, st, "Alice", false)
	// A name of the longest length, with non-ASCII letters.
	long := strings.Repeat("é", store.MaxNameLength/2)
	if got := createUser(t, st, long, false); got.Name != long {
		t.Errorf("long name came back as %q", got.Name)
	}
}

func testDuplicateName(t *testing.T, st store.Store) {
	first := createUser(t, st, "alice", false)
	_, err := st.CreateUser(ctx(t), store.NewUser{Name: "alice", Admin: true})
	wantErr(t, "CreateUser(alice) again", err, errs.BadRequest, "User alice already exists.")
	got, err := st.GetUser(ctx(t), "alice")
	if err != nil || got != first {
		t.Errorf("after the refused duplicate GetUser = %+v, %v; want %+v", got, err, first)
	}
}

// The service refuses names no user could sign in with; the store's schema still refuses
// those it cannot hold.
func testInvalidNames(t *testing.T, st store.Store) {
	for _, name := range []string{"", strings.Repeat("a", store.MaxNameLength+1)} {
		_, err := st.CreateUser(ctx(t), store.NewUser{Name: name})
		wantErr(t, "CreateUser("+name+")", err, errs.BadRequest, "")
	}
	if users, err := st.ListUsers(ctx(t)); err != nil || len(users) != 0 {
		t.Errorf("ListUsers = %v, %v; want none", users, err)
	}
}

func testUnknownUser(t *testing.T, st store.Store) {
	_, nt := newToken(t)
	c := ctx(t)
	msg := "User nobody does not exist."
	_, err := st.GetUser(c, "nobody")
	wantErr(t, "GetUser", err, errs.NotFound, msg)
	_, err = st.SetDisabled(c, "nobody", true)
	wantErr(t, "SetDisabled", err, errs.NotFound, msg)
	wantErr(t, "DeleteUser", st.DeleteUser(c, "nobody"), errs.NotFound, msg)
	_, err = st.AddToken(c, "nobody", nt)
	wantErr(t, "AddToken", err, errs.NotFound, msg)
	_, err = st.ListTokens(c, "nobody")
	wantErr(t, "ListTokens", err, errs.NotFound, msg)
	_, err = st.RevokeUserTokens(c, "nobody")
	wantErr(t, "RevokeUserTokens", err, errs.NotFound, msg)
	_, err = st.RotateToken(c, "nobody", nt)
	wantErr(t, "RotateToken", err, errs.NotFound, msg)
	if _, _, err := st.FindToken(c, nt.Prefix); !errs.Is(err, errs.NotFound) {
		t.Errorf("a token was added for an unknown user: FindToken = %v", err)
	}
}

func testListUsers(t *testing.T, st store.Store) {
	users, err := st.ListUsers(ctx(t))
	if err != nil || users == nil || len(users) != 0 {
		t.Fatalf("ListUsers of an empty store = %#v, %v; want an empty list", users, err)
	}
	for _, name := range []string{"carol", "alice", "bob"} {
		createUser(t, st, name, name == "bob")
	}
	users, err = st.ListUsers(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
		if u.Admin != (u.Name == "bob") {
			t.Errorf("%s admin = %v", u.Name, u.Admin)
		}
	}
	if strings.Join(names, ",") != "alice,bob,carol" {
		t.Errorf("ListUsers = %v, want alice,bob,carol", names)
	}
}

func testSetDisabled(t *testing.T, st store.Store) {
	alice := createUser(t, st, "alice", true)
	tok, _ := addToken(t, st, "alice")
	got, err := st.SetDisabled(ctx(t), "alice", true)
	if err != nil {
		t.Fatal(err)
	}
	want := alice
	want.Disabled = true
	if got != want {
		t.Fatalf("SetDisabled(true) = %+v, want %+v", got, want)
	}
	if u, err := st.GetUser(ctx(t), "alice"); err != nil || !u.Disabled {
		t.Fatalf("GetUser after disabling = %+v, %v", u, err)
	}
	// The token stays, and FindToken shows its user as disabled.
	stored, u := findToken(t, st, tok.Prefix())
	if !u.Disabled || !stored.Active(time.Now()) {
		t.Errorf("FindToken of a disabled user = %+v, %+v", stored, u)
	}
	// Disabling twice is no error.
	if _, err := st.SetDisabled(ctx(t), "alice", true); err != nil {
		t.Fatal(err)
	}
	got, err = st.SetDisabled(ctx(t), "alice", false)
	if err != nil || got != alice {
		t.Fatalf("SetDisabled(false) = %+v, %v; want %+v", got, err, alice)
	}
}

func testDeleteCascades(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	bob := createUser(t, st, "bob", false)
	a1, _ := addToken(t, st, "alice")
	a2, a2Stored := addToken(t, st, "alice")
	b1, _ := addToken(t, st, "bob")
	if err := st.RevokeToken(ctx(t), a2Stored.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx(t), "alice"); err != nil {
		t.Fatal(err)
	}
	_, err := st.GetUser(ctx(t), "alice")
	wantErr(t, "GetUser after delete", err, errs.NotFound, "")
	for _, tok := range []string{a1.Prefix(), a2.Prefix()} {
		_, _, err := st.FindToken(ctx(t), tok)
		wantErr(t, "FindToken of a deleted user's token", err, errs.NotFound, "")
	}
	wantErr(t, "RevokeToken of a deleted token", st.RevokeToken(ctx(t), a2Stored.ID), errs.NotFound, "")
	wantErr(t, "TouchToken of a deleted token", st.TouchToken(ctx(t), a2Stored.ID), errs.NotFound, "")
	// Other users keep theirs.
	if _, u := findToken(t, st, b1.Prefix()); u.ID != bob.ID {
		t.Errorf("bob's token now belongs to %+v", u)
	}
	wantErr(t, "DeleteUser again", st.DeleteUser(ctx(t), "alice"), errs.NotFound, "User alice does not exist.")
	// The name and the deleted tokens' prefixes can be used again; the new user is new.
	again := createUser(t, st, "alice", false)
	if len(listTokens(t, st, "alice")) != 0 {
		t.Error("a new user of a deleted user's name has tokens")
	}
	if _, err := st.AddToken(ctx(t), "alice", storeToken(a1)); err != nil {
		t.Fatalf("re-adding a deleted token's prefix: %v", err)
	}
	if _, u := findToken(t, st, a1.Prefix()); u.ID != again.ID {
		t.Errorf("token belongs to %+v, want the new alice %+v", u, again)
	}
	users, err := st.ListUsers(ctx(t))
	if err != nil || len(users) != 2 {
		t.Errorf("ListUsers = %+v, %v", users, err)
	}
}
