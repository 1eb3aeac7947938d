package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/pgtest"
	"github.com/spackmon/spackmon/services/analysis/migrations"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/postgres"
	"github.com/spackmon/spackmon/services/analysis/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func migrate(ctx context.Context, url string) error {
	return db.MigratePostgres(ctx, url, migrations.Postgres, db.WithVersionTable(migrations.VersionTable))
}

// open makes a database of its own from the migrated template.
func open(tb testing.TB) store.Store {
	url := pgtest.NewDatabase(tb, "analysis", migrate)
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

// The migrations keep their own version table, and running them again changes nothing.
func TestMigrationsVersionTable(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "analysis", migrate)
	if err := migrate(ctx, url); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var version int64
	if err := pool.QueryRow(ctx, "SELECT max(version_id) FROM analysis_schema_version").Scan(&version); err != nil || version != 5 {
		t.Fatalf("analysis_schema_version = %d, %v", version, err)
	}
}

// A value that slips past the store's checks is still refused by the schema, as the
// caller's error naming the column.
func TestSchemaChecksAreBadRequest(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "analysis", migrate)
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, c := range []struct{ paths, types, want string }{
		{`{""}`, `{""}`, "analysis_install_file_chunks.paths"},
		{`{b,a}`, `{"",""}`, "analysis_install_file_chunks.paths"},
		{`{a,a}`, `{"",""}`, "analysis_install_file_chunks.paths"},
		{`{a}`, `{` + strings.Repeat("t", store.MaxTypeLength+1) + `}`, "analysis_install_file_chunks.types"},
		{`{a,b}`, `{""}`, "analysis_install_file_chunks"},
	} {
		n := strings.Count(c.paths, ",") + 1
		nulls := "{" + strings.TrimSuffix(strings.Repeat("NULL,", n), ",") + "}"
		hashes := "{" + strings.TrimSuffix(strings.Repeat(`"",`, n), ",") + "}"
		_, err := pool.Exec(ctx, "INSERT INTO analysis_install_file_chunks (build_id, first_path, paths, types, modes, owners, groups, hashes, sizes) "+
			"VALUES (1, ($1::text[])[1], $1, $2, $3, $3, $3, $4, $3)", c.paths, c.types, nulls, hashes)
		err = db.PostgresError(err)
		if want := "A value is too long or invalid (" + c.want + ")."; !errs.Is(err, errs.BadRequest) || err.Error() != want {
			t.Errorf("chunk of paths %s, types %s = %v, want %q", c.paths, c.types, err, want)
		}
	}
	for _, c := range []struct{ names, values, want string }{
		{`{B,A}`, `{x,y}`, "analysis_environments.names"},
		{`{A,A}`, `{x,y}`, "analysis_environments.names"},
		{`{}`, `{}`, "analysis_environments.names"},
		{`{` + strings.Repeat("N", store.MaxEnvNameLength+1) + `}`, `{x}`, "analysis_environments.names"},
		{`{A}`, `{NULL}`, "analysis_environments.values"},
		{`{A,B}`, `{x}`, "analysis_environments"},
	} {
		_, err := pool.Exec(ctx, `INSERT INTO analysis_environments (build_id, names, "values") VALUES (1, $1, $2)`, c.names, c.values)
		err = db.PostgresError(err)
		if want := "A value is too long or invalid (" + c.want + ")."; !errs.Is(err, errs.BadRequest) || err.Error() != want {
			t.Errorf("environment of names %s, values %s = %v, want %q", c.names, c.values, err, want)
		}
	}
}

// A closed pool answers errs.Unavailable, not a failure of the request.
func TestClosedPoolIsUnavailable(t *testing.T) {
	st := open(t)
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
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "analysis", migrate)
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st := postgres.New(pool)
	defer st.Close()
	storetest.KeepsRecords(t, st, func() error {
		if err := db.MigratePostgresDownTo(ctx, url, migrations.Postgres, 1, db.WithVersionTable(migrations.VersionTable)); err != nil {
			return err
		}
		return migrate(ctx, url)
	})
}
