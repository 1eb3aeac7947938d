// Package writeorder puts an analyze request's rows in the one order both analysis store
// implementations write them in: concurrent writers that lock rows in one order cannot
// deadlock. The service has validated the request before it reaches the store.
package writeorder

import (
	"cmp"
	"slices"
	"strings"

	"github.com/spackmon/spackmon/services/analysis/store"
)

// Record is an Analysis in the order both stores write it: install files by path,
// attributes by (path, analyzer, name), variables by name, duplicates dropped (the last one
// given wins).
type Record struct {
	ConfigArgs   *string
	Environment  []store.EnvironmentVariable // nil: leave alone
	InstallFiles []store.InstallFile
	// FilePaths are the distinct install-file paths the attributes name, by path.
	FilePaths  []string
	Attributes []store.Attribute
}

// Of returns a in write order.
func Of(a store.Analysis) Record {
	r := Record{ConfigArgs: a.ConfigArgs}
	if a.Environment != nil {
		r.Environment = make([]store.EnvironmentVariable, 0, len(a.Environment))
		for name, value := range a.Environment {
			r.Environment = append(r.Environment, store.EnvironmentVariable{Name: name, Value: value})
		}
		slices.SortFunc(r.Environment, func(x, y store.EnvironmentVariable) int { return strings.Compare(x.Name, y.Name) })
	}
	r.InstallFiles = lastWins(a.InstallFiles, func(x, y store.InstallFile) int { return strings.Compare(x.Path, y.Path) })
	r.Attributes = lastWins(a.Attributes, func(x, y store.Attribute) int {
		return cmp.Or(strings.Compare(x.InstallFile, y.InstallFile), strings.Compare(x.Analyzer, y.Analyzer), strings.Compare(x.Name, y.Name))
	})
	for _, at := range r.Attributes {
		if at.InstallFile != "" && (len(r.FilePaths) == 0 || r.FilePaths[len(r.FilePaths)-1] != at.InstallFile) {
			r.FilePaths = append(r.FilePaths, at.InstallFile)
		}
	}
	return r
}

// lastWins sorts a copy of xs stably by key and keeps the last of each run of equal keys.
func lastWins[T any](xs []T, key func(x, y T) int) []T {
	out := slices.Clone(xs)
	slices.SortStableFunc(out, key)
	kept := out[:0]
	for _, x := range out {
		if len(kept) > 0 && key(kept[len(kept)-1], x) == 0 {
			kept[len(kept)-1] = x
			continue
		}
		kept = append(kept, x)
	}
	return kept
}
