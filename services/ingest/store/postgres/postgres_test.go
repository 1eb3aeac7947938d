package postgres_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
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
	url := pgtest.NewDatabase(tb, "ingest", migrate)
	pool, err := db.OpenPostgres(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	return postgres.New(pool)
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }
