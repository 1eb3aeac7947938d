package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/store"
)

var identityTests = []namedTest{
	{Name: "FirstLoginCreatesUser", Fn: testFirstLoginCreatesUser},
	{Name: "NameTakenTriesNext", Fn: testNameTakenTriesNext},
	{Name: "LinkByVerifiedEmailOnly", Fn: testLinkByVerifiedEmailOnly},
	{Name: "DeleteUserDropsIdentities", Fn: testDeleteUserDropsIdentities},
	{Name: "ConcurrentFirstLogins", Fn: testConcurrentFirstLogins},
	{Name: "SessionsAreNotAPITokens", Fn: testSessionsAreNotAPITokens},
	{Name: "ExpiredSessionsGo", Fn: testExpiredSessionsGo},
}

// A new session removes the user's expired ones, and only those.
func testExpiredSessionsGo(t *testing.T, st store.Store) {
	createUser(t, st, "hal", false)
	createUser(t, st, "ida", false)
	session := func(user string, expires time.Time) string {
		t.Helper()
		_, nt := newToken(t)
		nt.Session, nt.ExpiresAt = true, expires
		if _, err := st.AddToken(ctx(t), user, nt); err != nil {
			t.Fatal(err)
		}
		return nt.Prefix
	}
	expired := session("hal", time.Now().Add(-time.Minute))
	live := session("hal", time.Now().Add(time.Hour))
	others := session("ida", time.Now().Add(-time.Minute))
	_, apiToken := addToken(t, st, "hal")
	session("hal", time.Now().Add(time.Hour))
	if _, _, err := st.FindToken(ctx(t), expired); !errs.Is(err, errs.NotFound) {
		t.Errorf("the expired session: %v, want it gone", err)
	}
	for _, prefix := range []string{live, others, apiToken.Prefix} {
		findToken(t, st, prefix)
	}
}

func login(t testing.TB, st store.Store, id store.NewIdentity, names ...string) (store.User, bool) {
	t.Helper()
	u, created, err := st.LoginIdentity(ctx(t), id, names)
	if err != nil {
		t.Fatalf("LoginIdentity(%s %s): %v", id.Provider, id.Subject, err)
	}
	return u, created
}

// A new identity makes a user; logging in again finds the same one, created false, and the
// identity is listed with what the provider said last.
func testFirstLoginCreatesUser(t *testing.T, st store.Store) {
	id := store.NewIdentity{Provider: "github", Subject: "42", Email: "a@example.org"}
	u, created := login(t, st, id, "alice")
	if !created || u.Name != "alice" || u.ID == 0 || u.Admin || u.Disabled {
		t.Fatalf("first login = %+v, created %v", u, created)
	}
	id.EmailVerified = true
	again, created := login(t, st, id, "other")
	if created || again.ID != u.ID || again.Name != "alice" {
		t.Fatalf("second login = %+v, created %v; want alice again", again, created)
	}
	ids, err := st.ListIdentities(ctx(t), u.ID)
	if err != nil || len(ids) != 1 {
		t.Fatalf("ListIdentities = %v, %v", ids, err)
	}
	if i := ids[0]; i.Provider != "github" || i.Subject != "42" || i.Email != "a@example.org" || !i.EmailVerified || i.UserID != u.ID || i.CreatedAt.IsZero() {
		t.Errorf("identity = %+v", i)
	}
	if ids, err := st.ListIdentities(ctx(t), u.ID+1000); err != nil || len(ids) != 0 {
		t.Errorf("ListIdentities(unknown user) = %v, %v; want none", ids, err)
	}
}

// A taken name is skipped for the next candidate; when all are taken, nothing is stored.
func testNameTakenTriesNext(t *testing.T, st store.Store) {
	createUser(t, st, "bob", false)
	u, created := login(t, st, store.NewIdentity{Provider: "github", Subject: "7"}, "bob", "bob-2")
	if !created || u.Name != "bob-2" {
		t.Fatalf("login = %+v, %v; want a new bob-2", u, created)
	}
	_, _, err := st.LoginIdentity(ctx(t), store.NewIdentity{Provider: "github", Subject: "8"}, []string{"bob", "bob-2"})
	wantErr(t, "LoginIdentity with every name taken", err, errs.BadRequest, "")
	if users, err := st.ListUsers(ctx(t)); err != nil || len(users) != 2 {
		t.Errorf("ListUsers = %v, %v; want bob and bob-2 only", users, err)
	}
}

// Another provider's identity joins the user of a known identity only when both addresses
// are verified; an unverified address, on either side, makes a user of its own.
func testLinkByVerifiedEmailOnly(t *testing.T, st store.Store) {
	gh, _ := login(t, st, store.NewIdentity{Provider: "github", Subject: "1", Email: "c@example.org", EmailVerified: true}, "carol")
	unverified, created := login(t, st, store.NewIdentity{Provider: "https://idp.example", Subject: "u1", Email: "c@example.org"}, "carol", "carol-2")
	if !created || unverified.ID == gh.ID {
		t.Fatalf("an unverified address linked to %+v", unverified)
	}
	linked, created := login(t, st, store.NewIdentity{Provider: "https://idp.example", Subject: "u2", Email: "c@example.org", EmailVerified: true}, "x")
	if created || linked.ID != gh.ID {
		t.Fatalf("verified login = %+v, created %v; want carol linked", linked, created)
	}
	// A verified address that only an unverified identity has links to nothing.
	login(t, st, store.NewIdentity{Provider: "github", Subject: "2", Email: "d@example.org"}, "dave")
	d2, created := login(t, st, store.NewIdentity{Provider: "https://idp.example", Subject: "u3", Email: "d@example.org", EmailVerified: true}, "dave", "dave-2")
	if !created || d2.Name != "dave-2" {
		t.Fatalf("linked through an unverified address: %+v", d2)
	}
	ids, err := st.ListIdentities(ctx(t), gh.ID)
	if err != nil || len(ids) != 2 || ids[0].Provider != "github" || ids[1].Subject != "u2" {
		t.Errorf("carol's identities = %+v, %v", ids, err)
	}
}

// Deleting a user forgets its identities: logging in with one makes a new user.
func testDeleteUserDropsIdentities(t *testing.T, st store.Store) {
	id := store.NewIdentity{Provider: "github", Subject: "9"}
	u, _ := login(t, st, id, "erin")
	if err := st.DeleteUser(ctx(t), "erin"); err != nil {
		t.Fatal(err)
	}
	again, created := login(t, st, id, "erin")
	if !created || again.ID == u.ID {
		t.Fatalf("after delete, login = %+v, created %v; want a new user", again, created)
	}
}

// Many first logins of one identity at once make one user.
func testConcurrentFirstLogins(t *testing.T, st store.Store) {
	const n = 8
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, _, err := st.LoginIdentity(ctx(t), store.NewIdentity{Provider: "github", Subject: "77"}, []string{"frank", "frank-2", "frank-3"})
			if err != nil {
				t.Errorf("login %d: %v", i, err)
			}
			ids[i] = u.ID
		})
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("logins got users %v; want one", ids)
		}
	}
	if users, err := st.ListUsers(ctx(t)); err != nil || len(users) != 1 {
		t.Errorf("ListUsers = %v, %v; want one user", users, err)
	}
}

// A session row is not an API token: rotating and revoking the user's API tokens leave it,
// and they are not listed; revoking it by id works like an API token's.
func testSessionsAreNotAPITokens(t *testing.T, st store.Store) {
	createUser(t, st, "gina", false)
	_, nt := newToken(t)
	nt.Session = true
	session, err := st.AddToken(ctx(t), "gina", nt)
	if err != nil {
		t.Fatal(err)
	}
	addToken(t, st, "gina")
	if tokens := listTokens(t, st, "gina"); len(tokens) != 1 || tokens[0].ID == session.ID {
		t.Fatalf("ListTokens = %+v; want the API token only", tokens)
	}
	_, rotated := newToken(t)
	if _, err := st.RotateToken(ctx(t), "gina", rotated); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RevokeUserTokens(ctx(t), "gina"); err != nil || n != 1 {
		t.Errorf("RevokeUserTokens = %d, %v; want the rotated API token only", n, err)
	}
	if found, _ := findToken(t, st, nt.Prefix); found.Revoked() {
		t.Fatal("rotating or revoking API tokens revoked the session")
	}
	if err := st.RevokeToken(ctx(t), session.ID); err != nil {
		t.Fatal(err)
	}
	if found, _ := findToken(t, st, nt.Prefix); !found.Revoked() {
		t.Error("the session is not revoked")
	}
}
