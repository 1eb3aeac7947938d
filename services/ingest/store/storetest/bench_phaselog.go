package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// benchUpdatePhaseLog stores what the load tool's phases send, each on a new build: a
// 256 KiB log, compressed, with a warning block every 4 KiB whose warnings differ from each
// other (so each is a new fingerprint, the rollup's costly case) and the events parsed
// from it; "first" is a build's first phase, "third" one after two phases of the same log.
func benchUpdatePhaseLog(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, earlier := range []string{"first", "third"} {
		b.Run(earlier, func(b *testing.B) { benchPhaseAfter(b, open, map[string]int{"first": 0, "third": 2}[earlier]) })
	}
}

func benchPhaseAfter(b *testing.B, open func(tb testing.TB) store.Store, earlier int) {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		b.Fatal(err)
	}
	phase := func(buildID int64, name string, first int) store.PhaseUpdate {
		log := variedLog(256<<10, first)
		found := logparse.Parse([]byte(log))
		return store.PhaseUpdate{BuildID: buildID, Name: name, Status: store.StatusSuccess,
			Output: enc.EncodeAll([]byte(log), nil), OutputBytes: int64(len(log)), Events: found.Events, ContextInOutput: true,
			ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings)}
	}
	before := []store.PhaseUpdate{phase(0, "configure", 0), phase(0, "build", 50)}[:earlier]
	st := openFor(b, open)
	putSpec(b, st, diamond(""))
	ids := make([]int64, b.N)
	for i := range ids {
		env := env1
		env.Hostname = fmt.Sprintf("bench-host-%d", i)
		ids[i] = newBuild(b, st, "root-fh", env, "alice").Build.ID
		for _, p := range before {
			p.BuildID = ids[i]
			updatePhase(b, st, alice, p)
		}
	}
	last := phase(0, "install", earlier*50)
	c := ctx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range ids {
		last.BuildID = id
		if _, err := st.UpdatePhase(c, alice, last); err != nil {
			b.Fatalf("UpdatePhase: %v", err)
		}
	}
}

// variedLog is benchLog with a different unused variable in each warning, the first made of
// the words from first on.
func variedLog(size, first int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, "libtool: compile:  gcc -DHAVE_CONFIG_H -I. -I../include -O2 -g -c src/file%d.c -fPIC -DPIC -o .libs/file%d.o\n", i, i)
		if i%30 == 29 {
			w := first + i/30
			name := rollupWords[w%len(rollupWords)] + "_" + rollupWords[w/len(rollupWords)%len(rollupWords)]
			fmt.Fprintf(&sb, "src/file%d.c:%d:7: warning: unused variable '%s' [-Wunused-variable]\n  %d |   int %s;\n      |       ^~~\n",
				i, i%400, name, i%400, name)
		}
	}
	return sb.String()
}
