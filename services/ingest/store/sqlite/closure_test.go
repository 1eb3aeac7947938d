package sqlite_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestClosureBackfill(t *testing.T) {
	sq := sqlite.Migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.SQLite, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}
