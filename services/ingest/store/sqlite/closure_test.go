package sqlite_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

// migrated opens a migrated database file in a directory of its own, for the tests that
// also run SQL on it.
func migrated(t *testing.T) *db.SQLite { return sqlite.Migrated(t) }

func TestClosureBackfill(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.SQLite, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}
