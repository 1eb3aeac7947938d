package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/sqlite"
	"github.com/spackmon/spackmon/services/auth/store/storetest"
)

// open makes a migrated database file in a directory of its own.
func open(tb testing.TB) (*sqlite.Store, *db.SQLite) {
	sq, err := db.OpenSQLite(filepath.Join(tb.TempDir(), "auth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		sq.Close()
		tb.Fatal(err)
	}
	return sqlite.New(sq), sq
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { st, _ := open(t); return st })
}

// The migrations keep their own version table, and running them again changes nothing.
func TestMigrationsVersionTable(t *testing.T) {
	st, sq := open(t)
	defer st.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	var version int64
	if err := sq.Read.QueryRow("SELECT max(version_id) FROM auth_schema_version").Scan(&version); err != nil || version != 1 {
		t.Fatalf("auth_schema_version = %d, %v", version, err)
	}
}

// A closed database answers errs.Unavailable, not a failure of the request.
func TestClosedDatabaseIsUnavailable(t *testing.T) {
	st, _ := open(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.GetUser(ctx, "alice"); !errs.Is(err, errs.Unavailable) {
		t.Errorf("GetUser = %v, want Unavailable", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("CreateUser = %v, want Unavailable", err)
	}
}
