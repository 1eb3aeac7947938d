// Package postgres is the analysis store on PostgreSQL (pgx pool).
//
// A Record is one transaction that first takes a transaction-scoped advisory lock on its
// build: Records of one build run one after the other (a replaced environment is then
// exactly one request's set, never a mix of two), and those of different builds do not
// wait for each other. Sets of rows travel as arrays that unnest turns into a relation.
// Install files are kept in chunks of a build's files (files.go), COPYed as rows of arrays:
// a 20,000-file manifest is a few statements, not 20,000 rows.
package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/internal/writeorder"
)

// Store implements store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// New returns a store on pool, which must hold the analysis migrations. Close closes pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// attempts bounds the retries of a Record that lost a deadlock or serialization race;
// the build lock should leave none, but other writers may share the database.
const attempts = 5

// Record writes one analyze request in one transaction.
func (s *Store) Record(ctx context.Context, buildID int64, a store.Analysis) (store.Summary, error) {
	r := writeorder.Of(a)
	var sum store.Summary
	err := db.Retry(ctx, attempts, func() error {
		return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			var err error
			sum, err = record(ctx, tx, buildID, r)
			return err
		})
	})
	return sum, wrap("record analysis", err)
}

func record(ctx context.Context, tx pgx.Tx, buildID int64, r writeorder.Record) (store.Summary, error) {
	var sum store.Summary
	// The key is namespaced by text so that it cannot meet another service's advisory
	// lock on the same number.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('spackmon analysis build ' || $1::bigint::text, 0))", buildID); err != nil {
		return sum, err
	}
	if r.ConfigArgs != nil {
		if _, err := tx.Exec(ctx,
			"INSERT INTO analysis_config_args (build_id, args) VALUES ($1, $2) "+
				"ON CONFLICT (build_id) DO UPDATE SET args = excluded.args", buildID, *r.ConfigArgs); err != nil {
			return sum, err
		}
		sum.ConfigArgs = true
	}
	if r.Environment != nil {
		n, err := replaceEnvironment(ctx, tx, buildID, r.Environment)
		if err != nil {
			return sum, err
		}
		sum.EnvironmentVariables = n
	}
	if len(r.InstallFiles) > 0 || len(r.FilePaths) > 0 {
		// Files named only by attributes get a row, as upstream made one; a file the
		// manifest described keeps what it said.
		if err := writeFiles(ctx, tx, buildID, changesOf(r.InstallFiles, r.FilePaths)); err != nil {
			return sum, err
		}
		sum.InstallFiles = len(r.InstallFiles)
	}
	if len(r.Attributes) > 0 {
		n, err := upsertAttributes(ctx, tx, buildID, r.Attributes)
		if err != nil {
			return sum, err
		}
		sum.Attributes = n
	}
	return sum, nil
}

// replaceEnvironment replaces the build's environment, one row of two arrays by name.
func replaceEnvironment(ctx context.Context, tx pgx.Tx, buildID int64, env []store.EnvironmentVariable) (int, error) {
	if len(env) == 0 {
		_, err := tx.Exec(ctx, "DELETE FROM analysis_environments WHERE build_id = $1", buildID)
		return 0, err
	}
	names := make([]string, len(env))
	values := make([]string, len(env))
	for i, v := range env {
		names[i], values[i] = v.Name, v.Value
	}
	_, err := tx.Exec(ctx, `INSERT INTO analysis_environments (build_id, names, "values") VALUES ($1, $2, $3)
ON CONFLICT (build_id) DO UPDATE SET names = excluded.names, "values" = excluded."values"`, buildID, names, values)
	return len(env), err
}

func upsertAttributes(ctx context.Context, tx pgx.Tx, buildID int64, attrs []store.Attribute) (int, error) {
	n := len(attrs)
	paths, analyzers, names := make([]string, n), make([]string, n), make([]string, n)
	values, jsons := make([]*string, n), make([]*string, n)
	binaries := make([][]byte, n)
	for i, a := range attrs {
		paths[i], analyzers[i], names[i] = a.InstallFile, a.Analyzer, a.Name
		values[i], binaries[i], jsons[i] = a.Value, a.BinaryValue, a.JSONValue
	}
	_, err := tx.Exec(ctx, `
INSERT INTO analysis_attributes (build_id, path, analyzer, name, value, binary_value, json_value)
SELECT $1, a.path, a.analyzer, a.name, a.value, a.bin, a.json
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[])
     AS a(path, analyzer, name, value, bin, json)
ORDER BY a.path, a.analyzer, a.name
ON CONFLICT (build_id, path, analyzer, name) DO UPDATE SET
    value = excluded.value, binary_value = excluded.binary_value, json_value = excluded.json_value`,
		buildID, paths, analyzers, names, values, binaries, jsons)
	return n, err
}

// GetEnvironment returns the build's environment variables, by name.
func (s *Store) GetEnvironment(ctx context.Context, buildID int64) ([]store.EnvironmentVariable, error) {
	var names, values []string
	err := s.pool.QueryRow(ctx, `SELECT names, "values" FROM analysis_environments WHERE build_id = $1`, buildID).Scan(&names, &values)
	if errors.Is(err, pgx.ErrNoRows) {
		return []store.EnvironmentVariable{}, nil
	}
	if err != nil {
		return nil, wrap("get environment", err)
	}
	env := make([]store.EnvironmentVariable, len(names))
	for i := range names {
		env[i] = store.EnvironmentVariable{Name: names[i], Value: values[i]}
	}
	return env, nil
}

// GetConfigArgs returns the build's configure arguments.
func (s *Store) GetConfigArgs(ctx context.Context, buildID int64) (string, bool, error) {
	var args string
	err := s.pool.QueryRow(ctx, "SELECT args FROM analysis_config_args WHERE build_id = $1", buildID).Scan(&args)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("get config args", err)
	}
	return args, true, nil
}

// ListAttributes returns a page of the builds' attributes, by id.
func (s *Store) ListAttributes(ctx context.Context, q store.AttributeQuery) ([]store.AttributeRef, error) {
	if len(q.BuildIDs) == 0 {
		return []store.AttributeRef{}, nil
	}
	rs, err := s.pool.Query(ctx, "SELECT id, build_id, path, analyzer, name, "+
		"substr(COALESCE(value, json_value, ''), 1, "+strconv.Itoa(store.PreviewLength+1)+"), binary_value IS NOT NULL FROM analysis_attributes "+
		"WHERE build_id = ANY($1::bigint[]) AND ($2 = '' OR analyzer = $2) AND ($3 = '' OR name = $3) AND id > $4 "+
		"ORDER BY id LIMIT $5",
		q.BuildIDs, q.Analyzer, q.Name, q.AfterID, page.Size(q.Limit))
	if err != nil {
		return nil, wrap("list attributes", err)
	}
	refs, err := pgx.CollectRows(rs, pgx.RowToStructByPos[store.AttributeRef])
	return refs, wrap("list attributes", err)
}

// GetAttribute returns one attribute with its value.
func (s *Store) GetAttribute(ctx context.Context, id int64) (store.Attribute, error) {
	var a store.Attribute
	err := s.pool.QueryRow(ctx, "SELECT id, build_id, path, analyzer, name, value, binary_value, json_value "+
		"FROM analysis_attributes WHERE id = $1", id).
		Scan(&a.ID, &a.BuildID, &a.InstallFile, &a.Analyzer, &a.Name, &a.Value, &a.BinaryValue, &a.JSONValue)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Attribute{}, store.AttributeNotFound(id)
	}
	return a, wrap("get attribute", err)
}

// wrap names what failed and sorts what PostgreSQL and pgx answer (db.PostgresError).
func wrap(op string, err error) error {
	return db.Annotate(op, db.PostgresError(err))
}
