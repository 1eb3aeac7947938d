package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/postgres"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
)

func storeName(d config.Database) string {
	if d.URL != "" {
		return "postgres"
	}
	return "sqlite:" + d.SQLitePath()
}

// openIngestStore opens the ingest store, migrating it first when asked (serve does; a
// PostgreSQL deployment runs spackmon migrate once instead).
func openIngestStore(ctx context.Context, d config.Database, migrate bool) (store.Store, error) {
	if d.URL != "" {
		if migrate {
			if err := migrateIngest(ctx, d); err != nil {
				return nil, err
			}
		}
		pool, err := db.OpenPostgres(ctx, d.URL)
		if err != nil {
			return nil, err
		}
		return postgres.New(pool), nil
	}
	if err := os.MkdirAll(d.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	sq, err := db.OpenSQLite(d.SQLitePath())
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		sq.Close()
		return nil, err
	}
	return sqlite.New(sq), nil
}

func migrateIngest(ctx context.Context, d config.Database) error {
	if d.URL == "" {
		st, err := openIngestStore(ctx, d, true)
		if err != nil {
			return err
		}
		return st.Close()
	}
	return db.MigratePostgres(ctx, d.URL, migrations.Postgres, db.WithVersionTable(migrations.VersionTable))
}

func runMigrate(ctx context.Context, args []string) error {
	var cfg migrateConfig
	if err := load(&cfg, args, nil); err != nil {
		return err
	}
	if err := migrateIngest(ctx, cfg.Database); err != nil {
		return err
	}
	fmt.Println("migrated", storeName(cfg.Database))
	return nil
}
