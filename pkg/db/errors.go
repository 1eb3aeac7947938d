package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/spackmon/spackmon/pkg/errs"
)

// Annotate prefixes a store failure with what was being done, leaving domain errors as they
// are so that their messages reach the client unchanged.
func Annotate(op string, err error) error {
	if err == nil {
		return nil
	}
	var domain *errs.Error
	if errors.As(err, &domain) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Unavailable is the error for a database that cannot be reached or cannot work.
func Unavailable(cause error) error {
	return errs.WithCause(errs.Unavailable, cause, "The database is unavailable.")
}

// Unreachable reports the failures of reaching any database: the network, a deadline
// passed waiting for it (for a connection, or for its answer), a connection cut.
func Unreachable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn)
}

// CheckFailed is the error for a value a check constraint refused; name says which
// ("table.column", a table, or a constraint).
func CheckFailed(name string, cause error) error {
	return errs.WithCause(errs.BadRequest, cause, "A value is too long or invalid (%s).", name)
}

// PostgresError sorts what PostgreSQL and pgx answer: a value the database refuses is the
// caller's error (errs.BadRequest), a database that cannot be reached or cannot work is
// errs.Unavailable, with messages that name the problem but no SQL. Domain errors and
// anything else are returned as they are.
func PostgresError(err error) error {
	if err == nil {
		return nil
	}
	var domain *errs.Error
	if errors.As(err, &domain) {
		return err
	}
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr):
		return Unavailable(err)
	case errors.As(err, &pgErr):
		return postgresServerError(pgErr, err)
	case Unreachable(err) || pgconn.Timeout(err) || strings.HasSuffix(err.Error(), "closed pool"):
		return Unavailable(err)
	}
	return err
}

// postgresServerError sorts the errors the server answers with by SQLSTATE.
func postgresServerError(pgErr *pgconn.PgError, err error) error {
	code := pgErr.Code
	switch code {
	case "23514": // check_violation
		return CheckFailed(postgresCheckName(pgErr.TableName, pgErr.ConstraintName), err)
	case "22021": // character_not_in_repertoire: a NUL or bytes that are not UTF-8
		return errs.WithCause(errs.BadRequest, err, "A value is not valid text: it holds a NUL character or an invalid byte sequence.")
	case "22P05": // untranslatable_character: \u0000 in jsonb
		return errs.WithCause(errs.BadRequest, err, `A JSON value holds a \u0000 character, which cannot be stored.`)
	case "22001": // string_data_right_truncation
		return errs.WithCause(errs.BadRequest, err, "A value is too long.")
	case "22003": // numeric_value_out_of_range
		return errs.WithCause(errs.BadRequest, err, "A number is out of range.")
	case "54000": // program_limit_exceeded: a value too large for an index, say
		if strings.HasPrefix(pgErr.Where, "PL/pgSQL function ") && strings.HasSuffix(pgErr.Where, " at RAISE") {
			// A limit of our own, raised by a function of the schema: its message is ours.
			return errs.WithCause(errs.BadRequest, err, "%s", pgErr.Message)
		}
		return errs.WithCause(errs.BadRequest, err, "A value is too large to store.")
	case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"3D000", "25006": // invalid_catalog_name, read_only_sql_transaction (a standby)
		return Unavailable(err)
	}
	if len(code) < 2 {
		return err
	}
	switch code[:2] {
	case "22": // data_exception: the value is bad
		return errs.WithCause(errs.BadRequest, err, "A value is invalid (SQLSTATE %s).", code)
	case "08", "53": // connection_exception, insufficient_resources
		return Unavailable(err)
	}
	return err
}

// postgresCheckName is how a refused check constraint is named to the client:
// "table.column" for the constraint PostgreSQL names table_column_check, else the table
// or the constraint.
func postgresCheckName(table, constraint string) string {
	if rest, ok := strings.CutPrefix(constraint, table+"_"); ok && table != "" {
		if column, ok := strings.CutSuffix(rest, "_check"); ok {
			return table + "." + column
		}
	}
	if table != "" {
		return table
	}
	return constraint
}

// SQLiteSchema knows the CHECK constraints of a SQLite schema, to name the column a
// refused check belongs to: SQLite's message gives only the constraint's expression.
type SQLiteSchema struct {
	checks func() map[string][]string
}

// NewSQLiteSchema reads the CHECKs of the goose SQL migrations in fsys (files at its
// root) the first time they are needed.
func NewSQLiteSchema(fsys fs.FS) *SQLiteSchema {
	return &SQLiteSchema{checks: sync.OnceValue(func() map[string][]string { return schemaChecks(fsys) })}
}

// SQLiteError sorts what SQLite answers: a value a check refuses is the caller's error
// (errs.BadRequest), named by the columns of schema that have the check (schema may be
// nil); a database that cannot be opened, read or written is errs.Unavailable, with
// messages that name the problem but no SQL. Domain errors and anything else are
// returned as they are.
func SQLiteError(err error, schema *SQLiteSchema) error {
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
				return CheckFailed(schema.checkName(sqlErr.Error()), err)
			}
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED,
			sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return Unavailable(err)
		}
		return err
	}
	if Unreachable(err) || err.Error() == "sql: database is closed" {
		return Unavailable(err)
	}
	return err
}

// checkName is how a refused check constraint is named to the client: SQLite's message
// gives only the constraint's expression, "CHECK constraint failed: length(name) BETWEEN
// 1 AND 250", which names the column(s) of the schema that have it: "specs.name", or
// "compilers.name or specs.name" when more than one does.
func (s *SQLiteSchema) checkName(message string) string {
	_, expr, ok := strings.Cut(message, "CHECK constraint failed: ")
	if !ok || s == nil {
		return "a check constraint"
	}
	if i := strings.LastIndex(expr, " ("); i >= 0 && strings.HasSuffix(expr, ")") {
		expr = expr[:i] // the result code the driver appends
	}
	if names := s.checks()[expr]; len(names) > 0 {
		return strings.Join(names, " or ")
	}
	return "a check constraint"
}

// schemaChecks maps the expression of each CHECK of the migrations in fsys to the columns
// ("table.column") or, for a table's own checks, the tables that have it. Only the Up
// sections are read: they are what builds the schema.
func schemaChecks(fsys fs.FS) map[string][]string {
	checks := map[string][]string{}
	files, _ := fs.Glob(fsys, "*.sql")
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		up, _, _ := strings.Cut(string(data), "-- +goose Down")
		table := ""
		for _, line := range strings.Split(up, "\n") {
			fields := strings.Fields(line)
			switch {
			case len(fields) >= 3 && fields[0] == "CREATE" && fields[1] == "TABLE":
				table = strings.TrimSuffix(fields[2], "(")
			case len(fields) >= 7 && fields[0] == "ALTER" && fields[1] == "TABLE" && fields[3] == "RENAME" && fields[4] == "COLUMN" && fields[6] == "TO":
				renameColumn(checks, fields[2], fields[5], strings.TrimSuffix(fields[7], ";"))
			case len(fields) >= 6 && fields[0] == "ALTER" && fields[1] == "TABLE" && fields[3] == "RENAME" && fields[4] == "TO":
				// A table rebuilt as a copy is named by the name the copy ends up with.
				renameTable(checks, fields[2], strings.TrimSuffix(fields[5], ";"))
			case len(fields) >= 6 && fields[0] == "ALTER" && fields[1] == "TABLE" && fields[3] == "ADD" && fields[4] == "COLUMN":
				addChecks(checks, line, fields[2]+"."+fields[5])
			case table != "" && len(fields) > 0:
				switch strings.ToUpper(fields[0]) {
				case "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "CONSTRAINT":
					addChecks(checks, line, table)
				default:
					addChecks(checks, line, table+"."+fields[0])
				}
			}
		}
	}
	return checks
}

// addChecks records the CHECKs written on line as name's.
func addChecks(checks map[string][]string, line, name string) {
	for rest := line; ; {
		_, after, ok := strings.Cut(rest, "CHECK (")
		if !ok {
			return
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
			return
		}
		expr := after[:end]
		if !slices.Contains(checks[expr], name) {
			checks[expr] = append(checks[expr], name)
			slices.Sort(checks[expr])
		}
		rest = after[end:]
	}
}

// renameColumn follows SQLite's rename of column from of table to to: the column's checks
// are written with the new name, and named by it.
func renameColumn(checks map[string][]string, table, from, to string) {
	word := regexp.MustCompile(`\b` + regexp.QuoteMeta(from) + `\b`)
	for expr, names := range checks {
		i := slices.Index(names, table+"."+from)
		if i < 0 {
			continue
		}
		if names = slices.Delete(names, i, i+1); len(names) == 0 {
			delete(checks, expr)
		} else {
			checks[expr] = names
		}
		renamed := word.ReplaceAllString(expr, to)
		checks[renamed] = append(checks[renamed], table+"."+to)
		slices.Sort(checks[renamed])
	}
}

// renameTable names from's columns and checks in checks by to instead.
func renameTable(checks map[string][]string, from, to string) {
	for expr, names := range checks {
		for i, name := range names {
			if name == from {
				names[i] = to
			} else if rest, ok := strings.CutPrefix(name, from+"."); ok {
				names[i] = to + "." + rest
			}
		}
		slices.Sort(names)
		checks[expr] = slices.Compact(names)
	}
}
