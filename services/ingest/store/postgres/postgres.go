// Package postgres is the ingest store on PostgreSQL (pgx pool).
//
// Writes are sent as one pgx batch: the statements of a batch run in one implicit
// transaction, in one round trip, and each statement of it sees what the earlier ones
// wrote. Statements that depend on rows written earlier in the batch find them by their
// natural keys rather than by ids read back in between. Get-or-create relies on the
// unique constraints (INSERT ... ON CONFLICT DO NOTHING, then a later statement reads
// the row, which by then is committed whoever wrote it), and rows are inserted in a
// fixed order so that concurrent writers lock them in the same order.
package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

// Store implements store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// New returns a store on pool, which must hold the ingest migrations. Close closes pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// reads are the statements written once for both stores, in PostgreSQL's SQL.
var reads = readsql.New(
	func(n int) string { return "$" + strconv.Itoa(n) },
	func(column, pattern string) string { return column + " ILIKE " + pattern },
)

// attempts bounds the retries of a write that lost a deadlock or serialization race.
const attempts = 5

// write runs fn, retrying it when it lost a race.
func (s *Store) write(ctx context.Context, op string, fn func() error) error {
	return wrap(op, db.Retry(ctx, attempts, fn))
}

// wrap is rows.Wrap for what PostgreSQL and pgx answer: a value the database refuses is
// the caller's error (errs.BadRequest), a database that cannot be reached or cannot work
// is errs.Unavailable, with messages that name the problem but no SQL.
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
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr):
		return rows.Unavailable(err)
	case errors.As(err, &pgErr):
		return classifyPg(pgErr, err)
	case rows.Unreachable(err) || pgconn.Timeout(err) || strings.HasSuffix(err.Error(), "closed pool"):
		return rows.Unavailable(err)
	}
	return err
}

// classifyPg sorts the errors the server answers with by SQLSTATE.
func classifyPg(pgErr *pgconn.PgError, err error) error {
	code := pgErr.Code
	switch code {
	case "23514": // check_violation
		return rows.TooLong(checkName(pgErr.TableName, pgErr.ConstraintName))
	case "22021": // character_not_in_repertoire: a NUL or bytes that are not UTF-8
		return errs.Wrap(errs.BadRequest, err, "A value is not valid text: it holds a NUL character or an invalid byte sequence.")
	case "22P05": // untranslatable_character: \u0000 in jsonb
		return errs.Wrap(errs.BadRequest, err, `A JSON value holds a \u0000 character, which cannot be stored.`)
	case "22001": // string_data_right_truncation
		return errs.Wrap(errs.BadRequest, err, "A value is too long.")
	case "22003": // numeric_value_out_of_range
		return errs.Wrap(errs.BadRequest, err, "A number is out of range.")
	case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"3D000", "25006": // invalid_catalog_name, read_only_sql_transaction (a standby)
		return rows.Unavailable(err)
	}
	switch code[:2] {
	case "22": // data_exception: the value is bad
		return errs.Wrap(errs.BadRequest, err, "A value is invalid (SQLSTATE %s).", code)
	case "08", "53": // connection_exception, insufficient_resources
		return rows.Unavailable(err)
	}
	return err
}

// checkName is how a refused check constraint is named to the client: "table.column" for
// the constraint PostgreSQL names table_column_check, else the table or the constraint.
func checkName(table, constraint string) string {
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

// now is the time written by a change: UTC, at the precision PostgreSQL keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// utc is a time as pgx reads a timestamptz column, in UTC.
func utc(t time.Time) (time.Time, error) { return t.UTC(), nil }

// collect reads every row of rs with rd.
func collect[T any](rs pgx.Rows, rd rows.Reader[T]) ([]T, error) {
	return pgx.CollectRows(rs, func(r pgx.CollectableRow) (T, error) { return rd.Scan(r) })
}

// sendBatch runs b and returns the first error of any of its statements.
func (s *Store) sendBatch(ctx context.Context, b *pgx.Batch) error {
	return s.pool.SendBatch(ctx, b).Close()
}
