package postgres_test

import (
	"context"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/storetest"
)

func TestClosureBackfill(t *testing.T) {
	pool, err := db.OpenPostgres(context.Background(), pgtest.NewDatabase(t, "ingest", migrate))
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.ClosureBackfill(t, st, migrations.Postgres, func(q string) error {
		_, err := pool.Exec(context.Background(), q)
		return err
	}, "00012_compact_storage.sql")
}
