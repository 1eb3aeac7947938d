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
	log := variedLog(256 << 10)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		b.Fatal(err)
	}
	compressed := enc.EncodeAll([]byte(log), nil)
	found := logparse.Parse([]byte(log))
	st := openFor(b, open)
	putSpec(b, st, diamond(""))
	ids := make([]int64, b.N)
	for i := range ids {
		env := env1
		env.Hostname = fmt.Sprintf("bench-host-%d", i)
		ids[i] = newBuild(b, st, "root-fh", env, "alice").Build.ID
		for _, name := range []string{"configure", "build"}[:earlier] {
			updatePhase(b, st, alice, store.PhaseUpdate{BuildID: ids[i], Name: name, Status: store.StatusSuccess,
				Output: compressed, OutputBytes: int64(len(log)), Events: found.Events, ContextInOutput: true,
				ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings)})
		}
	}
	c := ctx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range ids {
		if _, err := st.UpdatePhase(c, alice, store.PhaseUpdate{BuildID: id, Name: "install", Status: store.StatusSuccess,
			Output: compressed, OutputBytes: int64(len(log)), Events: found.Events, ContextInOutput: true,
			ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings)}); err != nil {
			b.Fatalf("UpdatePhase: %v", err)
		}
	}
}

// variedLog is benchLog with a different unused variable in each warning.
func variedLog(size int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, "libtool: compile:  gcc -DHAVE_CONFIG_H -I. -I../include -O2 -g -c src/file%d.c -fPIC -DPIC -o .libs/file%d.o\n", i, i)
		if i%30 == 29 {
			name := rollupWords[(i/30)%len(rollupWords)] + "_" + rollupWords[(i/30/len(rollupWords))%len(rollupWords)]
			fmt.Fprintf(&sb, "src/file%d.c:%d:7: warning: unused variable '%s' [-Wunused-variable]\n  %d |   int %s;\n      |       ^~~\n",
				i, i%400, name, i%400, name)
		}
	}
	return sb.String()
}
