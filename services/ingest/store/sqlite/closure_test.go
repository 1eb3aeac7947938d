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

func TestClosureBackfill(t *testing.T) {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.SQLite, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}
