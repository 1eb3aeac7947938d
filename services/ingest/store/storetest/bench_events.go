package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/spackmon/spackmon/pkg/logparse"
	"github.com/spackmon/spackmon/services/ingest/store"
)

// benchListEvents lists every event of a build with a 1 MiB log holding a GCC warning
// block every 4 KiB, 100 events a page: with each event's context stored beside it
// ("copy", as before migration 00011) and with the context read from the log ("fromLog").
func benchListEvents(b *testing.B, open func(tb testing.TB) store.Store) {
	log := benchLog(1 << 20)
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		b.Fatal(err)
	}
	compressed := enc.EncodeAll([]byte(log), nil)
	found := logparse.Parse([]byte(log))
	for _, fromLog := range []bool{false, true} {
		name := map[bool]string{false: "copy", true: "fromLog"}[fromLog]
		b.Run(name, func(b *testing.B) {
			st := openFor(b, open)
			putSpec(b, st, diamond(""))
			id := newBuild(b, st, "root-fh", env1, "alice").Build.ID
			updatePhase(b, st, alice, store.PhaseUpdate{BuildID: id, Name: "build", Status: store.PhaseStatusError,
				Output: compressed, OutputBytes: int64(len(log)), Events: found.Events, ContextInOutput: fromLog,
				ErrorsTotal: int64(found.Errors), WarningsTotal: int64(found.Warnings)})
			c := ctx(b)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				n := 0
				for after := (store.EventKey{}); ; {
					page, err := st.ListEvents(c, store.EventQuery{BuildID: id, After: after, Limit: 100})
					if err != nil {
						b.Fatal(err)
					}
					n += len(page)
					if len(page) < 100 {
						break
					}
					after = page[len(page)-1].Key
				}
				if n != len(found.Events) {
					b.Fatalf("listed %d events, want %d", n, len(found.Events))
				}
			}
		})
	}
}

// benchLog is a build log of about size bytes: compiler command lines with a warning block
// (the warning, the source line, the caret) every 4 KiB.
func benchLog(size int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, "libtool: compile:  gcc -DHAVE_CONFIG_H -I. -I../include -O2 -g -c src/file%d.c -fPIC -DPIC -o .libs/file%d.o\n", i, i)
		if i%30 == 29 {
			fmt.Fprintf(&sb, "src/file%d.c:%d:7: warning: unused variable 'tmp' [-Wunused-variable]\n  %d |   int tmp;\n      |       ^~~\n", i, i%400, i%400)
		}
	}
	return sb.String()
}
