package sqlite

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/failuresql"
)

// TestReadPlansAtScale guards the reads that were slow at 100,000 builds against plans that
// read a whole table, on a new file without statistics as a server's starts: the chart's
// counts, the matrix, the search, the failure list (whose spread counts would walk every
// value of a dimension without the index named), and the look-ups of specs by hash, whose
// full hash has only the NOCASE index (migration 00021). Each names what it may scan (its
// subqueries, and the handful of compilers and tags the search matches with LIKE). With -v
// it prints the plans.
func TestReadPlansAtScale(t *testing.T) {
	sq := Migrated(t)
	search, searchArgs := reads.ListBuilds(store.BuildQuery{Text: "zlib", Limit: 50})
	since := "2026-01-01T00:00:00.000000Z"
	failureArgs := failuresql.FailuresArgs(store.FailureQuery{Kind: logparse.Error, Since: time.Now().AddDate(0, 0, -7), Limit: 50},
		func(t time.Time) any { return t.UTC().Format(timeLayout) })
	getSpec, getSpecArgs := reads.GetSpec("abc", "0.17.2")
	for _, tc := range []struct {
		name, query string
		args        []any
		mayScan     []string
		// mustRead is what the plan reads in place of the relation it replaced.
		mustRead string
	}{
		{"build counts", buildCountsByDaySQL, []any{since, "", since}, nil, "SEARCH build_day_counts"},
		{"build counts of an owner", buildCountsByDaySQL, []any{since, "bob", since}, nil, "SEARCH build_day_counts"},
		{"matrix", matrixCountsSQL, []any{"zlib"}, []string{"x"}, "COVERING INDEX builds_spec_status_idx"},
		{"search", search, searchArgs, []string{"tc", "tg", "specs_search", "build_environments_search", "cdash_builds_search"}, ""},
		// A full hash is found through the NOCASE index, its one index (migration 00021).
		{"build spec", reads.BuildSpec, []any{"abc", "0.17.2"}, nil, "specs_full_hash_nocase_idx"},
		{"spec", getSpec, getSpecArgs, nil, "specs_full_hash_nocase_idx"},
		{"spec builds", specBuildsSQL, []any{`["abc"]`, 3}, []string{"jsonb_each", "newest"}, "specs_full_hash_nocase_idx"},
		{"failures", failures.Failures, failureArgs, []string{"w", "t"},
			"SEARCH sp USING INDEX failure_spread_seen_idx (fingerprint=? AND dim=? AND last_day=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, sq.Read, tc.query, tc.args...)
			t.Logf("EXPLAIN QUERY PLAN:\n%s", strings.Join(plan, "\n"))
			for _, line := range plan {
				if m := scanOf.FindStringSubmatch(strings.TrimLeft(line, "|`- ")); m != nil && !slices.Contains(tc.mayScan, m[1]) {
					t.Errorf("plan reads a whole relation: %q\n%s", line, strings.Join(plan, "\n"))
				}
			}
			if tc.mustRead != "" && !slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, tc.mustRead) }) {
				t.Errorf("plan does not %s:\n%s", tc.mustRead, strings.Join(plan, "\n"))
			}
		})
	}
}

// explain is the detail of each line of the query's plan on conn.
func explain(t *testing.T, conn querier, query string, args ...any) []string {
	t.Helper()
	rs, err := conn.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
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
	return plan
}
