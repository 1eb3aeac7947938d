package sqlite

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/services/ingest/migrations"
)

// scanOf matches a plan line that reads a whole relation, capturing its name in the plan.
var scanOf = regexp.MustCompile(`^SCAN (\w+)`)

// TestWritePlansSearch guards the write path against plans that read a whole table: the
// cost of such a statement grows with everything stored, on every write. The planner
// has no statistics on a new file (nothing runs ANALYZE), which is how a server's file
// starts. Each statement names what it may scan: its CTEs and its JSON parameters.
func TestWritePlansSearch(t *testing.T) {
	sq, err := db.OpenSQLite(filepath.Join(t.TempDir(), "ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	ctx := context.Background()
	if err := db.Migrate(ctx, sq.Write, db.DialectSQLite, migrations.SQLite,
		db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, query string
		args        []any
		mayScan     []string
	}{
		{"insert specs", insertSpecsSQL, []any{"0.17", "[]", "t"}, []string{"j"}},
		{"insert edges", insertEdgesSQL, []any{"0.17", "[]"}, []string{"j"}},
		{"document closure", documentClosureSQL, []any{"0.17", "[]", "[]", "[]"}, []string{"j", "n", "p", "f"}},
		{"propagate closure", propagateClosureSQL, []any{"0.17", "[]"}, []string{"j", "below"}},
		{"build fingerprints", addPhasePrintsSQL, []any{1, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := sq.Write.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var plan []string
			for rs.Next() {
				var id, parent, unused int
				var detail string
				if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rs.Err(); err != nil {
				t.Fatal(err)
			}
			for _, line := range plan {
				if m := scanOf.FindStringSubmatch(line); m != nil && !slices.Contains(tc.mayScan, m[1]) {
					t.Errorf("plan reads a whole relation: %q\n%s", line, strings.Join(plan, "\n"))
				}
			}
		})
	}
}
