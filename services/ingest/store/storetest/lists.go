package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var listTests = []namedTest{
	{Name: "BuildFilters", Fn: testListBuildFilters},
	{Name: "BuildPages", Fn: testListBuildPages},
	{Name: "SpecFiltersAndPages", Fn: testListSpecs},
}

type listFixture struct {
	rootAlice, leftAlice, rootBob, rightAliceHost2, root18 int64
}

func seedBuilds(t *testing.T, st store.Store) listFixture {
	putSpec(t, st, diamond(""))
	if _, err := st.PutSpec(ctx(t), "0.18.0", diamond("")); err != nil {
		t.Fatal(err)
	}
	var f listFixture
	f.rootAlice = newBuild(t, st, "root-fh", env1, "alice", "Nightly").Build.ID
	f.leftAlice = newBuild(t, st, "left-fh", env1, "alice", "release_100%").Build.ID
	f.rootBob = newBuild(t, st, "root-fh", env1, "bob").Build.ID
	f.rightAliceHost2 = newBuild(t, st, "right-fh", env2, "alice", "nightly").Build.ID
	res, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "root-fh", SpackVersion: "0.18.0", Env: env2, Owner: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	f.root18 = res.Build.ID
	setStatus(t, st, alice, f.leftAlice, store.StatusSuccess)
	setStatus(t, st, bob, f.rootBob, store.StatusFailed)
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: f.rootAlice, Name: "build", Status: "ERROR",
		Events: []logparse.Event{event(logparse.Error, 1, "e")}})
	return f
}

func listIDs(t testing.TB, st store.Store, q store.BuildQuery) []int64 {
	t.Helper()
	builds, err := st.ListBuilds(ctx(t), q)
	if err != nil {
		t.Fatalf("ListBuilds(%+v): %v", q, err)
	}
	ids := make([]int64, len(builds))
	for i, b := range builds {
		ids[i] = b.ID
	}
	return ids
}

func testListBuildFilters(t *testing.T, st store.Store) {
	f := seedBuilds(t, st)
	all := []int64{f.root18, f.rightAliceHost2, f.rootBob, f.leftAlice, f.rootAlice}
	cases := []struct {
		q    store.BuildQuery
		want []int64
	}{
		{store.BuildQuery{}, all},
		{store.BuildQuery{Status: store.StatusNotRun}, []int64{f.root18, f.rightAliceHost2, f.rootAlice}},
		{store.BuildQuery{Status: store.StatusFailed}, []int64{f.rootBob}},
		{store.BuildQuery{Tag: "NIGHTLY"}, []int64{f.rightAliceHost2, f.rootAlice}},
		{store.BuildQuery{Tag: "night"}, nil},
		{store.BuildQuery{SpecName: "root"}, []int64{f.root18, f.rootBob, f.rootAlice}},
		{store.BuildQuery{Owner: "bob"}, []int64{f.root18, f.rootBob}},
		{store.BuildQuery{Hostname: "host2"}, []int64{f.root18, f.rightAliceHost2}},
		{store.BuildQuery{SpackVersion: "0.18.0"}, []int64{f.root18}},
		{store.BuildQuery{Owner: "alice", Hostname: "host1", Status: store.StatusNotRun}, []int64{f.rootAlice}},
		{store.BuildQuery{Text: "RIG"}, []int64{f.rightAliceHost2}},             // spec name
		{store.BuildQuery{Text: "HOST2"}, []int64{f.root18, f.rightAliceHost2}}, // hostname
		{store.BuildQuery{Text: "left-f"}, []int64{f.leftAlice}},                // full hash, by its start
		{store.BuildQuery{Text: "LEFT-FH"}, []int64{f.leftAlice}},
		{store.BuildQuery{Text: "eft-fh"}, nil},                                    // not by a piece of its middle
		{store.BuildQuery{Text: "3.0"}, []int64{f.rightAliceHost2}},                // version
		{store.BuildQuery{Text: "ightl"}, []int64{f.rightAliceHost2, f.rootAlice}}, // tag
		{store.BuildQuery{Text: "GCC@12"}, all},                                    // compiler
		{store.BuildQuery{Text: "100%"}, []int64{f.leftAlice}},
		{store.BuildQuery{Text: "%"}, []int64{f.leftAlice}}, // wildcards are literal
		{store.BuildQuery{Text: "_"}, []int64{f.leftAlice}},
		{store.BuildQuery{Text: "nothing-like-it"}, nil},
	}
	for _, c := range cases {
		if got := listIDs(t, st, c.q); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("ListBuilds(%+v) = %v, want %v", c.q, got, c.want)
		}
	}

	// The same package under two Spack versions is two specs; a spec id keeps its own builds.
	for version, want := range map[string][]int64{sv: {f.rootBob, f.rootAlice}, "0.18.0": {f.root18}} {
		sp, err := st.GetSpec(ctx(t), "root-fh", version)
		if err != nil {
			t.Fatal(err)
		}
		if got := listIDs(t, st, store.BuildQuery{SpecID: sp.ID}); !slices.Equal(got, want) {
			t.Errorf("builds of spec %d (root-fh, %s) = %v, want %v", sp.ID, version, got, want)
		}
	}

	builds, err := st.ListBuilds(ctx(t), store.BuildQuery{Owner: "alice", Hostname: "host1", Status: store.StatusNotRun})
	if err != nil || len(builds) != 1 {
		t.Fatalf("ListBuilds = %+v, %v", builds, err)
	}
	b := builds[0]
	if !slices.Equal(b.Tags, []string{"Nightly"}) || len(b.Phases) != 1 || b.Phases[0].ErrorCount != 1 ||
		b.Spec.Compiler != "gcc@12.2.0" || b.Env != env1 {
		t.Fatalf("listed build = %+v", b)
	}
	if got := getBuild(t, st, b.ID); fmt.Sprint(got) != fmt.Sprint(b) {
		t.Fatalf("listed %+v\n   got %+v", b, got)
	}
}

func testListBuildPages(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	var created []int64
	for i := range 7 {
		env := env1
		env.Hostname = fmt.Sprintf("node%02d", i)
		created = append(created, newBuild(t, st, "root-fh", env, "alice").Build.ID)
	}
	slices.Reverse(created)
	var seen []int64
	after := int64(0)
	for {
		page := listIDs(t, st, store.BuildQuery{Limit: 3, AfterID: after})
		seen = append(seen, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1]
	}
	if !slices.Equal(seen, created) {
		t.Fatalf("pages = %v, want %v (newest first)", seen, created)
	}
	if got := listIDs(t, st, store.BuildQuery{Limit: 2, Owner: "alice", AfterID: created[1]}); !slices.Equal(got, created[2:4]) {
		t.Fatalf("filtered page = %v, want %v", got, created[2:4])
	}
}

func testListSpecs(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	putSpec(t, st, diamond("x-"))
	if _, err := st.PutSpec(ctx(t), "0.18.0", diamond("")); err != nil {
		t.Fatal(err)
	}
	all := allSpecs(t, st, store.SpecQuery{})
	if len(all) != 12 {
		t.Fatalf("%d specs, want 12", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("specs not in id order: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	check := func(q store.SpecQuery, want int) {
		t.Helper()
		got, err := st.ListSpecs(ctx(t), q)
		if err != nil || len(got) != want {
			t.Fatalf("ListSpecs(%+v) = %d, %v; want %d", q, len(got), err, want)
		}
	}
	check(store.SpecQuery{Name: "root"}, 2)
	check(store.SpecQuery{Name: "root", SpackVersion: "0.18.0"}, 1)
	check(store.SpecQuery{Version: "4.0"}, 3)
	check(store.SpecQuery{SpackVersion: sv}, 8)
	check(store.SpecQuery{Limit: 5}, 5)
	check(store.SpecQuery{AfterID: all[9].ID}, 2)
	page, err := st.ListSpecs(ctx(t), store.SpecQuery{Name: "x-root"})
	if err != nil || len(page) != 1 {
		t.Fatal(page, err)
	}
	if sp := page[0]; sp.Compiler != "gcc@12.2.0" || sp.Arch != "linux-debian12-skylake" || sp.Version != "1.0" ||
		sp.Parameters == "" {
		t.Fatalf("listed spec = %+v", sp)
	}
	// A listed spec has the dependencies GetSpec gives it (its dependents only GetSpec).
	for _, sp := range all {
		got, err := st.GetSpec(ctx(t), sp.FullHash, sp.SpackVersion)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sp.Deps, got.Deps) || sp.Dependents != nil {
			t.Fatalf("listed %s: deps %v, dependents %v; GetSpec's deps: %v", sp.Name, sp.Deps, sp.Dependents, got.Deps)
		}
	}
	if root := page[0]; len(root.Deps) == 0 {
		t.Fatalf("listed root without its dependencies: %+v", root)
	}
}
