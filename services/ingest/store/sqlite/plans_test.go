package sqlite

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// scanOf matches a plan line that reads a whole relation, capturing its name in the plan.
var scanOf = regexp.MustCompile(`^SCAN (\w+)`)

// TestWritePlansSearch guards the write path against plans that read a whole table: the
// cost of such a statement grows with everything stored, on every write. The planner
// has no statistics on a new file (nothing runs ANALYZE), which is how a server's file
// starts. Each statement names what it may scan: its CTEs and its JSON parameters.
func TestWritePlansSearch(t *testing.T) {
	sq := newFile(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		mayScan     []string
	}{
		{"insert specs", insertSpecsSQL, []any{"0.17", "[]", "t"}, []string{"j"}},
		{"insert edges", insertEdgesSQL, []any{"0.17", "[]"}, []string{"j"}},
		{"document closure", documentClosureSQL, []any{"0.17", "[]", "[]", "[]"}, []string{"j", "n", "p", "f"}},
		{"propagate closure", propagateClosureSQL, []any{"0.17", "[]"}, []string{"j", "below"}},
		{"build fingerprints", fillPrints, []any{1, "[]"}, []string{"json_each"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, sq.Write, tc.query, tc.args...)
			for _, line := range plan {
				if m := scanOf.FindStringSubmatch(line); m != nil && !slices.Contains(tc.mayScan, m[1]) {
					t.Errorf("plan reads a whole relation: %q\n%s", line, strings.Join(plan, "\n"))
				}
			}
		})
	}
}
