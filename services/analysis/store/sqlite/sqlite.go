// Package sqlite is the analysis store on an embedded SQLite database (modernc.org/sqlite).
//
// Writes go through db.SQLite's single writer connection, one immediate transaction at a
// time, so Records never race: concurrent ones of the same build simply run in turn.
// Rows of a Record go through statements prepared once per transaction, which for an
// in-process database costs no round trip per row. Reads use the reader pool and never
// wait for the writer (WAL).
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/page"
	"github.com/spackmon/spackmon/services/analysis/migrations"
	"github.com/spackmon/spackmon/services/analysis/store"
	"github.com/spackmon/spackmon/services/analysis/store/internal/writeorder"
)

// Store implements store.Store.
type Store struct {
	db *db.SQLite
}

var _ store.Store = (*Store)(nil)

// New returns a store on sq, which must hold the analysis migrations. Close closes sq.
func New(sq *db.SQLite) *Store { return &Store{db: sq} }

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	return s.db.Ping(ctx)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Record writes one analyze request in one transaction.
func (s *Store) Record(ctx context.Context, buildID int64, a store.Analysis) (store.Summary, error) {
	r := writeorder.Of(a)
	var sum store.Summary
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		sum, err = record(ctx, tx, buildID, r)
		return err
	})
	return sum, wrap("record analysis", err)
}

func record(ctx context.Context, tx *sql.Tx, buildID int64, r writeorder.Record) (store.Summary, error) {
	var sum store.Summary
	if r.ConfigArgs != nil {
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO analysis_config_args (build_id, args) VALUES (?1, ?2) "+
				"ON CONFLICT (build_id) DO UPDATE SET args = excluded.args", buildID, *r.ConfigArgs); err != nil {
			return sum, err
		}
		sum.ConfigArgs = true
	}
	if r.Environment != nil {
		if _, err := tx.ExecContext(ctx, "DELETE FROM analysis_environment_variables WHERE build_id = ?1", buildID); err != nil {
			return sum, err
		}
		err := each(ctx, tx, "INSERT INTO analysis_environment_variables (build_id, name, value) VALUES (?1, ?2, ?3)",
			r.Environment, func(v store.EnvironmentVariable) []any { return []any{buildID, v.Name, v.Value} })
		if err != nil {
			return sum, err
		}
		sum.EnvironmentVariables = len(r.Environment)
	}
	err := each(ctx, tx, `
INSERT INTO analysis_install_files (build_id, path, type, mode, owner, file_group, hash, size)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (build_id, path) DO UPDATE SET
    type = excluded.type, mode = excluded.mode, owner = excluded.owner,
    file_group = excluded.file_group, hash = excluded.hash, size = excluded.size`,
		r.InstallFiles, func(f store.InstallFile) []any {
			return []any{buildID, f.Path, f.Type, f.Mode, f.Owner, f.Group, f.Hash, f.Size}
		})
	if err != nil {
		return sum, err
	}
	sum.InstallFiles = len(r.InstallFiles)
	// Files named only by attributes get a row, as upstream made one; a file the
	// manifest described keeps what it said.
	err = each(ctx, tx, "INSERT INTO analysis_install_files (build_id, path) VALUES (?1, ?2) ON CONFLICT (build_id, path) DO NOTHING",
		r.FilePaths, func(p string) []any { return []any{buildID, p} })
	if err != nil {
		return sum, err
	}
	err = each(ctx, tx, `
INSERT INTO analysis_attributes (build_id, path, analyzer, name, value, binary_value, json_value)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (build_id, path, analyzer, name) DO UPDATE SET
    value = excluded.value, binary_value = excluded.binary_value, json_value = excluded.json_value`,
		r.Attributes, func(a store.Attribute) []any {
			// A nil slice is NULL; a non-nil empty one must stay an empty BLOB.
			var bin any
			if a.BinaryValue != nil {
				bin = a.BinaryValue
			}
			return []any{buildID, a.InstallFile, a.Analyzer, a.Name, a.Value, bin, a.JSONValue}
		})
	if err != nil {
		return sum, err
	}
	sum.Attributes = len(r.Attributes)
	return sum, nil
}

// each runs the statement query once for each of xs, with args(x) as its arguments,
// preparing it once.
func each[T any](ctx context.Context, tx *sql.Tx, query string, xs []T, args func(T) []any) error {
	if len(xs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, x := range xs {
		if _, err := stmt.ExecContext(ctx, args(x)...); err != nil {
			return err
		}
	}
	return nil
}

// ListInstallFiles returns a page of the build's install files, by path.
func (s *Store) ListInstallFiles(ctx context.Context, q store.InstallFileQuery) ([]store.InstallFile, error) {
	// The lower bound lets the (build_id, path) index start at the prefix; the substr
	// comparison keeps the exact meaning of a prefix (LIKE would ignore case and need
	// escaping).
	rs, err := s.db.Read.QueryContext(ctx, "SELECT path, type, mode, owner, file_group, hash, size FROM analysis_install_files "+
		"WHERE build_id = ?1 AND (?2 = '' OR type = ?2) AND path >= ?3 AND substr(path, 1, length(?3)) = ?3 AND path > ?4 "+
		"ORDER BY path LIMIT ?5",
		q.BuildID, q.Type, q.PathPrefix, q.After, page.Size(q.Limit))
	if err != nil {
		return nil, wrap("list install files", err)
	}
	defer rs.Close()
	files := []store.InstallFile{}
	for rs.Next() {
		var f store.InstallFile
		var mode, owner, group, size sql.NullInt64
		if err := rs.Scan(&f.Path, &f.Type, &mode, &owner, &group, &f.Hash, &size); err != nil {
			return nil, wrap("list install files", err)
		}
		f.Mode, f.Owner, f.Group, f.Size = ptr(mode), ptr(owner), ptr(group), ptr(size)
		files = append(files, f)
	}
	return files, wrap("list install files", rs.Err())
}

func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

// GetEnvironment returns the build's environment variables, by name.
func (s *Store) GetEnvironment(ctx context.Context, buildID int64) ([]store.EnvironmentVariable, error) {
	rs, err := s.db.Read.QueryContext(ctx,
		"SELECT name, value FROM analysis_environment_variables WHERE build_id = ?1 ORDER BY name", buildID)
	if err != nil {
		return nil, wrap("get environment", err)
	}
	defer rs.Close()
	env := []store.EnvironmentVariable{}
	for rs.Next() {
		var v store.EnvironmentVariable
		if err := rs.Scan(&v.Name, &v.Value); err != nil {
			return nil, wrap("get environment", err)
		}
		env = append(env, v)
	}
	return env, wrap("get environment", rs.Err())
}

// GetConfigArgs returns the build's configure arguments.
func (s *Store) GetConfigArgs(ctx context.Context, buildID int64) (string, bool, error) {
	var args string
	err := s.db.Read.QueryRowContext(ctx, "SELECT args FROM analysis_config_args WHERE build_id = ?1", buildID).Scan(&args)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("get config args", err)
	}
	return args, true, nil
}

// ListAttributes returns a page of the builds' attributes, by id. The build ids travel
// as one JSON array parameter, which json_each turns into a relation.
func (s *Store) ListAttributes(ctx context.Context, q store.AttributeQuery) ([]store.AttributeRef, error) {
	if len(q.BuildIDs) == 0 {
		return []store.AttributeRef{}, nil
	}
	ids, err := json.Marshal(q.BuildIDs)
	if err != nil {
		return nil, err
	}
	rs, err := s.db.Read.QueryContext(ctx, "SELECT id, build_id, path, analyzer, name, "+
		"substr(COALESCE(value, json_value, ''), 1, "+strconv.Itoa(store.PreviewLength+1)+"), binary_value IS NOT NULL FROM analysis_attributes "+
		"WHERE build_id IN (SELECT value FROM json_each(?1)) AND (?2 = '' OR analyzer = ?2) AND (?3 = '' OR name = ?3) AND id > ?4 "+
		"ORDER BY id LIMIT ?5",
		string(ids), q.Analyzer, q.Name, q.AfterID, page.Size(q.Limit))
	if err != nil {
		return nil, wrap("list attributes", err)
	}
	defer rs.Close()
	refs := []store.AttributeRef{}
	for rs.Next() {
		var a store.AttributeRef
		if err := rs.Scan(&a.ID, &a.BuildID, &a.InstallFile, &a.Analyzer, &a.Name, &a.Preview, &a.Binary); err != nil {
			return nil, wrap("list attributes", err)
		}
		refs = append(refs, a)
	}
	return refs, wrap("list attributes", rs.Err())
}

// GetAttribute returns one attribute with its value.
func (s *Store) GetAttribute(ctx context.Context, id int64) (store.Attribute, error) {
	var a store.Attribute
	var value, jsonValue sql.NullString
	var bin []byte
	var hasBin bool
	// The driver reads an empty BLOB as nil, which would make it NULL: the IS NOT NULL
	// column tells the two apart.
	err := s.db.Read.QueryRowContext(ctx, "SELECT id, build_id, path, analyzer, name, value, binary_value, binary_value IS NOT NULL, json_value "+
		"FROM analysis_attributes WHERE id = ?1", id).
		Scan(&a.ID, &a.BuildID, &a.InstallFile, &a.Analyzer, &a.Name, &value, &bin, &hasBin, &jsonValue)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Attribute{}, store.AttributeNotFound(id)
	}
	if err != nil {
		return store.Attribute{}, wrap("get attribute", err)
	}
	if value.Valid {
		a.Value = &value.String
	}
	if jsonValue.Valid {
		a.JSONValue = &jsonValue.String
	}
	if hasBin && bin == nil {
		bin = []byte{}
	}
	a.BinaryValue = bin
	return a, nil
}

// wrap names what failed and sorts what SQLite answers (db.SQLiteError); a refused check
// is named by the columns of the analysis schema that have it.
func wrap(op string, err error) error {
	return db.Annotate(op, db.SQLiteError(err, schema))
}

var schema = db.NewSQLiteSchema(migrations.SQLite)
