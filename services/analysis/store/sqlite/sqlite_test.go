package sqlite_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/sqlitetest"
	"github.com/spackmon/spackmon/services/analysis/migrations"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/sqlite"
	"github.com/spackmon/spackmon/services/analysis/store/storetest"
)

// openDB makes a migrated database file in a directory of its own.
func openDB(tb testing.TB) (*sqlite.Store, *db.SQLite) {
	sq := sqlitetest.Open(tb, "analysis", "analysis.db", func(sq *db.SQLite) error {
		return db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
			db.WithVersionTable(migrations.VersionTable))
	})
	return sqlite.New(sq), sq
}

func TestMain(m *testing.M) { sqlitetest.Main(m) }

func open(tb testing.TB) store.Store { st, _ := openDB(tb); return st }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }

// The migrations keep their own version table, and running them again changes nothing.
func TestMigrationsVersionTable(t *testing.T) {
	st, sq := openDB(t)
	defer st.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	var version int64
	if err := sq.Read.QueryRow("SELECT max(version_id) FROM analysis_schema_version").Scan(&version); err != nil || version != 3 {
		t.Fatalf("analysis_schema_version = %d, %v", version, err)
	}
}

// A value that slips past the store's checks is still refused by the schema, as the
// caller's error naming the column.
func TestSchemaChecksAreBadRequest(t *testing.T) {
	st, sq := openDB(t)
	defer st.Close()
	_, err := sq.Write.Exec("INSERT INTO analysis_install_files (build_id, path) VALUES (1, '')")
	err = db.SQLiteError(err, db.NewSQLiteSchema(migrations.SQLite))
	if !errs.Is(err, errs.BadRequest) || err.Error() != "A value is too long or invalid (analysis_install_files.path)." {
		t.Fatalf("empty path = %v", err)
	}
}

// A closed database answers errs.Unavailable, not a failure of the request.
func TestClosedDatabaseIsUnavailable(t *testing.T) {
	st, _ := openDB(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.GetAttribute(ctx, 1); !errs.Is(err, errs.Unavailable) {
		t.Errorf("GetAttribute = %v, want Unavailable", err)
	}
	if _, err := st.Record(ctx, 1, store.Analysis{ConfigArgs: new(string)}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("Record = %v, want Unavailable", err)
	}
}

// What was recorded survives the schema taken down to its first version and up again.
func TestMigrationsKeepRecords(t *testing.T) {
	st, sq := openDB(t)
	defer st.Close()
	ctx := context.Background()
	storetest.KeepsRecords(t, st, func() error {
		if err := db.MigrateDownTo(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, 1, db.WithVersionTable(migrations.VersionTable)); err != nil {
			return err
		}
		return db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable))
	})
}
