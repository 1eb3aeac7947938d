package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	analysismigrations "github.com/spackmon/spackmon/services/analysis/migrations"
	analysisstore "github.com/spackmon/spackmon/services/analysis/store"
	analysispostgres "github.com/spackmon/spackmon/services/analysis/store/postgres"
	analysissqlite "github.com/spackmon/spackmon/services/analysis/store/sqlite"
	authmigrations "github.com/spackmon/spackmon/services/auth/migrations"
	authstore "github.com/spackmon/spackmon/services/auth/store"
	authpostgres "github.com/spackmon/spackmon/services/auth/store/postgres"
	authsqlite "github.com/spackmon/spackmon/services/auth/store/sqlite"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
)

// schema is one service's migrations and where its SQLite file lives in the data dir.
type schema struct {
	postgres, sqlite fs.FS
	versionTable     string
	sqliteFile       string
	// service names the database's pools in the metrics.
	service string
}

// The services share a PostgreSQL database (each with its own tables and version table);
// on SQLite each has its own file, so that one service's writes never wait for another's.
var (
	ingestSchema   = schema{migrations.Postgres, migrations.SQLite, migrations.VersionTable, "spackmon.db", "ingest"}
	authSchema     = schema{authmigrations.Postgres, authmigrations.SQLite, authmigrations.VersionTable, "auth.db", "auth"}
	analysisSchema = schema{analysismigrations.Postgres, analysismigrations.SQLite, analysismigrations.VersionTable, "analysis.db", "analysis"}
)

func storeName(d config.Database) string {
	if d.URL != "" {
		return "postgres"
	}
	return "sqlite:" + d.DataDir
}

// openDB opens the database of one service: a PostgreSQL pool when the URL is set, else its
// SQLite file, which is always migrated (it is private to this process's data dir). PostgreSQL
// is migrated only when asked: a deployment runs spackmon migrate once instead.
func openDB(ctx context.Context, d config.Database, sc schema, migrate bool) (*pgxpool.Pool, *db.SQLite, error) {
	if d.URL != "" {
		if migrate {
			if err := db.MigratePostgres(ctx, d.URL, sc.postgres, db.WithVersionTable(sc.versionTable)); err != nil {
				return nil, nil, err
			}
		}
		pool, err := db.OpenPostgres(ctx, d.URL)
		if err == nil {
			observePostgres(sc.service, pool)
		}
		return pool, nil, err
	}
	if err := os.MkdirAll(d.DataDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	sq, err := db.OpenSQLite(filepath.Join(d.DataDir, sc.sqliteFile))
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, sc.sqlite, db.WithVersionTable(sc.versionTable)); err != nil {
		sq.Close()
		return nil, nil, err
	}
	observeSQLite(sc.service, sq)
	return nil, sq, nil
}

func openIngestStore(ctx context.Context, d config.Database, migrate bool) (store.Store, error) {
	pool, sq, err := openDB(ctx, d, ingestSchema, migrate)
	switch {
	case err != nil:
		return nil, err
	case pool != nil:
		return postgres.New(pool), nil
	}
	return sqlite.New(sq), nil
}

func openAuthStore(ctx context.Context, d config.Database, migrate bool) (authstore.Store, error) {
	pool, sq, err := openDB(ctx, d, authSchema, migrate)
	switch {
	case err != nil:
		return nil, err
	case pool != nil:
		return authpostgres.New(pool), nil
	}
	return authsqlite.New(sq), nil
}

func openAnalysisStore(ctx context.Context, d config.Database, migrate bool) (analysisstore.Store, error) {
	pool, sq, err := openDB(ctx, d, analysisSchema, migrate)
	switch {
	case err != nil:
		return nil, err
	case pool != nil:
		return analysispostgres.New(pool), nil
	}
	return analysissqlite.New(sq), nil
}

func runMigrate(ctx context.Context, args []string) error {
	var cfg migrateConfig
	var wait bool
	if err := load("migrate", &cfg, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&wait, "wait", false, "migrate nothing: wait until another process has brought the PostgreSQL schema to this binary's version (a Kubernetes init container)")
	}); err != nil {
		return err
	}
	if wait {
		return waitForSchema(ctx, cfg.Database, os.Stdout)
	}
	for _, sc := range []schema{ingestSchema, authSchema, analysisSchema} {
		pool, sq, err := openDB(ctx, cfg.Database, sc, true)
		if err != nil {
			return err
		}
		if pool != nil {
			pool.Close()
		} else {
			sq.Close()
		}
	}
	adopted, err := adoptOwnersIn(ctx, cfg.Database)
	if err != nil {
		return err
	}
	fmt.Println("migrated", storeName(cfg.Database))
	if adopted > 0 {
		fmt.Println("builds owned by a user name, now owned by that user's id:", adopted)
	}
	return nil
}

func adoptOwnersIn(ctx context.Context, d config.Database) (int, error) {
	ingestSt, err := openIngestStore(ctx, d, false)
	if err != nil {
		return 0, err
	}
	defer ingestSt.Close()
	authSt, err := openAuthStore(ctx, d, false)
	if err != nil {
		return 0, err
	}
	defer authSt.Close()
	return adoptOwners(ctx, authSt, ingestSt)
}

// adoptOwners hands the builds made before builds were owned by user id, which are owned by a
// name, to the user of that name who existed when they were made. The ingest store cannot
// see the users, so this runs where both stores are open: spackmon migrate and serve. It is
// idempotent, and a user made later under a deleted user's name adopts none of them.
func adoptOwners(ctx context.Context, authSt authstore.Store, ingestSt store.Store) (int, error) {
	users, err := authSt.ListUsers(ctx)
	if err != nil {
		return 0, err
	}
	adoptions := make([]store.Adoption, len(users))
	for i, u := range users {
		adoptions[i] = store.Adoption{Name: u.Name, UserID: u.ID, Since: u.CreatedAt}
	}
	return ingestSt.AdoptOwners(ctx, adoptions)
}
