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
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
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
	func(param string) string { return "CAST(" + param + " AS timestamptz)" },
).WithIDSet(
	func(param string) string { return "SELECT unnest(CAST(" + param + " AS bigint[]))" },
	func(ids []int64) any { return ids },
).WithDependents(func(column, param string, probe bool) string {
	// spec_closure holds an array of descendants per ancestor (migration 00012). A probe
	// reads column's row and looks its elements up in the set, which a custom plan
	// (probePlan) hashes once; && would compare every element with every id. Collecting
	// reads the GIN index once per id, in an InitPlan so that it runs first and once:
	// the planner's guess at what && of a whole set matches grows with the set (most of
	// the table for 200 ids), and it would scan the table or probe every candidate row.
	if probe {
		return `EXISTS (SELECT 1 FROM spec_closure sc CROSS JOIN LATERAL unnest(sc.descendants) AS d(id)
WHERE sc.ancestor = ` + column + ` AND d.id = ANY(CAST(` + param + ` AS bigint[])))`
	}
	return column + ` IN (SELECT unnest(ARRAY(SELECT c.ancestor FROM unnest(CAST(` + param + ` AS bigint[])) AS x(id)
CROSS JOIN LATERAL (SELECT ancestor FROM spec_closure WHERE descendants && ARRAY[x.id]) c)))`
}).WithHashPrefix(func(column, param string) string {
	// The expression of specs_full_hash_prefix_idx (migration 00014), whose text_pattern_ops
	// turn the pattern's fixed start into a range of the index.
	return "lower(" + column + ") LIKE lower(" + param + ")"
}, func(text string) any { return rows.Prefix(text) })

// attempts bounds the retries of a write that lost a deadlock or serialization race.
const attempts = 5

// write runs fn, retrying it when it lost a race.
func (s *Store) write(ctx context.Context, op string, fn func() error) error {
	return wrap(op, db.Retry(ctx, attempts, fn))
}

// wrap is db.Annotate for what PostgreSQL and pgx answer, sorted by db.PostgresError.
func wrap(op string, err error) error {
	return db.Annotate(op, db.PostgresError(err))
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
