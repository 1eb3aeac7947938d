package postgres_test

import (
	"context"
	"github.com/jackc/pgx/v5"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
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

func TestRepeatedEventText(t *testing.T) {
	st, pool := openPool(t)
	defer st.Close()
	storetest.RepeatedEventText(t, st, func() (n int, err error) {
		err = pool.QueryRow(context.Background(), `SELECT count(*) FROM phase_events WHERE text = '' AND text_in_log`).Scan(&n)
		return n, err
	})
}

// TestDowngradeKeepsEventText takes the schema back to before migration 00016: events
// that kept their text in the log get a text of their fingerprint again.
func TestDowngradeKeepsEventText(t *testing.T) {
	ctx := context.Background()
	st, pool, url := openDatabase(t)
	defer st.Close()
	_, want := storetest.PutRepeatedLog(t, st)
	if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 15, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	rs, err := pool.Query(ctx, `SELECT text FROM phase_events ORDER BY line_no`)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckDowngradedText(t, want, texts)
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
	st, pool, url := openDatabase(t)
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
