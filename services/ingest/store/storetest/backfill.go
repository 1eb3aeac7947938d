package storetest

import (
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// Backfill checks BackfillFingerprints on st, whose backend test passes exec to run SQL
// on the store's database and forget, the statement that clears every event's fingerprint
// there: the events of some builds lose their fingerprints, as events stored before
// migration 00006 have none, and the backfill gives them back the same ones, in batches,
// until none is left.
func Backfill(t *testing.T, st store.Store, exec func(query string) error, forget string) {
	b1, b2, b3 := failingBuilds(t, st)
	// More events than one batch takes.
	var many []logparse.Event
	for i := range 7 {
		many = append(many, event(logparse.Error, i+1, "x.c:1:2: error: 'v' undeclared"), event(logparse.Warning, i+100, unused))
	}
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: b3, Name: "test", Status: store.PhaseStatusError, Events: many})
	before := map[int64][]store.BuildFingerprint{}
	for _, id := range []int64{b1, b2, b3} {
		before[id] = buildPrints(t, st, id)
	}
	for _, q := range []string{forget, `DELETE FROM build_fingerprints`, `DELETE FROM fingerprints`} {
		if err := exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if got := buildPrints(t, st, b1); len(got) != 0 {
		t.Fatalf("fingerprints after forgetting them: %+v", got)
	}
	batches, total := 0, 0
	for {
		n, err := st.BackfillFingerprints(ctx(t), 5)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if n > 5 {
			t.Fatalf("a batch of %d events, at most 5 asked", n)
		}
		batches++
		total += n
	}
	if total != 3+3+1+14 || batches != 5 {
		t.Errorf("backfilled %d events in %d batches, want 21 in 5", total, batches)
	}
	for id, want := range before {
		got := buildPrints(t, st, id)
		if len(got) != len(want) {
			t.Fatalf("build %d: %d fingerprints after the backfill, %d before", id, len(got), len(want))
		}
		for i := range want {
			if got[i].Hash != want[i].Hash || got[i].Events != want[i].Events || got[i].OtherBuilds != want[i].OtherBuilds {
				t.Errorf("build %d fingerprint %d: %+v after the backfill, %+v before", id, i, got[i], want[i])
			}
		}
	}
}
