package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

// migrated opens a migrated database file in a directory of its own, for the tests that
// also run SQL on it.
func migrated(t *testing.T) *db.SQLite {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	return sq
}

func TestClosureBackfill(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.SQLite, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}
