package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/db"
)

// schemaPoll is how often migrate --wait asks the database for its schema version.
const schemaPoll = time.Second

// waitForSchema returns once every service's PostgreSQL schema is at this binary's version,
// so that a role started after it never serves on tables it does not know. It fails when the
// schema is newer (an older binary must not run on it) and waits, however long, while the
// database is unreachable or behind: the orchestrator bounds the wait.
func waitForSchema(ctx context.Context, d config.Database, out io.Writer) error {
	if d.URL == "" {
		return errors.New("migrate --wait: needs SPACKMON_DATABASE_URL (SQLite is migrated by the process that opens it)")
	}
	var last string
	for {
		behind, err := schemaBehind(ctx, d.URL)
		switch {
		case err == nil && behind == "":
			fmt.Fprintln(out, "schema at this version:", storeName(d))
			return nil
		case errors.Is(err, errSchemaNewer):
			return err
		}
		why := behind
		if err != nil {
			why = err.Error()
		}
		if why != last {
			fmt.Fprintln(out, "waiting for the migration:", why)
			last = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate --wait: %w (last: %s)", ctx.Err(), why)
		case <-time.After(schemaPoll):
		}
	}
}

var errSchemaNewer = errors.New("migrate --wait: the database schema is newer than this binary")

// schemaBehind names the first service whose schema is behind, or "" when none is.
func schemaBehind(ctx context.Context, url string) (string, error) {
	for _, sc := range []schema{ingestSchema, authSchema, analysisSchema} {
		current, target, err := db.PostgresVersions(ctx, url, sc.postgres, db.WithVersionTable(sc.versionTable))
		switch {
		case err != nil:
			return "", err
		case current > target:
			return "", fmt.Errorf("%w: %s at %d, this binary knows %d", errSchemaNewer, sc.versionTable, current, target)
		case current < target:
			return fmt.Sprintf("%s at %d of %d", sc.versionTable, current, target), nil
		}
	}
	return "", nil
}
