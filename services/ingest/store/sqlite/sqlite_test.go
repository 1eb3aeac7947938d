package sqlite_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

// open makes a migrated database file in a directory of its own.
func open(tb testing.TB) store.Store { return sqlite.New(sqlite.Migrated(tb)) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }

// A database that cannot be used answers errs.Unavailable (503), not a failure of the
// request.
func TestClosedDatabaseIsUnavailable(t *testing.T) {
	st := open(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.ListBuilds(ctx, store.BuildQuery{}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("ListBuilds = %v, want Unavailable", err)
	}
	if _, err := st.UpdatePhase(ctx, store.Actor{Name: "alice"}, store.PhaseUpdate{BuildID: 1, Name: "b", Status: "SUCCESS"}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("UpdatePhase = %v, want Unavailable", err)
	}
}

// A database file that cannot be opened answers errs.Unavailable.
func TestUnopenableDatabaseIsUnavailable(t *testing.T) {
	dir := t.TempDir()
	sq, err := db.OpenSQLite(filepath.Join(dir, "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	// The directory goes; new connections cannot open the file.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	sq.Read.SetMaxIdleConns(0)
	_, err = st.ListBuilds(context.Background(), store.BuildQuery{})
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("ListBuilds = %v, want Unavailable", err)
	}
}

// A database of the first schema keeps its builds through the upgrade to owner keys: the
// name is still shown and owns them until the user of that name adopts them.
func TestUpgradeKeepsBuildOwners(t *testing.T) {
	ctx := context.Background()
	sq, st := firstSchema(t)
	upgrade(t, sq)
	erin := store.Actor{Name: "erin", UserID: 3}
	if _, err := st.UpdateBuildStatus(ctx, erin, 1, store.StatusSuccess); !errs.Is(err, errs.NotOwner) {
		t.Fatalf("erin's id before adoption: %v, want NotOwner", err)
	}
	if n, err := st.AdoptOwners(ctx, []store.Adoption{{Name: "erin", UserID: 3}}); err != nil || n != 1 {
		t.Fatalf("AdoptOwners = %d, %v", n, err)
	}
	if _, err := st.UpdateBuildStatus(ctx, erin, 1, store.StatusSuccess); err != nil {
		t.Fatal(err)
	}
	b, err := st.GetBuild(ctx, 1)
	if err != nil || b.Owner != "erin" || b.OwnerID != 3 || b.Status != store.StatusSuccess {
		t.Fatalf("after the upgrade: %+v, %v", b, err)
	}
}

// firstSchema opens a database of the first schema holding spec 1, its build 1 (owned by
// erin) and the build's environment.
func firstSchema(t *testing.T) (*db.SQLite, store.Store) {
	t.Helper()
	ctx := context.Background()
	first, err := fs.ReadFile(migrations.SQLite, "00001_ingest_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	t.Cleanup(func() { _ = st.Close() })
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, fstest.MapFS{"00001_ingest_schema.sql": {Data: first}},
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	execAll(t, sq,
		`INSERT INTO specs (id, name, spack_version, full_hash, created_at) VALUES (1, 'zlib', '0.17.2', 'zfh', '`+firstSchemaAt+`')`,
		`INSERT INTO build_environments (id, hostname, kernel_version, host_os, host_target, platform) VALUES (1, 'h', 'k', 'o', 't', 'linux')`,
		`INSERT INTO builds (id, spec_id, env_id, owner, created_at, updated_at) VALUES (1, 1, 1, 'erin', '`+firstSchemaAt+`', '`+firstSchemaAt+`')`)
	return sq, st
}

// firstSchemaAt is the time of the rows firstSchema writes.
const firstSchemaAt = "2026-01-01T00:00:00.000000Z"

// execAll runs statements on the writer of sq.
func execAll(t *testing.T, sq *db.SQLite, statements ...string) {
	t.Helper()
	for _, q := range statements {
		if _, err := sq.Write.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// upgrade applies every migration.
func upgrade(t *testing.T, sq *db.SQLite) {
	t.Helper()
	if err := db.Migrate(context.Background(), sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
}
