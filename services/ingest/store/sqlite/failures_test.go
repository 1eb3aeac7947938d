package sqlite_test

import (
	"context"
	"strings"
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
	}, `UPDATE phase_events SET fingerprint = NULL`)
}

func TestRepeatedEventText(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.RepeatedEventText(t, st, func() (n int, err error) {
		err = sq.Write.QueryRowContext(context.Background(), `SELECT count(*) FROM phase_events WHERE text = '' AND text_in_log`).Scan(&n)
		return n, err
	})
}

// TestContextKeptWithText: an event keeps its text in the log only while it keeps its
// context there.
func TestContextKeptWithText(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.PutRepeatedLog(t, st)
	_, err := sq.Write.ExecContext(context.Background(), `UPDATE phase_events SET context_in_log = 0`)
	if err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") {
		t.Fatalf("an event without its context in the log kept its text there: %v", err)
	}
	// The store's answer names the column.
	if got, want := db.SQLiteError(err, db.NewSQLiteSchema(migrations.SQLite)).Error(), "(phase_events.text_in_log)"; !strings.Contains(got, want) {
		t.Errorf("the refusal reads %q, want it to name %s", got, want)
	}
}

// TestDowngradeKeepsEventText takes the schema back to before migration 00019: events
// that kept their text in the log get a text of their fingerprint again.
func TestDowngradeKeepsEventText(t *testing.T) {
	ctx := context.Background()
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	_, want := storetest.PutRepeatedLog(t, st)
	if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, 18, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	rs, err := sq.Write.QueryContext(ctx, `SELECT text FROM phase_events ORDER BY line_no`)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for rs.Next() {
		var s string
		if err := rs.Scan(&s); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, s)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckDowngradedText(t, want, texts)
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

func TestHoldWithoutConnection(t *testing.T) {
	sq := migrated(t)
	st := sqlite.New(sq)
	defer st.Close()
	storetest.HoldWithoutConnection(t, st, func() int { return sq.Read.Stats().InUse })
}
