package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/errs"
	"github.com/spackmon/spackmon/services/ingest/store"
)

var buildTests = []namedTest{
	{Name: "CreatedFlags", Fn: testBuildCreatedFlags},
	{Name: "FoundByDAGHash", Fn: testBuildByDAGHash},
	{Name: "FullHashMatchPreferred", Fn: testBuildPrefersFullHash},
	{Name: "UnknownSpec", Fn: testBuildUnknownSpec},
	{Name: "TagsCaseInsensitiveOnlyAdded", Fn: testBuildTags},
	{Name: "RepeatKeepsStatusAndPhases", Fn: testBuildRepeatKeepsState},
	{Name: "GetBuildReadModel", Fn: testGetBuild},
	{Name: "GetBuildUnknown", Fn: testGetBuildUnknown},
}

func testBuildCreatedFlags(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	first := newBuild(t, st, "root-fh", env1, "alice")
	if !first.BuildCreated || !first.EnvCreated || first.Build.ID == 0 ||
		first.Build.SpecFullHash != "root-fh" || first.Build.SpecName != "root" {
		t.Fatalf("first = %+v", first)
	}
	again := newBuild(t, st, "root-fh", env1, "alice")
	if again.BuildCreated || again.EnvCreated || again.Build != first.Build {
		t.Fatalf("repeat = %+v, first = %+v", again, first)
	}
	otherOwner := newBuild(t, st, "root-fh", env1, "bob")
	if !otherOwner.BuildCreated || otherOwner.EnvCreated || otherOwner.Build.ID == first.Build.ID {
		t.Fatalf("another owner = %+v", otherOwner)
	}
	otherEnv := newBuild(t, st, "root-fh", env2, "alice")
	if !otherEnv.BuildCreated || !otherEnv.EnvCreated {
		t.Fatalf("another environment = %+v", otherEnv)
	}
	otherSpec := newBuild(t, st, "left-fh", env1, "alice")
	if !otherSpec.BuildCreated || otherSpec.EnvCreated || otherSpec.Build.SpecName != "left" {
		t.Fatalf("another spec = %+v", otherSpec)
	}
	b := getBuild(t, st, first.Build.ID)
	if b.Status != store.StatusNotRun || b.Owner != "alice" || b.FinishedAt != nil {
		t.Fatalf("new build = %+v", b)
	}
}

// Spack v0.18 sends the root's DAG hash as full_hash.
func testBuildByDAGHash(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	res := newBuild(t, st, "h-root-fh", env1, "alice")
	if !res.BuildCreated || res.Build.SpecName != "root" || res.Build.SpecFullHash != "root-fh" {
		t.Fatalf("by DAG hash = %+v", res)
	}
	if again := newBuild(t, st, "root-fh", env1, "alice"); again.BuildCreated || again.Build.ID != res.Build.ID {
		t.Fatalf("by full hash = %+v, want the same build", again)
	}
}

func testBuildPrefersFullHash(t *testing.T, st store.Store) {
	// "decoy" is stored first and has root's full hash as its DAG hash.
	decoy := n("decoy", "1", "decoy-fh")
	decoy.Hash = "root-fh"
	putSpec(t, st, doc(decoy))
	putSpec(t, st, diamond(""))
	if res := newBuild(t, st, "root-fh", env1, "alice"); res.Build.SpecName != "root" {
		t.Fatalf("build spec = %s, want root", res.Build.SpecName)
	}
}

func testBuildUnknownSpec(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	_, err := st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "nope", SpackVersion: sv, Env: env1, Owner: "alice"})
	if !errs.Is(err, errs.SpecNotFound) {
		t.Fatalf("unknown hash: %v, want SpecNotFound", err)
	}
	if err.Error() != "The spec with full hash nope and spack version 0.17.1 does not exist." {
		t.Fatalf("message = %q", err.Error())
	}
	_, err = st.GetOrCreateBuild(ctx(t), store.NewBuild{FullHash: "root-fh", SpackVersion: "0.0.1", Env: env1, Owner: "alice"})
	if !errs.Is(err, errs.SpecNotFound) {
		t.Fatalf("other spack version: %v, want SpecNotFound", err)
	}
	if list, err := st.ListBuilds(ctx(t), store.BuildQuery{}); err != nil || len(list) != 0 {
		t.Fatalf("builds after refused requests = %d, %v", len(list), err)
	}
}

func testBuildTags(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	first := newBuild(t, st, "root-fh", env1, "alice", "Nightly", "x86")
	newBuild(t, st, "root-fh", env1, "alice", "NIGHTLY", "e4s")
	if tags := getBuild(t, st, first.Build.ID).Tags; !sameSet(tags, []string{"Nightly", "x86", "e4s"}) {
		t.Fatalf("tags = %q, want Nightly, x86, e4s", tags)
	}
	// Another build sharing a tag spelled differently uses the same tag.
	other := newBuild(t, st, "left-fh", env1, "alice", "nightly")
	if tags := getBuild(t, st, other.Build.ID).Tags; !slices.Equal(tags, []string{"Nightly"}) {
		t.Fatalf("other build tags = %q, want the first spelling", tags)
	}
	list, err := st.ListBuilds(ctx(t), store.BuildQuery{Tag: "NiGhTlY"})
	if err != nil || len(list) != 2 {
		t.Fatalf("builds tagged nightly = %d, %v; want 2", len(list), err)
	}
	// Tags are only added: a repeat without tags keeps them.
	newBuild(t, st, "root-fh", env1, "alice")
	if tags := getBuild(t, st, first.Build.ID).Tags; len(tags) != 3 {
		t.Fatalf("tags after a repeat without tags = %q", tags)
	}
}

func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func testBuildRepeatKeepsState(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	b := newBuild(t, st, "root-fh", env1, "alice")
	setStatus(t, st, alice, b.Build.ID, store.StatusSuccess)
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: b.Build.ID, Name: "install", Status: "SUCCESS", Output: []byte("x"), OutputBytes: 1})
	newBuild(t, st, "root-fh", env1, "alice")
	got := getBuild(t, st, b.Build.ID)
	if got.Status != store.StatusSuccess || len(got.Phases) != 1 || got.FinishedAt == nil {
		t.Fatalf("after a repeat: %+v", got)
	}
}

func testGetBuild(t *testing.T, st store.Store) {
	putSpec(t, st, diamond(""))
	before := time.Now().Add(-time.Minute)
	res := newBuild(t, st, "root-fh", env1, "alice", "ci")
	b := getBuild(t, st, res.Build.ID)
	want := store.SpecInfo{FullHash: "root-fh", Hash: "h-root-fh", Name: "root", Version: "1.0", SpackVersion: sv,
		Compiler: "gcc@12.2.0", Arch: "linux-debian12-skylake"}
	if b.ID != res.Build.ID || b.Spec != want || b.Env != env1 || b.Owner != "alice" ||
		!slices.Equal(b.Tags, []string{"ci"}) || len(b.Phases) != 0 || b.Phases == nil {
		t.Fatalf("build = %+v", b)
	}
	if b.CreatedAt.Before(before) || b.UpdatedAt.Before(b.CreatedAt) || b.CreatedAt.Location() != time.UTC {
		t.Fatalf("times: created %v updated %v", b.CreatedAt, b.UpdatedAt)
	}
}

func testGetBuildUnknown(t *testing.T, st store.Store) {
	if _, err := st.GetBuild(ctx(t), 424242); !errs.Is(err, errs.NotFound) {
		t.Fatalf("GetBuild(unknown) = %v, want NotFound", err)
	}
}
