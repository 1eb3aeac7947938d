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
	"fmt"
	"strconv"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
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
	return s.db.Ping(ctx)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// reads are the statements written once for both stores, in SQLite's SQL. LIKE ignores
// ASCII case in SQLite.
var reads = readsql.New(
	func(n int) string { return "?" + strconv.Itoa(n) },
	like,
	// store.UpdatedKey is the stored form itself.
	func(param string) string { return param },
).WithIDSet(
	func(param string) string { return "SELECT value FROM json_each(" + param + ")" },
	func(ids []int64) any { return jsonText(ids) },
).WithSearchIndex(
	// The trigram indexes of migration 00014, named after their tables.
	func(table, alias, param string) string {
		return alias + ".rowid IN (SELECT rowid FROM " + table + "_search WHERE " + table + "_search MATCH " + param + ")"
	},
	func(text string) any { return readsql.FTS5Phrase(text) },
).WithHashPrefix(
	// A range of specs_full_hash_nocase_idx (migration 00017). NOCASE folds ASCII only, as
	// LIKE does, and the range ends at the searched text followed by F4 90, bytes no valid
	// UTF-8 reaches: what falls in it is exactly what starts with the text. A text holding
	// a NUL matches no hash (stored hashes hold none).
	func(column, param string) string {
		return "(" + column + " COLLATE NOCASE >= " + param + " AND " + column + " COLLATE NOCASE < " + param +
			" || CAST(x'F490' AS TEXT))"
	},
	func(text string) any { return text },
).WithSpecHashIs(specHashIs)

// specHashIs finds a spec by its full hash through specs_full_hash_nocase_idx, the one
// index of the column (migration 00021), comparing the hash exactly after it, or by its DAG
// hash. The two look-ups are a union: SQLite reads an OR of them by a scan of specs.
func specHashIs(param string) string {
	return "s.id IN (SELECT id FROM specs WHERE hash = " + param +
		" UNION ALL SELECT id FROM specs WHERE full_hash COLLATE NOCASE = " + param + " AND full_hash = " + param + ")"
}

// like is SQLite's LIKE, which ignores ASCII case, with rows' escape character.
func like(column, pattern string) string { return column + " LIKE " + pattern + ` ESCAPE '\'` }

// querier is what both *sql.DB and *sql.Tx offer: reads run on either.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the writer connection, perhaps shared with other
// writes (db.SQLite.WriteTx).
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	return wrap(op, s.db.WriteTx(ctx, fn))
}

// wrap is db.Annotate for what SQLite answers, sorted by db.SQLiteError; a refused check is
// named by the columns of the ingest schema that have it.
func wrap(op string, err error) error {
	return db.Annotate(op, db.SQLiteError(err, schema))
}

var schema = db.NewSQLiteSchema(migrations.SQLite)

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
