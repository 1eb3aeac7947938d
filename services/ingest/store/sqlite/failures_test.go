package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestBackfillFingerprints(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.Backfill(t, st, func(q string) error {
		_, err := sq.Write.ExecContext(context.Background(), q)
		return err
	})
}

func TestFailureRollup(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := sq.Write.ExecContext(context.Background(), `UPDATE builds SET created_at = ? WHERE id = ?`,
			at.UTC().Format("2006-01-02T15:04:05.000000Z"), id)
		return err
	}, nil)
}

// TestUpgradeRollsUpFailures reports failures, takes the schema back to before migration
// 00009 (dropping the rollup) and migrates again: 00009's backfill must roll them up.
func TestUpgradeRollsUpFailures(t *testing.T) {
	ctx := context.Background()
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := sq.Write.ExecContext(ctx, `UPDATE builds SET created_at = ? WHERE id = ?`, at.UTC().Format("2006-01-02T15:04:05.000000Z"), id)
		return err
	}, func() error {
		if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, 8, db.WithVersionTable(migrations.VersionTable)); err != nil {
			return err
		}
		return db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable))
	})
}
