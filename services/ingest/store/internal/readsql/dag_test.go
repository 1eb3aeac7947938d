package readsql

import (
	"slices"
	"testing"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/store/internal/rows"
)

func TestMatchConstraintKeepsMatches(t *testing.T) {
	c, err := spackspec.ParseConstraint("zlib@1.2.11:+shared%gcc")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := MatchConstraint(&c, []rows.Candidate{
		{ID: 1, Version: "1.2.11", Parameters: `{"shared":true}`, CompilerName: "gcc", CompilerVersion: "12"},
		{ID: 2, Version: "1.2.8", Parameters: `{"shared":true}`, CompilerName: "gcc"},
		{ID: 3, Version: "1.3", Parameters: `{"shared":false}`, CompilerName: "gcc"},
		{ID: 4, Version: "1.3", Parameters: `{"shared":true}`, CompilerName: "clang"},
		{ID: 5, Version: "1.3.1", Parameters: `{"shared":true}`, CompilerName: "gcc"},
	})
	if err != nil || !slices.Equal(ids, []int64{1, 5}) {
		t.Fatalf("MatchConstraint = %v, %v; want [1 5]", ids, err)
	}
}

func TestMatchConstraintRefusesTooManySpecs(t *testing.T) {
	c, err := spackspec.ParseConstraint("zlib")
	if err != nil {
		t.Fatal(err)
	}
	candidates := make([]rows.Candidate, MaxConstraintSpecs+1)
	for i := range candidates {
		candidates[i] = rows.Candidate{ID: int64(i + 1), Version: "1.0"}
	}
	if _, err := MatchConstraint(&c, candidates); !errs.Is(err, errs.BadRequest) {
		t.Fatalf("MatchConstraint of %d specs = %v, want BAD_REQUEST", len(candidates), err)
	}
	if ids, err := MatchConstraint(&c, candidates[:MaxConstraintSpecs]); err != nil || len(ids) != MaxConstraintSpecs {
		t.Fatalf("MatchConstraint of exactly the maximum = %d ids, %v", len(ids), err)
	}
}
