package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
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
