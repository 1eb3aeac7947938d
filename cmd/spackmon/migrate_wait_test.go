package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spackmon/spackmon/pkg/config"
	"github.com/spackmon/spackmon/pkg/pgtest"
)

// migrate --wait waits while the schema is behind, returns once spackmon migrate has run,
// and refuses a schema newer than the binary.
func TestMigrateWaitWaitsForTheMigration(t *testing.T) {
	d := config.Database{URL: pgtest.NewDatabase(t, "empty", func(context.Context, string) error { return nil })}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- waitForSchema(ctx, d, &out) }()
	select {
	case err := <-done:
		t.Fatalf("returned before any migration: %v", err)
	case <-time.After(2 * schemaPoll):
	}
	t.Setenv("SPACKMON_DATABASE_URL", d.URL)
	if err := runMigrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("after the migration: %v", err)
	}
	if !strings.Contains(out.String(), "waiting for the migration") {
		t.Errorf("said nothing while waiting: %q", out.String())
	}

	conn, err := pgx.Connect(ctx, d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{ingestSchema.versionTable}.Sanitize()+" (version_id, is_applied) VALUES (9999, true)"); err != nil {
		t.Fatal(err)
	}
	if err := waitForSchema(ctx, d, &out); !errors.Is(err, errSchemaNewer) {
		t.Fatalf("a newer schema: %v, want %v", err, errSchemaNewer)
	}
}
