package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestBackfillFingerprints(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.Backfill(t, st, func(q string) error {
		_, err := pool.Exec(context.Background(), q)
		return err
	})
}

func TestFailureRollup(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(context.Background(), `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, nil)
}

// TestUpgradeRollsUpFailures reports failures, takes the schema back to before migration
// 00009 (dropping the rollup) and migrates again: 00009's backfill must roll them up.
func TestUpgradeRollsUpFailures(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "ingest", migrate)
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(ctx, `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, func() error {
		if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 8, db.WithVersionTable(migrations.VersionTable)); err != nil {
			return err
		}
		return migrate(ctx, url)
	})
}
