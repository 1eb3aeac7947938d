package sqlite_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/sqlite"
)

// An event stored before migration 00011 answers with the context it was stored with,
// not with lines of its phase's log, after the upgrade.
func TestUpgradeKeepsEventContext(t *testing.T) {
	ctx := context.Background()
	first, err := fs.ReadFile(migrations.SQLite, "00001_ingest_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite.New(sq)
	defer st.Close()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, fstest.MapFS{"00001_ingest_schema.sql": {Data: first}},
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	const at = "2026-01-01T00:00:00.000000Z"
	for _, q := range []string{
		`INSERT INTO specs (id, name, spack_version, full_hash, created_at) VALUES (1, 'zlib', '0.17.2', 'zfh', '` + at + `')`,
		`INSERT INTO build_environments (id, hostname, kernel_version, host_os, host_target, platform) VALUES (1, 'h', 'k', 'o', 't', 'linux')`,
		`INSERT INTO builds (id, spec_id, env_id, owner, created_at, updated_at) VALUES (1, 1, 1, 'erin', '` + at + `', '` + at + `')`,
		// The log is not zstd, so a read that went to it for context would fail.
		`INSERT INTO phases (id, build_id, name, status, output, output_bytes, updated_at) VALUES (1, 1, 'build', 'ERROR', x'00ff', 2, '` + at + `')`,
		`INSERT INTO phase_events (phase_id, kind, line_no, text, pre_context, post_context, start_line, end_line)
		 VALUES (1, 'error', 3, 'error: old', 'one' || char(10) || 'two', 'four', 1, 5)`,
	} {
		if _, err := sq.Write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	events, err := st.ListEvents(ctx, store.EventQuery{BuildID: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("ListEvents = %+v, %v", events, err)
	}
	if e := events[0]; e.PreContext != "one\ntwo" || e.PostContext != "four" || e.Start != 1 || e.End != 5 || e.ContextInLog {
		t.Fatalf("the old event after the upgrade: %+v", e)
	}
}
