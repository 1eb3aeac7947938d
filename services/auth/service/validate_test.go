package service

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/signing"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/sqlite"
)

// newTestServer is a realm on a fresh SQLite database.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	ctx := context.Background()
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	t.Cleanup(func() { _ = st.Close() })
	key, err := signing.GenerateEd25519()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signing.NewKeySet(key, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return New(st, keys, Config{Issuer: "http://realm/auth/token/", Service: "http://realm"}, slog.New(slog.DiscardHandler))
}

// A name no user could sign in with is refused before anything is stored, with the reason.
func TestAddRefusesUnusableNames(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	for name, want := range map[string]string{
		"":          "A user name is required.",
		"a:b":       "A user name cannot contain a colon.",
		"a b":       "A user name cannot contain spaces or control characters.",
		" alice":    "A user name cannot contain spaces or control characters.",
		"alice\n":   "A user name cannot contain spaces or control characters.",
		"tab\there": "A user name cannot contain spaces or control characters.",
		"nul\x00":   "A user name cannot contain spaces or control characters.",
		"\xff\xfe":  "A user name must be valid UTF-8.",
		strings.Repeat("a", store.MaxNameLength+1): "A user name is at most 150 bytes long.",
		"deleted-user-7": "Names starting with deleted-user- are reserved: they show the builds of deleted accounts.",
		"anonymous":      "The name anonymous is reserved: it owns what is written while authentication is disabled.",
	} {
		_, _, err := s.users.Add(ctx, name, false)
		if !errs.Is(err, errs.BadRequest) || err.Error() != want {
			t.Errorf("Add(%q) = %v; want BadRequest %q", name, err, want)
		}
	}
	if users, err := s.users.List(ctx); err != nil || len(users) != 0 {
		t.Errorf("List = %v, %v; want no user", users, err)
	}
	for _, err := range []error{
		s.users.Delete(ctx, strings.Repeat("a", 1000)),
		func() error { _, err := s.users.Rotate(ctx, ""); return err }(),
	} {
		if !errs.Is(err, errs.BadRequest) {
			t.Errorf("a look-up by an impossible name = %v; want BadRequest", err)
		}
	}
}
