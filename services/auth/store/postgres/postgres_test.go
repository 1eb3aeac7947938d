package postgres_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/services/auth/migrations"
	"github.com/spackmon/spackmon/services/auth/store"
	"github.com/spackmon/spackmon/services/auth/store/postgres"
	"github.com/spackmon/spackmon/services/auth/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func migrate(ctx context.Context, url string) error {
	return db.MigratePostgres(ctx, url, migrations.Postgres, db.WithVersionTable(migrations.VersionTable))
}

// open makes a database of its own from the migrated template.
func open(tb testing.TB) *postgres.Store {
	url := pgtest.NewDatabase(tb, "auth", migrate)
	pool, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return postgres.New(pool)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// The migrations keep their own version table, and running them again changes nothing.
func TestMigrationsVersionTable(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "auth", migrate)
	if err := migrate(ctx, url); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	var version int64
	if err := pool.QueryRow(ctx, "SELECT max(version_id) FROM auth_schema_version").Scan(&version); err != nil || version != 3 {
		t.Fatalf("auth_schema_version = %d, %v", version, err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
}

// A closed pool answers errs.Unavailable, not a failure of the request.
func TestClosedPoolIsUnavailable(t *testing.T) {
	st := open(t)
	st.Close()
	ctx := context.Background()
	if _, err := st.GetUser(ctx, "alice"); !errs.Is(err, errs.Unavailable) {
		t.Errorf("GetUser = %v, want Unavailable", err)
	}
	if _, err := st.CreateUser(ctx, store.NewUser{Name: "alice"}); !errs.Is(err, errs.Unavailable) {
		t.Errorf("CreateUser = %v, want Unavailable", err)
	}
}
