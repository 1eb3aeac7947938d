package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/apitoken"
	"github.com/spackmon/spackmon/services/auth/store"
)

var tokenTests = []namedTest{
	{Name: "AddAndFind", Fn: testAddAndFind},
	{Name: "InvalidTokens", Fn: testInvalidTokens},
	{Name: "DuplicatePrefix", Fn: testDuplicatePrefix},
	{Name: "UnknownToken", Fn: testUnknownToken},
	{Name: "Touch", Fn: testTouch},
	{Name: "Revoke", Fn: testRevoke},
	{Name: "Expiry", Fn: testExpiry},
	{Name: "RevokeUserTokens", Fn: testRevokeUserTokens},
	{Name: "Rotate", Fn: testRotate},
	{Name: "RotateIsAtomic", Fn: testRotateIsAtomic},
	{Name: "IDsNeverReused", Fn: testTokenIDsNeverReused},
}

// A token id is never handed out twice, even once the newest token is gone with its user:
// the revocation list names revoked tokens by id, and would refuse the new one.
func testTokenIDsNeverReused(t *testing.T, st store.Store) {
	createUser(t, st, "dave", false)
	_, first := addToken(t, st, "dave")
	if err := st.RevokeToken(ctx(t), first.ID); err != nil {
		t.Fatal(err)
	}
	_, second := addToken(t, st, "dave")
	if err := st.DeleteUser(ctx(t), "dave"); err != nil {
		t.Fatal(err)
	}
	createUser(t, st, "erin", false)
	_, third := addToken(t, st, "erin")
	if third.ID == first.ID || third.ID == second.ID {
		t.Errorf("erin's token has id %d; dave's had %d and %d", third.ID, first.ID, second.ID)
	}
}

func storeToken(tok apitoken.Token) store.NewToken {
	return store.NewToken{Prefix: tok.Prefix(), Hash: tok.Hash()}
}

func testAddAndFind(t *testing.T, st store.Store) {
	alice := createUser(t, st, "alice", true)
	createUser(t, st, "bob", false)
	if got := listTokens(t, st, "alice"); got == nil || len(got) != 0 {
		t.Fatalf("ListTokens of a user without tokens = %#v, want an empty list", got)
	}
	before := time.Now()
	tok, added := addToken(t, st, "alice")
	after := time.Now()
	if added.ID == 0 || added.UserID != alice.ID || added.Prefix != tok.Prefix() || !bytes.Equal(added.Hash, tok.Hash()) {
		t.Fatalf("AddToken = %+v", added)
	}
	window(t, "created_at", added.CreatedAt, before, after)
	if !added.ExpiresAt.IsZero() || !added.LastUsedAt.IsZero() || !added.RevokedAt.IsZero() || !added.Active(time.Now()) {
		t.Errorf("a new token without expiry = %+v", added)
	}

	// What a sign-in does: parse the presented token, find it by prefix, verify the hash.
	presented, err := apitoken.Parse(tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	found, u := findToken(t, st, presented.Prefix())
	if !tokensEqual(found, added) || u != alice {
		t.Fatalf("FindToken = %+v, %+v; want %+v, %+v", found, u, added, alice)
	}
	if !presented.Verify(found.Hash) {
		t.Fatal("the stored hash does not verify the token")
	}
	// Nothing stored is the token in clear.
	if bytes.Contains(found.Hash, []byte(tok.Reveal())) {
		t.Fatal("the token is stored in clear")
	}

	// Several tokens per user, listed oldest first; another user's tokens are not listed.
	_, second := addToken(t, st, "alice")
	addToken(t, st, "bob")
	list := listTokens(t, st, "alice")
	if len(list) != 2 || !tokensEqual(list[0], added) || !tokensEqual(list[1], second) {
		t.Fatalf("ListTokens(alice) = %+v", list)
	}
	if len(listTokens(t, st, "bob")) != 1 {
		t.Fatal("bob's tokens are wrong")
	}
}

func testInvalidTokens(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	hash := make([]byte, 32)
	for name, nt := range map[string]store.NewToken{
		"no prefix":     {Hash: hash},
		"long prefix":   {Prefix: string(bytes.Repeat([]byte("a"), 65)), Hash: hash},
		"no hash":       {Prefix: "abc"},
		"hash too long": {Prefix: "abc", Hash: make([]byte, 65)},
	} {
		_, err := st.AddToken(ctx(t), "alice", nt)
		wantErr(t, "AddToken("+name+")", err, errs.BadRequest, "")
		_, err = st.RotateToken(ctx(t), "alice", nt)
		wantErr(t, "RotateToken("+name+")", err, errs.BadRequest, "")
	}
	if len(listTokens(t, st, "alice")) != 0 {
		t.Error("an invalid token was stored")
	}
}

func testDuplicatePrefix(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	createUser(t, st, "bob", false)
	tok, first := addToken(t, st, "alice")
	other, _ := newToken(t)
	// Same prefix, another hash, for another user: refused, and the first one is intact.
	_, err := st.AddToken(ctx(t), "bob", store.NewToken{Prefix: tok.Prefix(), Hash: other.Hash()})
	wantErr(t, "AddToken with a taken prefix", err, errs.BadRequest, "A token with this prefix already exists.")
	// A revoked token's prefix stays taken.
	if err := st.RevokeToken(ctx(t), first.ID); err != nil {
		t.Fatal(err)
	}
	_, err = st.AddToken(ctx(t), "alice", store.NewToken{Prefix: tok.Prefix(), Hash: other.Hash()})
	wantErr(t, "AddToken with a revoked token's prefix", err, errs.BadRequest, "")
	found, u := findToken(t, st, tok.Prefix())
	if u.Name != "alice" || !bytes.Equal(found.Hash, tok.Hash()) {
		t.Errorf("the first token changed: %+v of %s", found, u.Name)
	}
	if len(listTokens(t, st, "bob")) != 0 {
		t.Error("bob got a token")
	}
}

func testUnknownToken(t *testing.T, st store.Store) {
	_, _, err := st.FindToken(ctx(t), "000000000000")
	wantErr(t, "FindToken", err, errs.NotFound, "No token has this prefix.")
	wantErr(t, "TouchToken", st.TouchToken(ctx(t), 12345), errs.NotFound, "Token 12345 does not exist.")
	wantErr(t, "RevokeToken", st.RevokeToken(ctx(t), 12345), errs.NotFound, "Token 12345 does not exist.")
}

func testTouch(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	tok, added := addToken(t, st, "alice")
	_, other := addToken(t, st, "alice")
	before := time.Now()
	if err := st.TouchToken(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	found, _ := findToken(t, st, tok.Prefix())
	window(t, "last_used_at", found.LastUsedAt, before, after)
	time.Sleep(2 * time.Millisecond)
	if err := st.TouchToken(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	again, _ := findToken(t, st, tok.Prefix())
	if !again.LastUsedAt.After(found.LastUsedAt) {
		t.Errorf("last_used_at went from %v to %v", found.LastUsedAt, again.LastUsedAt)
	}
	// Only that token was touched.
	for _, l := range listTokens(t, st, "alice") {
		if l.ID == other.ID && !l.LastUsedAt.IsZero() {
			t.Error("touching one token touched another")
		}
	}
}

func testRevoke(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	tok, added := addToken(t, st, "alice")
	keep, _ := addToken(t, st, "alice")
	before := time.Now()
	if err := st.RevokeToken(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	found, u := findToken(t, st, tok.Prefix())
	if u.Name != "alice" || !found.Revoked() || found.Active(time.Now()) {
		t.Fatalf("a revoked token = %+v", found)
	}
	window(t, "revoked_at", found.RevokedAt, before, after)
	// Revoking again is no error and keeps the first time.
	time.Sleep(2 * time.Millisecond)
	if err := st.RevokeToken(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := findToken(t, st, tok.Prefix()); !again.RevokedAt.Equal(found.RevokedAt) {
		t.Errorf("revoked_at moved from %v to %v", found.RevokedAt, again.RevokedAt)
	}
	// Touching a revoked token is no error (the service decides what to refuse).
	if err := st.TouchToken(ctx(t), added.ID); err != nil {
		t.Fatal(err)
	}
	if other, _ := findToken(t, st, keep.Prefix()); !other.Active(time.Now()) {
		t.Error("revoking one token revoked another")
	}
}

func testExpiry(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	now := time.Now()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	// A time in another zone, with nanoseconds: stored as the same instant at the
	// stores' precision (microseconds).
	zone := time.FixedZone("x", 5*3600)
	for _, expires := range []time.Time{past, future.In(zone)} {
		tok, nt := newToken(t)
		nt.ExpiresAt = expires
		added, err := st.AddToken(ctx(t), "alice", nt)
		if err != nil {
			t.Fatal(err)
		}
		found, _ := findToken(t, st, tok.Prefix())
		want := expires.UTC().Truncate(time.Microsecond)
		if !found.ExpiresAt.Equal(want) || found.ExpiresAt.Location() != time.UTC || !added.ExpiresAt.Equal(want) {
			t.Errorf("expires_at = %v (added %v), want %v", found.ExpiresAt, added.ExpiresAt, want)
		}
		if found.Revoked() {
			t.Error("an expiring token is revoked")
		}
		expired := expires.Equal(past)
		if found.Expired(now) != expired || found.Active(now) == expired {
			t.Errorf("token expiring at %v: Expired(now) = %v, Active(now) = %v", expires, found.Expired(now), found.Active(now))
		}
		if !found.Expired(future.Add(time.Second)) || found.Active(future.Add(time.Second)) {
			t.Error("a token is active after its expiry")
		}
	}
}

func testRevokeUserTokens(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	createUser(t, st, "bob", false)
	var prefixes []string
	for range 3 {
		tok, _ := addToken(t, st, "alice")
		prefixes = append(prefixes, tok.Prefix())
	}
	first, _ := findToken(t, st, prefixes[0])
	if err := st.RevokeToken(ctx(t), first.ID); err != nil {
		t.Fatal(err)
	}
	first, _ = findToken(t, st, prefixes[0])
	bobs, _ := addToken(t, st, "bob")
	n, err := st.RevokeUserTokens(ctx(t), "alice")
	if err != nil || n != 2 {
		t.Fatalf("RevokeUserTokens = %d, %v; want 2", n, err)
	}
	for _, l := range listTokens(t, st, "alice") {
		if !l.Revoked() {
			t.Errorf("token %d is not revoked", l.ID)
		}
		if l.ID == first.ID && !l.RevokedAt.Equal(first.RevokedAt) {
			t.Error("an already revoked token's revoked_at moved")
		}
	}
	if found, _ := findToken(t, st, bobs.Prefix()); found.Revoked() {
		t.Error("bob's token was revoked")
	}
	if n, err := st.RevokeUserTokens(ctx(t), "alice"); err != nil || n != 0 {
		t.Errorf("RevokeUserTokens again = %d, %v; want 0", n, err)
	}
	if n, err := st.RevokeUserTokens(ctx(t), "bob"); err != nil || n != 1 {
		t.Errorf("RevokeUserTokens(bob) = %d, %v; want 1", n, err)
	}
}

func testRotate(t *testing.T, st store.Store) {
	alice := createUser(t, st, "alice", false)
	createUser(t, st, "bob", false)
	old1, _ := addToken(t, st, "alice")
	old2, _ := addToken(t, st, "alice")
	bobs, _ := addToken(t, st, "bob")
	fresh, nt := newToken(t)
	nt.ExpiresAt = time.Now().Add(24 * time.Hour)
	rotated, err := st.RotateToken(ctx(t), "alice", nt)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.UserID != alice.ID || rotated.Prefix != fresh.Prefix() || rotated.Revoked() || !rotated.Active(time.Now()) ||
		!rotated.ExpiresAt.Equal(nt.ExpiresAt.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("RotateToken = %+v", rotated)
	}
	for _, old := range []apitoken.Token{old1, old2} {
		if found, _ := findToken(t, st, old.Prefix()); !found.Revoked() {
			t.Errorf("old token %d still active after rotation", found.ID)
		}
	}
	found, u := findToken(t, st, fresh.Prefix())
	if !tokensEqual(found, rotated) || u != alice || !fresh.Verify(found.Hash) {
		t.Errorf("FindToken(new) = %+v, %+v", found, u)
	}
	if found, _ := findToken(t, st, bobs.Prefix()); found.Revoked() {
		t.Error("rotating alice's token revoked bob's")
	}
	// A user without tokens can rotate too.
	createUser(t, st, "carol", false)
	_, nt = newToken(t)
	if _, err := st.RotateToken(ctx(t), "carol", nt); err != nil {
		t.Fatal(err)
	}
	if l := listTokens(t, st, "carol"); len(l) != 1 || !l[0].Active(time.Now()) {
		t.Errorf("carol's tokens = %+v", l)
	}
}

// A rotation whose new token is refused revokes nothing.
func testRotateIsAtomic(t *testing.T, st store.Store) {
	createUser(t, st, "alice", false)
	createUser(t, st, "bob", false)
	old, _ := addToken(t, st, "alice")
	taken, _ := addToken(t, st, "bob")
	other, _ := newToken(t)
	_, err := st.RotateToken(ctx(t), "alice", store.NewToken{Prefix: taken.Prefix(), Hash: other.Hash()})
	wantErr(t, "RotateToken with a taken prefix", err, errs.BadRequest, "A token with this prefix already exists.")
	if found, _ := findToken(t, st, old.Prefix()); !found.Active(time.Now()) {
		t.Error("a failed rotation revoked the old token")
	}
	if l := listTokens(t, st, "alice"); len(l) != 1 {
		t.Errorf("alice has %d tokens after a failed rotation", len(l))
	}
}

// tokensEqual compares tokens field by field, times as instants.
func tokensEqual(a, b store.Token) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Prefix == b.Prefix && bytes.Equal(a.Hash, b.Hash) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) &&
		a.LastUsedAt.Equal(b.LastUsedAt) && a.RevokedAt.Equal(b.RevokedAt)
}
