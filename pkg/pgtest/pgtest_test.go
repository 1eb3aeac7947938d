package pgtest_test

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var migrations atomic.Int32

func migrate(ctx context.Context, url string) error {
	migrations.Add(1)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE things (name text PRIMARY KEY)`)
	return err
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func dbName(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(parsed.Path, "/")
}

func TestDatabasesAreSeparateCopiesOfOneTemplate(t *testing.T) {
	a := pgtest.NewDatabase(t, "things", migrate)
	b := pgtest.NewDatabase(t, "things", migrate)
	if dbName(t, a) == dbName(t, b) {
		t.Fatalf("both tests got %s", a)
	}
	if _, err := connect(t, a).Exec(context.Background(), `INSERT INTO things VALUES ('only in a')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := connect(t, b).QueryRow(context.Background(), `SELECT count(*) FROM things`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("b sees %d rows of a", n)
	}
	if got := migrations.Load(); got != 1 {
		t.Fatalf("migrated %d times, want once", got)
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	var name, server string
	t.Run("user", func(t *testing.T) {
		u := pgtest.NewDatabase(t, "things", migrate)
		name = dbName(t, u)
		server = strings.Replace(u, "/"+name, "/postgres", 1)
	})
	var exists bool
	err := connect(t, server).QueryRow(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test", name)
	}
}

func TestParallelDatabases(t *testing.T) {
	for i := range 6 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			u := pgtest.NewDatabase(t, "things", migrate)
			if _, err := connect(t, u).Exec(context.Background(), `INSERT INTO things VALUES ($1)`, string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		})
	}
}
