package db

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// PostgresVersions reports the highest migration version applied to the database at url and
// the highest in fsys, without taking the migration lock: a process waiting for another's
// migration must not queue behind it.
func PostgresVersions(ctx context.Context, url string, fsys fs.FS, opts ...MigrateOption) (current, target int64, err error) {
	cfg := migrateConfig{table: DefaultVersionTable}
	for _, o := range opts {
		o(&cfg)
	}
	sqlDB, err := openPostgresSQL(url)
	if err != nil {
		return 0, 0, err
	}
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithTableName(cfg.table))
	if err != nil {
		return 0, 0, fmt.Errorf("versions %s: %w", cfg.table, err)
	}
	current, target, err = provider.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("versions %s: %w", cfg.table, err)
	}
	return current, target, nil
}
