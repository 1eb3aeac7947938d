package failuresql

import (
	"slices"
	"strings"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
)

// Prints fingerprints events: each event's hash, in order, and the distinct fingerprints
// sorted by hash, the order in which writers lock their rows.
func Prints(events []logparse.Event) (hashes []string, distinct []fingerprint.Print) {
	hashes = make([]string, len(events))
	seen := make(map[string]bool, len(events))
	for i, e := range events {
		p := fingerprint.Of(e.Kind, e.Text)
		hashes[i] = p.Hash
		if !seen[p.Hash] {
			seen[p.Hash] = true
			distinct = append(distinct, p)
		}
	}
	slices.SortFunc(distinct, func(a, b fingerprint.Print) int { return strings.Compare(a.Hash, b.Hash) })
	return hashes, distinct
}

// Columns splits prints into the columns of the fingerprints table.
func Columns(prints []fingerprint.Print) (hashes, kinds, classes, normals []string) {
	for _, p := range prints {
		hashes = append(hashes, p.Hash)
		kinds = append(kinds, string(p.Kind))
		classes = append(classes, string(p.Class))
		normals = append(normals, p.Normal)
	}
	return hashes, kinds, classes, normals
}

// Stored is an event stored without a fingerprint, as the backfill reads it.
type Stored struct {
	ID      int64
	Kind    string
	Text    string
	BuildID int64
}

// BackfillBatch is what the backfill writes for events: each event's hash, the distinct
// fingerprints, and the builds whose build fingerprints it rewrites.
func BackfillBatch(events []Stored) (ids []int64, hashes []string, distinct []fingerprint.Print, builds []int64) {
	parsed := make([]logparse.Event, len(events))
	for i, e := range events {
		ids = append(ids, e.ID)
		parsed[i] = logparse.Event{Kind: logparse.Kind(e.Kind), Text: e.Text}
		builds = append(builds, e.BuildID)
	}
	hashes, distinct = Prints(parsed)
	slices.Sort(builds)
	return ids, hashes, distinct, slices.Compact(builds)
}
