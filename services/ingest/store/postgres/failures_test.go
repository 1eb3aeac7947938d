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
	pool, err := db.OpenPostgres(context.Background(), pgtest.NewDatabase(t, "ingest", migrate))
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.Backfill(t, st, func(q string) error {
		_, err := pool.Exec(context.Background(), q)
		return err
	})
}

func TestFailureRollup(t *testing.T) {
	pool, err := db.OpenPostgres(context.Background(), pgtest.NewDatabase(t, "ingest", migrate))
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(context.Background(), `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, nil)
}

// TestUpgradeRollsUpFailures reports failures on a database before migration 00009, which
// then rolls them up.
func TestUpgradeRollsUpFailures(t *testing.T) {
	ctx := context.Background()
	older, err := storetest.MigrationsBefore(migrations.Postgres, "00009")
	if err != nil {
		t.Fatal(err)
	}
	url := pgtest.NewDatabase(t, "ingest-v8", func(ctx context.Context, url string) error {
		return db.MigratePostgres(ctx, url, older, db.WithVersionTable(migrations.VersionTable))
	})
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.FailureRollup(t, st, func(id int64, at time.Time) error {
		_, err := pool.Exec(ctx, `UPDATE builds SET created_at = $2 WHERE id = $1`, id, at)
		return err
	}, func() error { return migrate(ctx, url) })
}
