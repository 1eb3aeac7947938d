// Package tags is the one rule for build tags: how they are compared (Fold) and which of a
// list a build keeps (Distinct). The ingest service and both of its stores use it.
package tags

import "strings"

// Fold is the form in which tags are compared and kept unique.
func Fold(tag string) string { return strings.ToLower(strings.TrimSpace(tag)) }

// Distinct are the tags a build is given: trimmed, without empty ones, one for each folded
// form, spelled as first given, in the order given; folded are their folded forms.
func Distinct(tags []string) (names, folded []string) {
	n := len(tags)
	buf := make([]string, 2*n) // one allocation for both
	names, folded = buf[:0:n], buf[n:n]
	seen := map[string]bool{}
	for _, t := range tags {
		f := Fold(t)
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		names, folded = append(names, strings.TrimSpace(t)), append(folded, f)
	}
	return names, folded
}
