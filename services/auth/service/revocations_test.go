package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/signing"
	authv1 "github.com/spackmon/spackmon/proto/spackmon/auth/v1"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store/sqlite"
)

// The realm publishes the revocations of the last token lifetime plus the leeway, and forgets
// older ones: no token they could revoke is still accepted.
func TestGetRevocationsWindow(t *testing.T) {
	ctx := context.Background()
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	key, err := signing.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signing.NewKeySet(key, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// Web sessions last 20 minutes here, longer than realm tokens: a revocation is published
	// as long as the longer of the two may still be valid.
	s := New(st, keys, Config{Issuer: "http://realm/auth/token/", Service: "http://realm", WebSessionTTL: 20 * time.Minute},
		slog.New(slog.DiscardHandler))
	u, _, err := s.users.Add(ctx, "carol", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.users.SetDisabled(ctx, "carol", true); err != nil {
		t.Fatal(err)
	}
	list := func() []*authv1.Revocation {
		t.Helper()
		r, err := s.GetRevocations(ctx, &authv1.GetRevocationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetRevocations()
	}
	if rs := list(); len(rs) != 1 || rs[0].GetUserId() != u.ID || rs[0].GetApiTokenId() != 0 {
		t.Fatalf("after a disable: %v", rs)
	}
	// Within the lifetime and leeway it is still listed; past them it is gone, and pruned.
	s.now = func() time.Time { return time.Now().Add(20*time.Minute + signing.Leeway - 5*time.Second) }
	if rs := list(); len(rs) != 1 {
		t.Errorf("within the window: %v", rs)
	}
	s.now = func() time.Time { return time.Now().Add(20*time.Minute + signing.Leeway + pruneEvery) }
	if rs := list(); len(rs) != 0 {
		t.Errorf("past the window: %v", rs)
	}
	if left, err := st.ListRevocations(ctx, time.Time{}); err != nil || len(left) != 0 {
		t.Errorf("not pruned: %v, %v", left, err)
	}
}
