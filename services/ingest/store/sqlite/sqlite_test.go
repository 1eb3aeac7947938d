package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

// open makes a migrated database file in a directory of its own.
func open(tb testing.TB) store.Store {
	sq, err := db.OpenSQLite(filepath.Join(tb.TempDir(), "ingest.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		sq.Close()
		tb.Fatal(err)
	}
	return sqlite.New(sq)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }

// A database that cannot be used answers errs.Unavailable (503), not a failure of the
// request.
func TestClosedDatabaseIsUnavailable(t *testing.T) {
	st := open(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.ListBuilds(ctx, store.BuildQuery{}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("ListBuilds = %v, want Unavailable", err)
	}
	if _, err := st.UpdatePhase(ctx, store.Actor{Name: "alice"}, store.PhaseUpdate{BuildID: 1, Name: "b", Status: "SUCCESS"}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("UpdatePhase = %v, want Unavailable", err)
	}
}

// A database file that cannot be opened answers errs.Unavailable.
func TestUnopenableDatabaseIsUnavailable(t *testing.T) {
	dir := t.TempDir()
	sq, err := db.OpenSQLite(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	// The directory goes; new connections cannot open the file.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	sq.Read.SetMaxIdleConns(0)
	_, err = st.ListBuilds(context.Background(), store.BuildQuery{})
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("ListBuilds = %v, want Unavailable", err)
	}
}
