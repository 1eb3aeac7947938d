package db_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var schema = fstest.MapFS{
	"00001_things.sql": {Data: []byte("-- +goose Up\nCREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n-- +goose Down\nDROP TABLE things;\n")},
	"00002_more.sql":   {Data: []byte("-- +goose Up\nALTER TABLE things ADD COLUMN size INTEGER;\n-- +goose Down\nSELECT 1;\n")},
}

func TestSQLiteSettings(t *testing.T) {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "a b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000",
		"temp_store": "2", "wal_autocheckpoint": "8000", "journal_size_limit": "33554432",
	} {
		var got string
		if err := sq.Write.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("writer %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	var fk string
	if err := sq.Read.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != "1" {
		t.Errorf("reader foreign_keys = %q, %v", fk, err)
	}
	if sq.Write.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer allows %d connections", sq.Write.Stats().MaxOpenConnections)
	}
	if _, err := sq.Read.Exec("CREATE TABLE nope (x)"); err == nil {
		t.Error("the reader pool wrote")
	}
}

func TestMigrateSQLiteTwice(t *testing.T) {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	ctx := context.Background()
	for range 2 {
		if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, schema, db.WithVersionTable("things_version")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sq.Write.Exec("INSERT INTO things (name, size) VALUES ('a', 1)"); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := sq.Read.QueryRow("SELECT max(version_id) FROM things_version").Scan(&version); err != nil || version != 2 {
		t.Fatalf("version = %d, %v", version, err)
	}
}

func TestWriteTxRollsBack(t *testing.T) {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "tx.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	ctx := context.Background()
	if _, err := sq.Write.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = sq.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = sq.WriteTx(ctx, func(tx *sql.Tx) error {
			_, _ = tx.Exec("INSERT INTO t VALUES (2)")
			panic("mid-transaction")
		})
	}()
	// The single writer connection is free again and nothing was kept.
	var n int
	if err := sq.Write.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows = %d, %v", n, err)
	}
}

func TestPostgresOpenAndMigrate(t *testing.T) {
	url := pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })
	ctx := context.Background()
	// The pool's settings in the URL are the pool's: migrating and reading the versions
	// take the URL the services are given, without sending them to the server.
	for _, u := range []string{url, url + "&pool_max_conns=3"} {
		if err := db.MigratePostgres(ctx, u, schema, db.WithVersionTable("things_version")); err != nil {
			t.Fatal(err)
		}
		if current, target, err := db.PostgresVersions(ctx, u, schema, db.WithVersionTable("things_version")); err != nil || current != target {
			t.Errorf("versions %d of %d, %v", current, target, err)
		}
	}
	pool, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "INSERT INTO things (id, name, size) VALUES (1, 'a', 2)"); err != nil {
		t.Fatal(err)
	}
	if pool.Config().MaxConns < 8 {
		t.Errorf("pool max conns = %d", pool.Config().MaxConns)
	}
	small, err := db.OpenPostgres(ctx, url+"&pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.Config().MaxConns != 3 {
		t.Errorf("pool_max_conns=3 gave %d", small.Config().MaxConns)
	}
	jit, err := db.OpenPostgres(ctx, url+"&jit=on")
	if err != nil {
		t.Fatal(err)
	}
	defer jit.Close()
	for p, want := range map[*pgxpool.Pool]string{pool: "off", jit: "on"} {
		var got string
		if err := p.QueryRow(ctx, "SHOW jit").Scan(&got); err != nil || got != want {
			t.Errorf("jit = %q, %v; want %s", got, err, want)
		}
	}
}

func TestRetry(t *testing.T) {
	deadlock := &pgconn.PgError{Code: "40P01"}
	calls := 0
	err := db.Retry(context.Background(), 3, func() error {
		calls++
		if calls < 3 {
			return deadlock
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	calls = 0
	other := errors.New("other")
	if err := db.Retry(context.Background(), 3, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("a plain error was retried: %v, %d calls", err, calls)
	}
	if err := db.Retry(context.Background(), 2, func() error { return deadlock }); !db.Retryable(err) {
		t.Fatalf("exhausted retries returned %v", err)
	}
}
