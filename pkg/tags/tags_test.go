package tags

import (
	"slices"
	"testing"
)

func TestDistinct(t *testing.T) {
	names, folded := Distinct([]string{" Night ", "", "night", "  ", "CI", "ci ", "x"})
	if !slices.Equal(names, []string{"Night", "CI", "x"}) || !slices.Equal(folded, []string{"night", "ci", "x"}) {
		t.Errorf("Distinct = %q, %q", names, folded)
	}
	if names, folded := Distinct(nil); len(names) != 0 || len(folded) != 0 {
		t.Errorf("Distinct(nil) = %q, %q", names, folded)
	}
}
