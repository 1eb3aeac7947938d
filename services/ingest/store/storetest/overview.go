package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spackmon/spackmon/services/ingest/store"
)

var overviewTests = []namedTest{
	{Name: "BuildCountsByDay", Fn: testBuildCountsByDay},
	{Name: "SpecBuilds", Fn: testSpecBuilds},
	{Name: "MatrixCounts", Fn: testMatrixCounts},
	{Name: "OrderedPages", Fn: testOrderedPages},
}

func testBuildCountsByDay(t *testing.T, st store.Store) {
	seedBuilds(t, st)
	today := time.Now().UTC().Format("2006-01-02")
	count := func(since time.Time, owner string) []store.DayCount {
		t.Helper()
		got, err := st.BuildCountsByDay(ctx(t), since, owner)
		if err != nil {
			t.Fatalf("BuildCountsByDay: %v", err)
		}
		return got
	}
	yesterday := time.Now().Add(-24 * time.Hour)
	want := []store.DayCount{{Day: today, Status: store.StatusFailed, Count: 1}, {Day: today, Status: store.StatusNotRun, Count: 3}, {Day: today, Status: store.StatusSuccess, Count: 1}}
	if got := count(yesterday, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("every owner: %+v, want %+v", got, want)
	}
	want = []store.DayCount{{Day: today, Status: store.StatusFailed, Count: 1}, {Day: today, Status: store.StatusNotRun, Count: 1}}
	if got := count(yesterday, "bob"); !reflect.DeepEqual(got, want) {
		t.Errorf("bob's: %+v, want %+v", got, want)
	}
	if got := count(time.Now().Add(time.Hour), ""); len(got) != 0 {
		t.Errorf("builds made in the future: %+v", got)
	}
}

func testSpecBuilds(t *testing.T, st store.Store) {
	f := seedBuilds(t, st)
	got, err := st.SpecBuilds(ctx(t), []string{"root-fh", "left-fh", "base-fh", "no-such-hash"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// root-fh has three builds (two spack versions): the newest two come, newest first.
	want := []store.SpecBuild{
		{FullHash: "left-fh", ID: f.leftAlice, Status: store.StatusSuccess},
		{FullHash: "root-fh", ID: f.root18, Status: store.StatusNotRun},
		{FullHash: "root-fh", ID: f.rootBob, Status: store.StatusFailed},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SpecBuilds: %+v, want %+v", got, want)
	}
	if got, err := st.SpecBuilds(ctx(t), nil, 2); err != nil || len(got) != 0 {
		t.Errorf("SpecBuilds of no hash: %v %v", got, err)
	}
}

func testMatrixCounts(t *testing.T, st store.Store) {
	seedBuilds(t, st)
	got, err := st.MatrixCounts(ctx(t), "root")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b store.MatrixCount) int {
		if a.Status < b.Status {
			return -1
		}
		if a.Status > b.Status {
			return 1
		}
		return 0
	})
	want := []store.MatrixCount{
		{Version: "1.0", Compiler: "gcc@12.2.0", Arch: "linux-debian12", Status: store.StatusFailed, Count: 1},
		{Version: "1.0", Compiler: "gcc@12.2.0", Arch: "linux-debian12", Status: store.StatusNotRun, Count: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MatrixCounts(root): %+v, want %+v", got, want)
	}
	if got, err := st.MatrixCounts(ctx(t), "no-such-package"); err != nil || len(got) != 0 {
		t.Errorf("MatrixCounts of an unknown package: %v %v", got, err)
	}
}

// testOrderedPages pages through the builds two at a time in each order and finds every
// build once, in the order's sequence.
func testOrderedPages(t *testing.T, st store.Store) {
	seedBuilds(t, st)
	all, err := st.ListBuilds(ctx(t), store.BuildQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []string{store.OrderUpdated, store.OrderName, store.OrderStatus} {
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b store.Build) int {
			ka, kb := a.OrderKey(order), b.OrderKey(order)
			if order == store.OrderUpdated {
				ka, kb = kb, ka // newest first
			}
			if ka != kb {
				if ka < kb {
					return -1
				}
				return 1
			}
			return int(b.ID - a.ID)
		})
		var got []int64
		q := store.BuildQuery{Order: order, Limit: 2}
		for range 10 {
			page, err := st.ListBuilds(ctx(t), q)
			if err != nil {
				t.Fatalf("%s: %v", order, err)
			}
			for _, b := range page {
				got = append(got, b.ID)
			}
			if len(page) < q.Limit {
				break
			}
			last := page[len(page)-1]
			q.AfterID, q.AfterKey = last.ID, last.OrderKey(order)
		}
		var wantIDs []int64
		for _, b := range want {
			wantIDs = append(wantIDs, b.ID)
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("order %s: pages give %v, want %v", order, got, wantIDs)
		}
	}
}
