package sqlite

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/db"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/migrations"
	"github.com/spackmon/spackmon/services/ingest/store"
	"github.com/spackmon/spackmon/services/ingest/store/internal/readsql"
)

// likeOnly is the search as it was before the trigram indexes: LIKE over every row.
var likeOnly = readsql.New(
	func(n int) string { return "?" + strconv.Itoa(n) },
	like,
	func(param string) string { return param },
)

// searchAlphabet mixes cases (ASCII and not, which LIKE and the index fold differently),
// FTS5 query syntax and LIKE's wildcards, few enough that random texts share substrings.
var searchAlphabet = []rune(`aAbBcéÉ"*-:^()%_\ .1`)

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(searchAlphabet[r.IntN(len(searchAlphabet))])
	}
	return b.String()
}

// flipCase changes the case of some of text's letters.
func flipCase(r *rand.Rand, text string) string {
	out := []rune(text)
	for i, c := range out {
		if r.IntN(2) == 0 {
			if u := []rune(strings.ToUpper(string(c))); len(u) == 1 && u[0] != c {
				out[i] = u[0]
			} else if l := []rune(strings.ToLower(string(c))); len(l) == 1 {
				out[i] = l[0]
			}
		}
	}
	return string(out)
}

func openSearchStore(t *testing.T) *Store {
	st := New(Migrated(t))
	t.Cleanup(func() { st.Close() })
	return st
}

// seedSearch writes specs (some first stored as stubs, then filled), CDash builds, builds
// on random hosts, and prunes a few builds; it returns the texts it stored.
func seedSearch(t *testing.T, st *Store, r *rand.Rand) []string {
	ctx := context.Background()
	var texts []string
	node := func(name, version, hash string, deps ...spackspec.Dep) spackspec.Node {
		texts = append(texts, name, version, hash)
		return spackspec.Node{Name: name, Version: version, FullHash: hash, Hash: "dag-" + hash, Deps: deps}
	}
	var hashes []string
	for i := range 40 {
		hash := randomText(r, 12) + strconv.Itoa(i)
		stub := spackspec.Node{}
		if i%2 == 1 {
			// A dependency stored before its own spec: a stub, filled below.
			stub = node(randomText(r, 1+r.IntN(8)), "", "stub-"+hash)
		}
		nodes := []spackspec.Node{node(randomText(r, 1+r.IntN(10)), randomText(r, r.IntN(6)), hash)}
		if stub.Name != "" {
			nodes[0].Deps = []spackspec.Dep{{Name: stub.Name, Ref: stub.FullHash, Index: -1}}
		}
		if _, err := st.PutSpec(ctx, "1.0", &spackspec.Document{Nodes: nodes}); err != nil {
			t.Fatalf("PutSpec: %v", err)
		}
		if stub.Name != "" {
			filled := node(stub.Name, randomText(r, 1+r.IntN(5)), stub.FullHash)
			if _, err := st.PutSpec(ctx, "1.0", &spackspec.Document{Nodes: []spackspec.Node{filled}}); err != nil {
				t.Fatalf("PutSpec filling a stub: %v", err)
			}
			hashes = append(hashes, stub.FullHash)
		}
		hashes = append(hashes, hash)
	}
	// CDash builds of stored specs, older than the specs' builds below: the first pruned.
	for i := range 30 {
		k := store.CDashKey{Source: store.SourceCDash, Project: randomText(r, r.IntN(8)), Site: "s",
			BuildName: randomText(r, 1+r.IntN(10)), Stamp: strconv.Itoa(i)}
		texts = append(texts, k.Project, k.BuildName)
		p := store.CDashPart{Key: k, Env: store.BuildEnv{Hostname: "h"}, SpecName: "cdash", SpecHash: "dag-" + hashes[i]}
		if _, err := st.PutCDashPart(ctx, store.Actor{Name: "alice"}, p); err != nil {
			t.Fatalf("PutCDashPart: %v", err)
		}
	}
	for i, hash := range hashes {
		host := randomText(r, 1+r.IntN(10))
		texts = append(texts, host)
		env := store.BuildEnv{Hostname: host, KernelVersion: "6.1", HostOS: "os", HostTarget: "t", Platform: "linux"}
		if _, err := st.GetOrCreateBuild(ctx, store.NewBuild{FullHash: hash, SpackVersion: "1.0", Env: env, Owner: "o" + strconv.Itoa(i%3)}); err != nil {
			t.Fatalf("GetOrCreateBuild: %v", err)
		}
	}
	// The oldest builds go, CDash rows with them.
	if pruned, err := st.PruneBuilds(ctx, store.PruneQuery{BuildsBefore: time.Now().Add(time.Hour), Limit: 10}); err != nil || len(pruned) != 10 {
		t.Fatalf("PruneBuilds: %d builds, %v", len(pruned), err)
	}
	return texts
}

// The trigram indexes answer a search exactly as LIKE over every row did: substrings of
// what is stored, in mixed case, with quotes, FTS5 syntax and LIKE wildcards, and random
// texts. The indexes also still match their tables after stubs filled and builds pruned.
func TestSearchIndexAnswersAsLike(t *testing.T) {
	st := openSearchStore(t)
	r := rand.New(rand.NewPCG(15, 3))
	texts := seedSearch(t, st, r)
	ctx := context.Background()
	// The specs index searched is the one migration 00017 rebuilt from the stored rows.
	if err := db.MigrateDownTo(ctx, st.db.Write, db.DialectSQLite, migrations.SQLite, 16, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, st.db.Write, db.DialectSQLite, migrations.SQLite, db.WithVersionTable(migrations.VersionTable)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"specs", "build_environments", "cdash_builds"} {
		if _, err := st.db.Write.ExecContext(ctx, "INSERT INTO "+table+"_search ("+table+"_search) VALUES ('integrity-check')"); err != nil {
			t.Errorf("%s_search integrity-check: %v", table, err)
		}
	}
	found := 0
	for i := range 800 {
		var text string
		if i%4 == 3 {
			text = randomText(r, readsql.SearchIndexMinChars+r.IntN(3))
		} else {
			stored := []rune(texts[r.IntN(len(texts))])
			if len(stored) == 0 {
				continue
			}
			from := r.IntN(len(stored))
			text = flipCase(r, string(stored[from:min(len(stored), from+1+r.IntN(6))]))
		}
		if i%10 == 9 {
			// Stored texts hold no NUL, but a search may: it must match nothing, not fail.
			text += "\x00" + text
		}
		q := store.BuildQuery{Text: text, Limit: 1000}
		got, err := st.ListBuilds(ctx, q)
		if err != nil {
			t.Fatalf("ListBuilds(%q): %v", text, err)
		}
		if indexed, _ := reads.ListBuilds(q); len([]rune(text)) >= readsql.SearchIndexMinChars && !strings.Contains(text, "\x00") && !strings.Contains(indexed, "specs_search MATCH") {
			t.Fatalf("search %q does not read the index: %s", text, indexed)
		}
		query, args := likeOnly.ListBuilds(q)
		want, err := st.readBuilds(ctx, query, args...)
		if err != nil {
			t.Fatalf("LIKE search %q: %v", text, err)
		}
		if !slices.Equal(buildIDs(got), buildIDs(want)) {
			t.Errorf("search %q: builds %v, LIKE finds %v", text, buildIDs(got), buildIDs(want))
		}
		if len(want) > 0 && len([]rune(text)) >= readsql.SearchIndexMinChars {
			found++
		}
	}
	if found < 100 {
		t.Errorf("only %d indexed searches found builds: the test compares too little", found)
	}
}

func buildIDs(bs []store.Build) []int64 {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}
