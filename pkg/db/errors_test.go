package db_test

import (
	"errors"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
)

func TestPostgresError(t *testing.T) {
	for _, c := range []struct {
		err    *pgconn.PgError
		reason errs.Reason
		msg    string
	}{
		{&pgconn.PgError{Code: "23514", TableName: "specs", ConstraintName: "specs_name_check"}, errs.BadRequest, "A value is too long or invalid (specs.name)."},
		{&pgconn.PgError{Code: "23514", TableName: "specs", ConstraintName: "specs_sizes"}, errs.BadRequest, "A value is too long or invalid (specs)."},
		{&pgconn.PgError{Code: "23514", ConstraintName: "c"}, errs.BadRequest, "A value is too long or invalid (c)."},
		{&pgconn.PgError{Code: "22001"}, errs.BadRequest, "A value is too long."},
		{&pgconn.PgError{Code: "22007"}, errs.BadRequest, "A value is invalid (SQLSTATE 22007)."},
		{&pgconn.PgError{Code: "57P01"}, errs.Unavailable, "The database is unavailable."},
		{&pgconn.PgError{Code: "08006"}, errs.Unavailable, "The database is unavailable."},
	} {
		err := db.PostgresError(c.err)
		if !errs.Is(err, c.reason) || err.Error() != c.msg || !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %s %q", c.err.Code, err, c.reason, c.msg)
		}
	}
	unique := &pgconn.PgError{Code: "23505"}
	if err := db.PostgresError(unique); err != unique {
		t.Errorf("unique violation became %v", err)
	}
	domain := errs.New(errs.NotFound, "gone")
	if err := db.Annotate("op", db.PostgresError(domain)); err != domain {
		t.Errorf("domain error became %v", err)
	}
	if err := db.Annotate("op", errors.New("boom")); err.Error() != "op: boom" {
		t.Errorf("Annotate = %v", err)
	}
}

func TestSQLiteError(t *testing.T) {
	schema := fstest.MapFS{
		"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (\n    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 3),\n    n INTEGER\n);\n")},
		// A later migration rebuilds t as a copy, renamed to t: the check is still t's.
		"00002_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t_copy (\n    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 3),\n    n INTEGER\n) STRICT, WITHOUT ROWID;\n" +
			"DROP TABLE t;\nALTER TABLE t_copy RENAME TO t;\n")},
		// A column added later has its check named by its own name, and what a Down
		// section does is not the schema.
		"00003_t.sql": {Data: []byte("-- +goose Up\nALTER TABLE t ADD COLUMN code TEXT CHECK (length(code) = 4);\n" +
			"-- +goose Down\nALTER TABLE t RENAME TO t_old;\n")},
		// Renaming a column renames it in its checks, as SQLite does.
		"00004_t.sql": {Data: []byte("-- +goose Up\nALTER TABLE t RENAME COLUMN code TO zip;\n")},
	}
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	if _, err := sq.Write.Exec("CREATE TABLE t (name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 3), n INTEGER, zip TEXT CHECK (length(zip) = 4))"); err != nil {
		t.Fatal(err)
	}
	_, insert := sq.Write.Exec("INSERT INTO t (name) VALUES ('toolong')")
	for s, want := range map[*db.SQLiteSchema]string{
		db.NewSQLiteSchema(schema): "A value is too long or invalid (t.name).",
		nil:                        "A value is too long or invalid (a check constraint).",
	} {
		if err := db.SQLiteError(insert, s); !errs.Is(err, errs.BadRequest) || err.Error() != want {
			t.Errorf("check failure = %v, want %q", err, want)
		}
	}
	_, insert = sq.Write.Exec("INSERT INTO t (name, zip) VALUES ('ok', 'x')")
	if err, want := db.SQLiteError(insert, db.NewSQLiteSchema(schema)), "A value is too long or invalid (t.zip)."; err == nil || err.Error() != want {
		t.Errorf("added column's check failure = %v, want %q", err, want)
	}
	sq.Close()
	_, closed := sq.Write.Exec("SELECT 1")
	if err := db.SQLiteError(closed, nil); !errs.Is(err, errs.Unavailable) {
		t.Errorf("closed database = %v", err)
	}
}
