package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/pkg/spackspec"
	"github.com/spackmon/spackmon/services/ingest/fingerprint"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// rollupWords name the failures of FailureRollup's builds: words, not numbers, so that no
// two fall into one fingerprint.
var rollupWords = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett", "kilo", "lima"}

// rollupBuild is what FailureRollup knows of one of its builds.
type rollupBuild struct {
	id                  int64
	pkg, compiler, host string
	at                  time.Time
	firstLine           map[string]int64 // fingerprint hash -> line of its first event
	kinds               map[string]logparse.Kind
	events              []logparse.Event
}

// FailureRollup checks that the failure list, which reads a rollup kept at ingest time,
// answers what a direct count over the builds answers: random builds of random packages,
// compilers and hosts spread over four months, each reporting random failures, listed for
// windows that start mid-day, on a day and on a month boundary. Then some builds report
// their phase again with fewer failures, which takes them out of the rollup, and the lists
// are checked again. setCreated sets a build's creation time, as the backend test can.
// upgrade, unless nil, runs after the builds are reported: a store at an older version
// with it migrated to the newest checks that the migration rolls up what was there.
func FailureRollup(t *testing.T, st store.Store, setCreated func(buildID int64, at time.Time) error, upgrade func() error) {
	rng := rand.New(rand.NewPCG(14, 2))
	compilers := []*spackspec.Compiler{gcc, {Name: "clang", Version: "15.0.7"}}
	var hashes []string
	for p := range 4 {
		for c, comp := range compilers {
			node := n(fmt.Sprintf("pkg%d", p), "1.0", fmt.Sprintf("rollup-%d-%d-fh", p, c))
			node.Compiler = comp
			putSpec(t, st, doc(node))
			hashes = append(hashes, node.FullHash)
		}
	}
	now := time.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	windows := []time.Time{now.Add(-12 * time.Hour), now.Add(-7*24*time.Hour - 5*time.Hour), day.AddDate(0, 0, -9),
		monthStart, monthStart.AddDate(0, -1, 0), now.Add(-30 * 24 * time.Hour), now.Add(-75*24*time.Hour + time.Minute),
		now.AddDate(-1, 0, 0), time.Time{}.AddDate(2000, 0, 0)}
	var builds []*rollupBuild
	for i := range 40 {
		spec := hashes[rng.IntN(len(hashes))]
		env := env1
		env.Hostname = fmt.Sprintf("rollup-host%d-%d", rng.IntN(5), i)
		if i%3 == 0 {
			env.Hostname = fmt.Sprintf("rollup-host%d", rng.IntN(3))
		}
		at := now.Add(-time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
		if i < 7 {
			// Builds at the start of each window and just after it, in the part of its
			// first day that the list reads from the builds' own rows.
			at = windows[i].Add(time.Duration(i%2) * time.Minute)
		}
		res := newBuild(t, st, spec, env, "alice")
		if !res.BuildCreated {
			continue // the same spec on the same host again is the same build
		}
		if err := setCreated(res.Build.ID, at); err != nil {
			t.Fatal(err)
		}
		b := &rollupBuild{id: res.Build.ID, pkg: res.Build.SpecName, compiler: compilerOf(spec, compilers), host: env.Hostname, at: at}
		for line := range 1 + rng.IntN(6) {
			kind := logparse.Error
			if rng.IntN(4) == 0 {
				kind = logparse.Warning
			}
			word := rollupWords[int(float64(len(rollupWords))*rng.Float64()*rng.Float64())]
			b.events = append(b.events, event(kind, line+1, "src/x.c:"+fmt.Sprint(line+3)+": "+string(kind)+": undefined symbol "+word))
		}
		postRollupPhase(t, st, b, b.events)
		builds = append(builds, b)
	}
	if upgrade != nil {
		if err := upgrade(); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
	}
	check := func(stage string) {
		t.Helper()
		for _, since := range windows {
			for _, kind := range []logparse.Kind{logparse.Error, logparse.Warning} {
				for _, limit := range []int{3, store.MaxFailures} {
					got, err := st.ListFailures(ctx(t), store.FailureQuery{Kind: kind, Since: since, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					want := directFailures(builds, kind, since, limit)
					if !sameFailures(got, want) {
						t.Errorf("%s: ListFailures(%s since %s, limit %d):\n got %s\nwant %s", stage, kind, since, limit,
							describeFailures(got), describeFailures(want))
					}
					if limit == store.MaxFailures {
						checkOnePrint(t, st, stage, store.FailureQuery{Kind: kind, Since: since, Limit: 1}, want)
					}
				}
			}
		}
	}
	check("as reported")
	for _, b := range builds[:25] {
		if len(b.events) > 1 {
			b.events = b.events[:len(b.events)/2]
			postRollupPhase(t, st, b, b.events)
		}
	}
	check("after some phases were reported again")
}

// postRollupPhase reports b's phase with events, and makes b's fingerprints theirs.
func postRollupPhase(t *testing.T, st store.Store, b *rollupBuild, events []logparse.Event) {
	t.Helper()
	updatePhase(t, st, alice, store.PhaseUpdate{BuildID: b.id, Name: "build", Status: store.PhaseStatusError, Events: events})
	b.firstLine, b.kinds = map[string]int64{}, map[string]logparse.Kind{}
	for _, e := range events {
		h := fingerprint.Of(e.Kind, e.Text).Hash
		if _, ok := b.firstLine[h]; !ok {
			b.firstLine[h], b.kinds[h] = int64(e.LineNo), e.Kind
		}
	}
}

func compilerOf(fullHash string, compilers []*spackspec.Compiler) string {
	c := compilers[0]
	if strings.HasSuffix(fullHash, "-1-fh") {
		c = compilers[1]
	}
	return c.Name + "@" + c.Version
}

// directFailures counts the failure list over builds themselves.
func directFailures(builds []*rollupBuild, kind logparse.Kind, since time.Time, limit int) []store.Failure {
	type acc struct {
		f                          store.Failure
		packages, compilers, hosts map[string]bool
	}
	by := map[string]*acc{}
	for _, b := range builds {
		if b.at.Before(since) {
			continue
		}
		for h, line := range b.firstLine {
			if b.kinds[h] != kind {
				continue
			}
			a := by[h]
			if a == nil {
				a = &acc{packages: map[string]bool{}, compilers: map[string]bool{}, hosts: map[string]bool{}}
				a.f.Hash = h
				by[h] = a
			}
			a.f.Builds++
			a.packages[b.pkg], a.compilers[b.compiler], a.hosts[b.host] = true, true, true
			if b.id > a.f.Example.BuildID {
				a.f.Example.BuildID, a.f.Example.LineNo = b.id, line
			}
		}
	}
	var list []store.Failure
	for _, a := range by {
		a.f.Packages, a.f.Compilers, a.f.Hosts = int64(len(a.packages)), int64(len(a.compilers)), int64(len(a.hosts))
		list = append(list, a.f)
	}
	slices.SortFunc(list, func(x, y store.Failure) int {
		if x.Builds != y.Builds {
			return int(y.Builds - x.Builds)
		}
		return strings.Compare(x.Hash, y.Hash)
	})
	return list[:min(limit, len(list))]
}

// sameFailures compares what directFailures computes.
func sameFailures(got, want []store.Failure) bool {
	return slices.EqualFunc(got, want, func(g, w store.Failure) bool {
		return g.Hash == w.Hash && g.Builds == w.Builds && g.Packages == w.Packages && g.Compilers == w.Compilers &&
			g.Hosts == w.Hosts && g.Example.BuildID == w.Example.BuildID && g.Example.LineNo == w.Example.LineNo
	})
}

func describeFailures(list []store.Failure) string {
	var b strings.Builder
	for _, f := range list {
		fmt.Fprintf(&b, "[%s builds=%d packages=%d compilers=%d hosts=%d example=%d:%d] ", f.Hash, f.Builds, f.Packages,
			f.Compilers, f.Hosts, f.Example.BuildID, f.Example.LineNo)
	}
	return b.String()
}

// checkOnePrint asks for single fingerprints of the list want (the whole list of the query
// q): the first and the last two, whatever their rank, each alone; and one the window has not.
func checkOnePrint(t *testing.T, st store.Store, stage string, q store.FailureQuery, want []store.Failure) {
	t.Helper()
	picks := map[int]bool{0: true, len(want) - 2: true, len(want) - 1: true}
	for i := range want {
		if !picks[i] {
			continue
		}
		q.Fingerprint = want[i].Hash
		if got, err := st.ListFailures(ctx(t), q); err != nil || !sameFailures(got, want[i:i+1]) {
			t.Errorf("%s: ListFailures(%s since %s, fingerprint %s of rank %d) = %s, %v", stage, q.Kind, q.Since, q.Fingerprint, i,
				describeFailures(got), err)
		}
	}
	q.Fingerprint = "0123456789abcdef"
	if got, err := st.ListFailures(ctx(t), q); err != nil || len(got) != 0 {
		t.Errorf("%s: ListFailures of a fingerprint not in the window = %s, %v", stage, describeFailures(got), err)
	}
}
