// Package sqlite is the ingest store on an embedded SQLite database (modernc.org/sqlite).
//
// Writes go through db.SQLite's single writer connection, one immediate transaction at a
// time, so a write never races another: it reads what it needs inside its transaction
// and acts on it. Reads use the reader pool and never wait for the writer (WAL). Sets of
// rows travel as one JSON parameter that json_each turns into a relation, so a spec DAG
// is a handful of statements, as on PostgreSQL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// Store implements store.Store.
type Store struct {
	db *db.SQLite
}

var _ store.Store = (*Store)(nil)

// New returns a store on sq, which must hold the ingest migrations. Close closes sq.
func New(sq *db.SQLite) *Store { return &Store{db: sq} }

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	return errors.Join(s.db.Write.PingContext(ctx), s.db.Read.PingContext(ctx))
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// reads are the statements written once for both stores, in SQLite's SQL. LIKE ignores
// ASCII case in SQLite.
var reads = readsql.New(
	func(n int) string { return "?" + strconv.Itoa(n) },
	func(column, pattern string) string { return column + " LIKE " + pattern + ` ESCAPE '\'` },
)

// querier is what both *sql.DB and *sql.Tx offer: reads run on either.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the writer connection.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return wrap(op, db.InSQLTx(ctx, s.db.Write, fn))
}

// wrap is rows.Wrap for what SQLite answers: a value a check refuses is the caller's
// error (errs.BadRequest), a database that cannot be opened, read or written is
// errs.Unavailable, with messages that name the problem but no SQL.
func wrap(op string, err error) error {
	return rows.Wrap(op, classify(err))
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	var domain *errs.Error
	if errors.As(err, &domain) {
		return err
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		switch sqlErr.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_CONSTRAINT:
			if sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK {
				return rows.TooLong(checkName(sqlErr.Error()))
			}
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
			sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return rows.Unavailable(err)
		}
		return err
	}
	if rows.Unreachable(err) || err.Error() == "sql: database is closed" {
		return rows.Unavailable(err)
	}
	return err
}

// checkName is how a refused check constraint is named to the client: SQLite's message
// gives only the constraint's expression, "CHECK constraint failed: length(name) BETWEEN
// 1 AND 250", which names the column(s) of the schema that have it: "specs.name", or
// "compilers.name or specs.name" when more than one does.
func checkName(message string) string {
	_, expr, ok := strings.Cut(message, "CHECK constraint failed: ")
	if !ok {
		return "a check constraint"
	}
	if i := strings.LastIndex(expr, " ("); i >= 0 && strings.HasSuffix(expr, ")") {
		expr = expr[:i] // the result code the driver appends
	}
	if names := schemaChecks()[expr]; len(names) > 0 {
		return strings.Join(names, " or ")
	}
	return "a check constraint"
}

// schemaChecks maps the expression of each CHECK of the schema to the columns ("table.column")
// or, for a table's own checks, the tables that have it.
var schemaChecks = sync.OnceValue(func() map[string][]string {
	checks := map[string][]string{}
	files, _ := fs.Glob(migrations.SQLite, "*.sql")
	for _, f := range files {
		data, err := fs.ReadFile(migrations.SQLite, f)
		if err != nil {
			continue
		}
		table := ""
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) >= 3 && fields[0] == "CREATE" && fields[1] == "TABLE" {
				table = strings.TrimSuffix(fields[2], "(")
				continue
			}
			if table == "" || len(fields) == 0 {
				continue
			}
			name := table
			switch strings.ToUpper(fields[0]) {
			case "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "CONSTRAINT":
			default:
				name = table + "." + fields[0]
			}
			for rest := line; ; {
				_, after, ok := strings.Cut(rest, "CHECK (")
				if !ok {
					break
				}
				depth, end := 1, -1
				for i, c := range after {
					if c == '(' {
						depth++
					} else if c == ')' {
						if depth--; depth == 0 {
							end = i
							break
						}
					}
				}
				if end < 0 {
					break
				}
				expr := after[:end]
				if !slices.Contains(checks[expr], name) {
					checks[expr] = append(checks[expr], name)
					slices.Sort(checks[expr])
				}
				rest = after[end:]
			}
		}
	}
	return checks
})

// timeLayout is how times are stored: UTC, fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func now() string { return time.Now().UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// collect reads every row of rs with rd.
func collect[T any](rs *sql.Rows, rd rows.Reader[T]) ([]T, error) {
	defer rs.Close()
	var out []T
	for rs.Next() {
		v, err := rd.Scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}
