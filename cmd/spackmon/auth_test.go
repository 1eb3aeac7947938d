package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/spackmon/spackmon/pkg/signing"
)

// realmKey is the key the test server signs with.
func realmKey(t testing.TB, srv *testServer) *signing.Key {
	t.Helper()
	k, err := signing.LoadFile(filepath.Join(srv.db.DataDir, signing.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claimsOf reads the claims of one of the server's tokens without checking them.
func claimsOf(t testing.TB, tok string) *signing.Claims {
	t.Helper()
	var c signing.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// expiredCopy is tok as the realm would have signed it two hours ago, expired an hour ago:
// a genuine token past its lifetime and the leeway.
func expiredCopy(t testing.TB, srv *testServer, tok string) string {
	t.Helper()
	c := claimsOf(t, tok)
	old, err := signing.NewClaims(c.Issuer, c.Subject, c.Audience[0], c.Access, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out, err := realmKey(t, srv).Sign(old)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
