package db

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Dialect names the SQL dialect a set of migrations is written in.
type Dialect string

const (
	DialectPostgres Dialect = "postgres"
	DialectSQLite   Dialect = "sqlite"
)

// DefaultVersionTable is where applied migration versions are recorded unless
// WithVersionTable says otherwise.
const DefaultVersionTable = "goose_db_version"

// MigrateOption adjusts Migrate.
type MigrateOption func(*migrateConfig)

type migrateConfig struct{ table string }

// WithVersionTable names the table that records applied versions. Services that share one
// database must each use their own, because their migrations are numbered independently.
func WithVersionTable(name string) MigrateOption {
	return func(c *migrateConfig) { c.table = name }
}

// Migrate applies the goose SQL migrations in fsys (files at its root) that db has not
// had yet.
func Migrate(ctx context.Context, db *sql.DB, dialect Dialect, fsys fs.FS, opts ...MigrateOption) error {
	provider, table, err := newProvider(db, dialect, fsys, opts)
	if err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", table, err)
	}
	return nil
}

// MigrateDownTo undoes the migrations of fsys above version, newest first: for a test that
// writes through today's store and then replays an upgrade's backfill.
func MigrateDownTo(ctx context.Context, db *sql.DB, dialect Dialect, fsys fs.FS, version int64, opts ...MigrateOption) error {
	provider, table, err := newProvider(db, dialect, fsys, opts)
	if err != nil {
		return err
	}
	if _, err := provider.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s down to %d: %w", table, version, err)
	}
	return nil
}

// MigrateUpTo applies the migrations of fsys up to version: for a test that compares a
// schema with the one before it.
func MigrateUpTo(ctx context.Context, db *sql.DB, dialect Dialect, fsys fs.FS, version int64, opts ...MigrateOption) error {
	provider, table, err := newProvider(db, dialect, fsys, opts)
	if err != nil {
		return err
	}
	if _, err := provider.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s up to %d: %w", table, version, err)
	}
	return nil
}

func newProvider(db *sql.DB, dialect Dialect, fsys fs.FS, opts []MigrateOption) (*goose.Provider, string, error) {
	cfg := migrateConfig{table: DefaultVersionTable}
	for _, o := range opts {
		o(&cfg)
	}
	table := cfg.table
	providerOpts := []goose.ProviderOption{goose.WithTableName(table)}
	var gooseDialect goose.Dialect
	switch dialect {
	case DialectPostgres:
		gooseDialect = goose.DialectPostgres
		// Replicas started together may all run their migrations: an advisory lock per
		// table makes them take turns.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(table)))
		if err != nil {
			return nil, table, err
		}
		providerOpts = append(providerOpts, goose.WithSessionLocker(locker))
	case DialectSQLite:
		gooseDialect = goose.DialectSQLite3
	default:
		return nil, table, fmt.Errorf("migrate: unknown dialect %q", dialect)
	}
	provider, err := goose.NewProvider(gooseDialect, db, fsys, providerOpts...)
	if err != nil {
		return nil, table, fmt.Errorf("migrate %s: %w", table, err)
	}
	return provider, table, nil
}

// MigratePostgres opens url, applies the migrations in fsys as Migrate does, and closes
// the connection again.
func MigratePostgres(ctx context.Context, url string, fsys fs.FS, opts ...MigrateOption) error {
	return withPostgres(url, func(sqlDB *sql.DB) error { return Migrate(ctx, sqlDB, DialectPostgres, fsys, opts...) })
}

// MigratePostgresDownTo opens url, undoes the migrations as MigrateDownTo does, and closes
// the connection again.
func MigratePostgresDownTo(ctx context.Context, url string, fsys fs.FS, version int64, opts ...MigrateOption) error {
	return withPostgres(url, func(sqlDB *sql.DB) error {
		return MigrateDownTo(ctx, sqlDB, DialectPostgres, fsys, version, opts...)
	})
}

// withPostgres runs fn on a database/sql connection to url.
func withPostgres(url string, fn func(*sql.DB) error) error {
	sqlDB, err := openPostgresSQL(url)
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	return fn(sqlDB)
}

// openPostgresSQL opens url with database/sql. The URL may carry the pool's settings
// (pool_max_conns and the like), which pgxpool takes out of it and a plain connection would
// send to the server as unknown parameters: parsing it as the pool does drops them.
func openPostgresSQL(url string) (*sql.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return stdlib.OpenDB(*cfg.ConnConfig), nil
}

func lockID(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("spackmon migrate " + table))
	return int64(h.Sum64() >> 1)
}

// MigrationsIn returns the directory dir of an embedded file system, where a service keeps
// one dialect's migrations; goose wants the files at the root. It panics on a dir that is
// not there, which only a build with missing embedded files can have.
func MigrationsIn(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
