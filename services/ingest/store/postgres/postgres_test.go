package postgres_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func migrate(ctx context.Context, url string) error {
	return db.MigratePostgres(ctx, url, migrations.Postgres, db.WithVersionTable(migrations.VersionTable))
}

// open makes a database of its own from the migrated template.
func open(tb testing.TB) store.Store {
	st, _ := openPool(tb)
	return st
}

// openPool is open with the store's pool, for tests that also read or change its database.
func openPool(tb testing.TB) (*postgres.Store, *pgxpool.Pool) {
	st, pool, _ := openDatabase(tb)
	return st, pool
}

// openDatabase is openPool with the database's URL, for tests that migrate it themselves.
func openDatabase(tb testing.TB) (*postgres.Store, *pgxpool.Pool, string) {
	url := pgtest.NewDatabase(tb, "ingest", migrate)
	pool, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return postgres.New(pool), pool, url
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }

// NUL in text is refused by PostgreSQL; the store answers the caller's error, not a
// failure of its own.
func TestNULIsBadRequest(t *testing.T) {
	st := open(t)
	defer st.Close()
	ctx := context.Background()
	_, err := st.PutSpec(ctx, "0.17.1", &spackspec.Document{Nodes: []spackspec.Node{{Name: "a\x00b", Version: "1", FullHash: "fh"}}})
	if !errs.Is(err, errs.BadRequest) ||
		err.Error() != "A value is not valid text: it holds a NUL character or an invalid byte sequence." {
		t.Fatalf("PutSpec(NUL in a name) = %v, want BadRequest", err)
	}
}

// A database that goes away answers errs.Unavailable (503), on reads and writes.
func TestDatabaseGoneIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := pgtest.NewDatabase(t, "ingest", migrate)
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	if _, err := st.ListBuilds(ctx, store.BuildQuery{}); err != nil {
		t.Fatal(err)
	}

	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, sql := range []string{
		"ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " ALLOW_CONNECTIONS false",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
	} {
		args := []any{}
		if strings.Contains(sql, "$1") {
			args = append(args, name)
		}
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS true")
	})

	calls := map[string]func() error{
		"GetBuild":   func() error { _, err := st.GetBuild(ctx, 1); return err },
		"ListBuilds": func() error { _, err := st.ListBuilds(ctx, store.BuildQuery{}); return err },
		"ListEvents": func() error { _, err := st.ListEvents(ctx, store.EventQuery{BuildID: 1}); return err },
		"PutSpec": func() error {
			_, err := st.PutSpec(ctx, "0.17.1", &spackspec.Document{Nodes: []spackspec.Node{{Name: "a", Version: "1", FullHash: "fh"}}})
			return err
		},
		"UpdatePhase": func() error {
			_, err := st.UpdatePhase(ctx, store.Actor{Name: "alice"}, store.PhaseUpdate{BuildID: 1, Name: "build", Status: "SUCCESS"})
			return err
		},
	}
	for what, call := range calls {
		// The first call on a terminated connection may see it cut; every call sees
		// that the database cannot be reached.
		for range 2 {
			if err := call(); !errs.Is(err, errs.Unavailable) || err.Error() != "The database is unavailable." {
				t.Errorf("%s = %v, want Unavailable", what, err)
			}
		}
	}
}

// A database of the first schema keeps its builds through the upgrade to owner keys: the
// name is still shown and owns them until the user of that name adopts them.
func TestUpgradeKeepsBuildOwners(t *testing.T) {
	ctx := context.Background()
	first, err := fs.ReadFile(migrations.Postgres, "00001_ingest_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	const at = "2026-01-01T00:00:00Z"
	url := pgtest.NewDatabase(t, "ingest-v1", func(ctx context.Context, url string) error {
		return db.MigratePostgres(ctx, url, fstest.MapFS{"00001_ingest_schema.sql": {Data: first}}, db.WithVersionTable(migrations.VersionTable))
	})
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	for _, q := range []string{
		`INSERT INTO specs (name, spack_version, full_hash, created_at) VALUES ('zlib', '0.17.2', 'zfh', '` + at + `')`,
		`INSERT INTO build_environments (hostname, kernel_version, host_os, host_target, platform) VALUES ('h', 'k', 'o', 't', 'linux')`,
		`INSERT INTO builds (spec_id, env_id, owner, created_at, updated_at)
		 SELECT s.id, e.id, 'erin', '` + at + `', '` + at + `' FROM specs s, build_environments e`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, url); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	var id int64
	if err := pool.QueryRow(ctx, "SELECT id FROM builds").Scan(&id); err != nil {
		t.Fatal(err)
	}
	erin := store.Actor{Name: "erin", UserID: 3}
	if _, err := st.UpdateBuildStatus(ctx, erin, id, store.StatusSuccess); !errs.Is(err, errs.NotOwner) {
		t.Fatalf("erin's id before adoption: %v, want NotOwner", err)
	}
	if n, err := st.AdoptOwners(ctx, []store.Adoption{{Name: "erin", UserID: 3}}); err != nil || n != 1 {
		t.Fatalf("AdoptOwners = %d, %v", n, err)
	}
	if _, err := st.UpdateBuildStatus(ctx, erin, id, store.StatusSuccess); err != nil {
		t.Fatal(err)
	}
	b, err := st.GetBuild(ctx, id)
	if err != nil || b.Owner != "erin" || b.OwnerID != 3 || b.Status != store.StatusSuccess {
		t.Fatalf("after the upgrade: %+v, %v", b, err)
	}
}
