package service

import (
	"slices"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	got := []string{"1.10", "1.9", "1.2.11", "2.0", "1.0-rc1", "1.0", "develop", "1.9.1"}
	slices.SortFunc(got, CompareVersions)
	want := []string{"develop", "1.0", "1.0-rc1", "1.2.11", "1.9", "1.9.1", "1.10", "2.0"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}
